package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import org.apache.kafka.common.protocol.Readable;
import org.apache.kafka.common.protocol.Writable;

import java.nio.ByteBuffer;

/**
 * Kafka's {@link Readable}/{@link Writable} over a Netty {@link ByteBuf}, so generated message classes
 * read from and write to Netty buffers directly. {@link #readByteBuffer} returns a view, not a copy:
 * produce records stay in the request frame until the request is done.
 */
public final class ByteBufAccessor implements Readable, Writable {
    private final ByteBuf buf;

    public ByteBufAccessor(ByteBuf buf) {
        this.buf = buf;
    }

    public ByteBuf buf() {
        return buf;
    }

    @Override
    public byte readByte() {
        return buf.readByte();
    }

    @Override
    public short readShort() {
        return buf.readShort();
    }

    @Override
    public int readInt() {
        return buf.readInt();
    }

    @Override
    public long readLong() {
        return buf.readLong();
    }

    @Override
    public double readDouble() {
        return buf.readDouble();
    }

    @Override
    public byte[] readArray(int length) {
        if (length > buf.readableBytes()) {
            throw new RuntimeException("Tried to read " + length + " bytes, only " + buf.readableBytes() + " remain");
        }
        byte[] bytes = new byte[length];
        buf.readBytes(bytes);
        return bytes;
    }

    @Override
    public int readUnsignedVarint() {
        int value = 0;
        int shift = 0;
        while (true) {
            byte b = buf.readByte();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
            shift += 7;
            if (shift > 28) {
                throw new IllegalArgumentException("Varint is too long");
            }
        }
    }

    @Override
    public ByteBuffer readByteBuffer(int length) {
        if (length > buf.readableBytes()) {
            throw new RuntimeException("Tried to read " + length + " bytes, only " + buf.readableBytes() + " remain");
        }
        ByteBuffer view = buf.nioBuffer(buf.readerIndex(), length);
        buf.skipBytes(length);
        return view;
    }

    @Override
    public int readVarint() {
        int raw = readUnsignedVarint();
        return (raw >>> 1) ^ -(raw & 1);
    }

    @Override
    public long readVarlong() {
        long value = 0L;
        int shift = 0;
        while (true) {
            byte b = buf.readByte();
            value |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (value >>> 1) ^ -(value & 1);
            }
            shift += 7;
            if (shift > 63) {
                throw new IllegalArgumentException("Varlong is too long");
            }
        }
    }

    @Override
    public int remaining() {
        return buf.readableBytes();
    }

    @Override
    public Readable slice() {
        return new ByteBufAccessor(buf.slice());
    }

    @Override
    public void writeByte(byte val) {
        buf.writeByte(val);
    }

    @Override
    public void writeShort(short val) {
        buf.writeShort(val);
    }

    @Override
    public void writeInt(int val) {
        buf.writeInt(val);
    }

    @Override
    public void writeLong(long val) {
        buf.writeLong(val);
    }

    @Override
    public void writeDouble(double val) {
        buf.writeDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        buf.writeBytes(arr);
    }

    @Override
    public void writeUnsignedVarint(int i) {
        while ((i & 0xffffff80) != 0) {
            buf.writeByte((i & 0x7f) | 0x80);
            i >>>= 7;
        }
        buf.writeByte(i);
    }

    @Override
    public void writeByteBuffer(ByteBuffer src) {
        buf.writeBytes(src.duplicate());
    }

    @Override
    public void writeVarint(int i) {
        writeUnsignedVarint((i << 1) ^ (i >> 31));
    }

    @Override
    public void writeVarlong(long v) {
        long zigzag = (v << 1) ^ (v >> 63);
        while ((zigzag & 0xffffffffffffff80L) != 0L) {
            buf.writeByte(((int) zigzag & 0x7f) | 0x80);
            zigzag >>>= 7;
        }
        buf.writeByte((int) zigzag);
    }
}
