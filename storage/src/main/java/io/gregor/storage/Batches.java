package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The v2 record batch layout (magic 2) and in-place checks on it. All reads are absolute, so a buffer is
 * never repositioned and no per-record objects are made.
 */
final class Batches {
    static final int BASE_OFFSET = 0;
    static final int LENGTH = 8;
    static final int LOG_OVERHEAD = 12;
    static final int PARTITION_LEADER_EPOCH = 12;
    static final int MAGIC = 16;
    static final int CRC = 17;
    static final int ATTRIBUTES = 21;
    static final int LAST_OFFSET_DELTA = 23;
    static final int BASE_TIMESTAMP = 27;
    static final int MAX_TIMESTAMP = 35;
    static final int PRODUCER_ID = 43;
    static final int PRODUCER_EPOCH = 51;
    static final int BASE_SEQUENCE = 53;
    static final int RECORDS_COUNT = 57;
    static final int HEADER_SIZE = 61;
    /** batchLength of a batch with no records: everything after the length field. */
    static final int MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD;

    static final int COMPRESSION_MASK = 0x07;
    static final int TIMESTAMP_TYPE_MASK = 0x08;
    static final int TRANSACTIONAL_MASK = 0x10;
    static final int CONTROL_MASK = 0x20;
    /** KIP-534: the base timestamp holds the time after which the cleaner may drop the batch's tombstones. */
    static final int DELETE_HORIZON_MASK = 0x40;

    private Batches() {
    }

    static long crc(CRC32C crc, ByteBuffer work, int batchStart, int batchEnd) {
        crc.reset();
        int oldPos = work.position();
        int oldLimit = work.limit();
        work.limit(batchEnd).position(batchStart + ATTRIBUTES);
        crc.update(work);
        work.limit(oldLimit).position(oldPos);
        return crc.getValue();
    }

    /** Sequence of the batch's last record; sequences wrap at Integer.MAX_VALUE. */
    static int lastSequence(int baseSequence, int lastOffsetDelta) {
        if (baseSequence < 0) {
            return -1;
        }
        long last = (long) baseSequence + lastOffsetDelta;
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }

    /**
     * Walks the records of an uncompressed batch in place: each length varint must frame exactly its record,
     * offset deltas must run 0..count-1 and the records must fill the batch.
     */
    static void validateUncompressedRecords(ByteBuffer buf, int recordsStart, int batchEnd, int count,
                                            RecordTimestamps timestamps) {
        int pos = recordsStart;
        for (int i = 0; i < count; i++) {
            if (pos >= batchEnd) {
                throw new InvalidRecordException("Batch ends after " + i + " of " + count + " records");
            }
            try {
                pos = validateUncompressedRecord(buf, pos, batchEnd, i, timestamps);
            } catch (InvalidRecordException e) {
                throw e.recordIndex() >= 0 ? e : new InvalidRecordException(e.getMessage(), i);
            }
        }
        if (pos != batchEnd) {
            throw new InvalidRecordException("Batch has " + (batchEnd - pos) + " bytes after its last record");
        }
    }

    /** The framing and offset delta of record {@code i} at {@code pos}; returns where the next record starts. */
    private static int validateUncompressedRecord(ByteBuffer buf, int pos, int batchEnd, int i,
                                                  RecordTimestamps timestamps) {
        long lv = readVarint(buf, pos, batchEnd);
        int length = (int) (lv >> 32);
        int p = (int) lv;
        int recordEnd = p + length;
        if (length <= 0 || recordEnd > batchEnd || recordEnd < p) {
            throw new InvalidRecordException("Invalid record size " + length);
        }
        p++; // attributes
        int timestampAt = p;
        p = skipVarlong(buf, p, recordEnd);
        timestamps.record(i, varlongAt(buf, timestampAt));
        long ov = readVarint(buf, p, recordEnd);
        if ((int) (ov >> 32) != i) {
            throw new InvalidRecordException("Record offset delta " + (int) (ov >> 32) + " where " + i
                    + " was expected");
        }
        p = (int) ov;
        p = skipBytesField(buf, p, recordEnd); // key
        p = skipBytesField(buf, p, recordEnd); // value
        long hv = readVarint(buf, p, recordEnd);
        int headers = (int) (hv >> 32);
        p = (int) hv;
        if (headers < 0) {
            throw new InvalidRecordException("Invalid negative header count " + headers);
        }
        for (int h = 0; h < headers; h++) {
            long kv = readVarint(buf, p, recordEnd);
            int keyLen = (int) (kv >> 32);
            if (keyLen < 0) {
                throw new InvalidRecordException("Invalid negative header key size " + keyLen);
            }
            p = (int) kv + keyLen;
            if (p > recordEnd || p < 0) {
                throw new InvalidRecordException("Header key overruns the record");
            }
            p = skipBytesField(buf, p, recordEnd);
        }
        if (p != recordEnd) {
            throw new InvalidRecordException("Invalid record size: expected " + length + " bytes, read "
                    + (p - (recordEnd - length)));
        }
        return recordEnd;
    }

    private static int skipBytesField(ByteBuffer buf, int pos, int limit) {
        long v = readVarint(buf, pos, limit);
        int len = (int) (v >> 32);
        int p = (int) v;
        if (len < -1) {
            throw new InvalidRecordException("Invalid field length " + len);
        }
        if (len > 0) {
            p += len;
            if (p > limit || p < 0) {
                throw new InvalidRecordException("Field overruns the record");
            }
        }
        return p;
    }

    /** Reads a zigzag varint; returns (value << 32) | positionAfter so no object is needed. */
    static long readVarint(ByteBuffer buf, int pos, int limit) {
        int raw = 0;
        int shift = 0;
        int p = pos;
        while (true) {
            if (p >= limit) {
                throw new InvalidRecordException("Varint overruns the record");
            }
            byte b = buf.get(p++);
            raw |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > 28) {
                throw new InvalidRecordException("Varint is too long");
            }
        }
        int value = (raw >>> 1) ^ -(raw & 1);
        return ((long) value << 32) | (p & 0xffffffffL);
    }

    static int skipVarlong(ByteBuffer buf, int pos, int limit) {
        int p = pos;
        for (int i = 0; i < 10; i++) {
            if (p >= limit) {
                throw new InvalidRecordException("Varlong overruns the record");
            }
            if ((buf.get(p++) & 0x80) == 0) {
                return p;
            }
        }
        throw new InvalidRecordException("Varlong is too long");
    }

    /** The zigzag varlong at {@code pos}, already known (by {@link #skipVarlong}) to end within the record. */
    static long varlongAt(ByteBuffer buf, int pos) {
        long raw = 0;
        int p = pos;
        for (int shift = 0; ; shift += 7) {
            byte b = buf.get(p++);
            raw |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
    }

    static CorruptRecordException corrupt(String message) {
        return new CorruptRecordException(message);
    }
}
