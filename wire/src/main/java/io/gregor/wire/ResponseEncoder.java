package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultFileRegion;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;

import java.nio.ByteBuffer;

/**
 * Writes a response frame: int32 size, response header, body. The buffer is sized exactly from the
 * messages' own size computation; records held in segment files go out as file regions (sendfile)
 * between slices of that buffer.
 */
public final class ResponseEncoder extends ChannelOutboundHandlerAdapter {

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof KafkaResponse response)) {
            ctx.write(msg, promise);
            return;
        }
        RequestHeader requestHeader = response.requestHeader();
        short version = response.version();
        short headerVersion = requestHeader.apiKey().responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(requestHeader.correlationId());
        ApiMessage body = response.body();

        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        body.addSize(size, cache, version);

        ByteBuf buf = ctx.alloc().buffer(4 + size.sizeExcludingZeroCopy());
        FrameWriter out = new FrameWriter(ctx, buf);
        try {
            buf.writeInt(size.totalSize());
            header.write(out, cache, headerVersion);
            body.write(out, cache, version);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        out.finish(promise);
    }

    /** Our Writable: heap bytes into one buffer, segment records as file regions in between. */
    private static final class FrameWriter implements org.apache.kafka.common.protocol.Writable {
        private final ChannelHandlerContext ctx;
        private final ByteBuf buf;
        private final ByteBufAccessor accessor;
        private int sentUpTo;

        FrameWriter(ChannelHandlerContext ctx, ByteBuf buf) {
            this.ctx = ctx;
            this.buf = buf;
            this.accessor = new ByteBufAccessor(buf);
        }

        @Override
        public void writeRecords(BaseRecords records) {
            if (records instanceof SegmentRecords segment) {
                if (segment.sizeInBytes() > 0) {
                    ctx.write(buf.retainedSlice(sentUpTo, buf.writerIndex() - sentUpTo), ctx.voidPromise());
                    sentUpTo = buf.writerIndex();
                    ctx.write(new SharedFileRegion(segment), ctx.voidPromise());
                }
            } else if (records instanceof MemoryRecords memory) {
                writeByteBuffer(memory.buffer());
            } else if (records != null) {
                throw new IllegalArgumentException("Cannot write records of type " + records.getClass());
            }
        }

        /** Writes what is left of the buffer and hands the buffer's ownership to the channel. */
        void finish(ChannelPromise promise) {
            if (sentUpTo == 0) {
                ctx.write(buf, promise); // no file regions: the whole frame is this one buffer
            } else {
                ctx.write(buf.retainedSlice(sentUpTo, buf.writerIndex() - sentUpTo), promise);
                buf.release();
            }
        }

        @Override
        public void writeByte(byte val) {
            accessor.writeByte(val);
        }

        @Override
        public void writeShort(short val) {
            accessor.writeShort(val);
        }

        @Override
        public void writeInt(int val) {
            accessor.writeInt(val);
        }

        @Override
        public void writeLong(long val) {
            accessor.writeLong(val);
        }

        @Override
        public void writeDouble(double val) {
            accessor.writeDouble(val);
        }

        @Override
        public void writeByteArray(byte[] arr) {
            accessor.writeByteArray(arr);
        }

        @Override
        public void writeUnsignedVarint(int i) {
            accessor.writeUnsignedVarint(i);
        }

        @Override
        public void writeByteBuffer(ByteBuffer src) {
            accessor.writeByteBuffer(src);
        }

        @Override
        public void writeVarint(int i) {
            accessor.writeVarint(i);
        }

        @Override
        public void writeVarlong(long i) {
            accessor.writeVarlong(i);
        }
    }

    /** A file region over a segment's channel that storage owns: releasing it must not close the file. */
    private static final class SharedFileRegion extends DefaultFileRegion {
        SharedFileRegion(SegmentRecords records) {
            super(records.channel(), records.position(), records.sizeInBytes());
        }

        @Override
        protected void deallocate() {
            // The channel belongs to the segment; storage closes it when the segment is deleted.
        }
    }
}
