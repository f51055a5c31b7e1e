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
    /** TLS records are 16 KiB at most: segment bytes are read and encrypted a record's worth at a time. */
    private static final int TLS_CHUNK_BYTES = 16 * 1024;
    private final boolean zeroCopy;

    /** Plaintext: segment records go out as file regions (sendfile). */
    public ResponseEncoder() {
        this(true);
    }

    /**
     * @param zeroCopy false on TLS listeners, whose SslHandler takes only buffers: segment records are then
     *                 written as chunked reads (a ChunkedWriteHandler in the pipeline pulls one chunk at a time
     *                 while the channel is writable, so a large fetch holds one chunk, not the whole answer)
     */
    public ResponseEncoder(boolean zeroCopy) {
        this.zeroCopy = zeroCopy;
    }

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
        FrameWriter out = new FrameWriter(ctx, buf, zeroCopy);
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
        private final boolean zeroCopy;
        private int sentUpTo;

        FrameWriter(ChannelHandlerContext ctx, ByteBuf buf, boolean zeroCopy) {
            this.ctx = ctx;
            this.buf = buf;
            this.zeroCopy = zeroCopy;
            this.accessor = new ByteBufAccessor(buf);
        }

        @Override
        public void writeRecords(BaseRecords records) {
            if (records instanceof SegmentRecords segment) {
                if (segment.sizeInBytes() > 0) {
                    ctx.write(buf.retainedSlice(sentUpTo, buf.writerIndex() - sentUpTo), ctx.voidPromise());
                    sentUpTo = buf.writerIndex();
                    if (zeroCopy) {
                        ctx.write(new SharedFileRegion(segment), ctx.voidPromise());
                    } else {
                        try {
                            ctx.write(new SharedChunkedFile(segment), ctx.newPromise());
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
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

    /** Chunked reads of a segment's channel that storage owns: closing the input must not close the file. */
    private static final class SharedChunkedFile extends io.netty.handler.stream.ChunkedNioFile {
        SharedChunkedFile(SegmentRecords records) throws java.io.IOException {
            super(records.channel(), records.position(), records.sizeInBytes(), TLS_CHUNK_BYTES);
        }

        @Override
        public void close() {
            // The channel belongs to the segment; storage closes it when the segment is deleted.
        }
    }
}
