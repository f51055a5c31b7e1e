package io.gregor.storage;

import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.KafkaStorageException;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A flyweight cursor over consecutive v2 batch headers, either in a buffer (an append) or in a segment file
 * (each header is read into the cursor's own small buffer). One instance is reused for a whole walk, so
 * walking allocates nothing per batch; fields are read in place with absolute gets.
 * <p>
 * {@link #next()} moves to the next batch and is true while any byte remains (buffer walks) or a whole
 * header fits below the limit (file walks). Callers of a buffer walk check
 * {@link #headerFits()} and {@link #batchFits()} before trusting a buffer batch, and must not call
 * {@code next()} again after a batch whose length they found invalid.
 */
final class BatchHeaders {
    private ByteBuffer buf;
    private LogSegment segment;
    private final ByteBuffer fileHeader;
    private int base; // where the current header starts within buf
    private int position; // the current batch's position in the walked buffer or file
    private int nextPosition;
    private int limit;
    private ByteBuffer controlBody; // a file walk's control batch, read whole (markers are small and rare)

    BatchHeaders() {
        this(null);
    }

    /** A cursor for file walks reads headers into {@code fileHeader} ({@link Batches#HEADER_SIZE} bytes). */
    BatchHeaders(ByteBuffer fileHeader) {
        this.fileHeader = fileHeader;
    }

    /** Walks the batches of buf[from, to). */
    BatchHeaders over(ByteBuffer buffer, int from, int to) {
        this.buf = buffer;
        this.segment = null;
        this.position = -1;
        this.nextPosition = from;
        this.limit = to;
        return this;
    }

    /** Walks the whole batches of a segment file from {@code from} below {@code to}, header by header. */
    BatchHeaders over(LogSegment seg, int from, int to) {
        this.buf = fileHeader;
        this.segment = seg;
        this.base = 0;
        this.position = -1;
        this.nextPosition = from;
        this.limit = to;
        return this;
    }

    boolean next() {
        if (position >= 0) {
            nextPosition = position + sizeInBytes();
        }
        boolean more = segment != null
                ? segment.readHeader(fileHeader, nextPosition, Batches.HEADER_SIZE, limit)
                : nextPosition < limit;
        if (!more) {
            position = -1;
            return false;
        }
        position = nextPosition;
        if (segment == null) {
            base = position;
        }
        return true;
    }

    /** Ends a buffer walk early: the next call to {@link #next()} resumes at {@code nextPos}. */
    void skipTo(int nextPos) {
        position = -1;
        nextPosition = nextPos;
    }

    int position() {
        return position;
    }

    /** Where the walk would continue if it stopped here (the end of the batches walked so far). */
    int endOfPrevious() {
        return position < 0 ? nextPosition : position;
    }

    int remaining() {
        return limit - position;
    }

    boolean headerFits() {
        return remaining() >= Batches.HEADER_SIZE;
    }

    /** The batch's declared size is sane and all of it lies below the limit. */
    boolean batchFits() {
        int length = batchLength();
        return length >= Batches.MIN_BATCH_LENGTH && (long) length + Batches.LOG_OVERHEAD <= remaining();
    }

    int end() {
        return position + sizeInBytes();
    }

    /** The buffer holding the current header (for a buffer walk: the walked buffer) and its offset in it. */
    ByteBuffer buffer() {
        return buf;
    }

    int headerOffset() {
        return base;
    }

    int batchLength() {
        return buf.getInt(base + Batches.LENGTH);
    }

    int sizeInBytes() {
        return batchLength() + Batches.LOG_OVERHEAD;
    }

    long baseOffset() {
        return buf.getLong(base + Batches.BASE_OFFSET);
    }

    int lastOffsetDelta() {
        return buf.getInt(base + Batches.LAST_OFFSET_DELTA);
    }

    long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    int partitionLeaderEpoch() {
        return buf.getInt(base + Batches.PARTITION_LEADER_EPOCH);
    }

    byte magic() {
        return buf.get(base + Batches.MAGIC);
    }

    long storedCrc() {
        return buf.getInt(base + Batches.CRC) & 0xffffffffL;
    }

    short attributes() {
        return buf.getShort(base + Batches.ATTRIBUTES);
    }

    boolean isControl() {
        return (attributes() & Batches.CONTROL_MASK) != 0;
    }

    boolean isTransactional() {
        return (attributes() & Batches.TRANSACTIONAL_MASK) != 0;
    }

    int compressionCodec() {
        return attributes() & Batches.COMPRESSION_MASK;
    }

    long baseTimestamp() {
        return buf.getLong(base + Batches.BASE_TIMESTAMP);
    }

    long maxTimestamp() {
        return buf.getLong(base + Batches.MAX_TIMESTAMP);
    }

    long producerId() {
        return buf.getLong(base + Batches.PRODUCER_ID);
    }

    short producerEpoch() {
        return buf.getShort(base + Batches.PRODUCER_EPOCH);
    }

    int baseSequence() {
        return buf.getInt(base + Batches.BASE_SEQUENCE);
    }

    int lastSequence() {
        return Batches.lastSequence(baseSequence(), lastOffsetDelta());
    }

    int recordCount() {
        return buf.getInt(base + Batches.RECORDS_COUNT);
    }

    /** Control record type of an abort marker (Kafka's ControlRecordType.ABORT); COMMIT is 1. */
    static final int ABORT = 0;
    static final int COMMIT = 1;

    /**
     * The transaction marker of a control batch: its first record's control type (key: version int16, type
     * int16) in the high 32 bits and the coordinator epoch (value: version int16, coordinator epoch int32) in
     * the low 32 bits.
     *
     * @throws InvalidRecordException when the record does not frame a marker
     */
    long controlMarker() {
        ByteBuffer body;
        int recordsStart;
        int batchEnd;
        if (segment == null) {
            body = buf;
            recordsStart = position + Batches.HEADER_SIZE;
            batchEnd = end();
        } else {
            int size = sizeInBytes();
            if (controlBody == null || controlBody.capacity() < size) {
                controlBody = ByteBuffer.allocate(Math.max(size, 128));
            }
            controlBody.clear().limit(size);
            try {
                if (!FileUtil.readFully(segment.channel, controlBody, position)) {
                    throw new InvalidRecordException("Control batch at " + position + " is torn");
                }
            } catch (IOException e) {
                throw new KafkaStorageException("Read of " + segment.logPath() + " failed", e);
            }
            body = controlBody;
            recordsStart = Batches.HEADER_SIZE;
            batchEnd = size;
        }
        long lv = Batches.readVarint(body, recordsStart, batchEnd);
        int recordEnd = (int) lv + (int) (lv >> 32);
        if (recordEnd > batchEnd) {
            throw new InvalidRecordException("Control record overruns its batch");
        }
        int p = (int) lv + 1; // attributes
        p = Batches.skipVarlong(body, p, recordEnd); // timestamp delta
        p = (int) Batches.readVarint(body, p, recordEnd); // offset delta
        long kv = Batches.readVarint(body, p, recordEnd);
        int keyLength = (int) (kv >> 32);
        p = (int) kv;
        if (keyLength < 4 || p + keyLength > recordEnd) {
            throw new InvalidRecordException("Control record key of " + keyLength + " bytes");
        }
        int type = body.getShort(p + 2);
        p += keyLength;
        long vv = Batches.readVarint(body, p, recordEnd);
        int valueLength = (int) (vv >> 32);
        p = (int) vv;
        if (type != ABORT && type != COMMIT) {
            throw new InvalidRecordException("Unknown control record type " + type);
        }
        if (valueLength < 6 || p + valueLength > recordEnd) {
            throw new InvalidRecordException("End transaction marker value of " + valueLength + " bytes");
        }
        int coordinatorEpoch = body.getInt(p + 2);
        return ((long) type << 32) | (coordinatorEpoch & 0xffffffffL);
    }

    static int markerType(long marker) {
        return (int) (marker >> 32);
    }

    static int markerCoordinatorEpoch(long marker) {
        return (int) marker;
    }
}
