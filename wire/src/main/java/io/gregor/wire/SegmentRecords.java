package io.gregor.wire;

import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

import java.nio.channels.FileChannel;

/**
 * Record batches that stay in a segment file until the response is written: the encoder sends them
 * with sendfile instead of copying them through the heap.
 */
public final class SegmentRecords implements BaseRecords {
    private final FileChannel channel;
    private final long position;
    private final int size;

    public SegmentRecords(FileChannel channel, long position, int size) {
        this.channel = channel;
        this.position = position;
        this.size = size;
    }

    public FileChannel channel() {
        return channel;
    }

    public long position() {
        return position;
    }

    @Override
    public int sizeInBytes() {
        return size;
    }

    @Override
    public RecordsSend<? extends BaseRecords> toSend() {
        throw new UnsupportedOperationException("written by ResponseEncoder as a FileRegion");
    }
}
