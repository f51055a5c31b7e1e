package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.StorageException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Looks inside a compressed v2 batch before a leader appends it, as Kafka's LogValidator does: the records
 * must decompress (else CORRUPT_MESSAGE), be as many as the header says, carry offset deltas 0..n-1 and be
 * framed exactly by their length varints (else INVALID_RECORD). Otherwise one producer could store a batch no
 * consumer can decode, or move the log end by a count it never wrote.
 * <p>
 * The records are decompressed as a stream into one reused chunk and parsed in place, field by field, so
 * memory stays bounded whatever the batch claims and no record becomes an object. Not thread-safe: one
 * instance per request thread (see {@link FileLog.Hooks#compressedRecordsValidator()}).
 */
final class CompressedRecordsValidator {
    private static final int CHUNK_SIZE = 16 * 1024;

    // the codecs' own work buffers (lz4 blocks, zstd and gzip chunks), kept between batches
    private final BufferSupplier codecBuffers = BufferSupplier.create();
    private final byte[] chunk = new byte[CHUNK_SIZE];
    private InputStream in;
    private int chunkPos;
    private int chunkLimit;
    private long consumed; // bytes of decompressed stream read before chunk[chunkPos]

    /**
     * Checks the records of the batch whose record section is {@code buf[recordsStart, batchEnd)}.
     *
     * @throws CorruptRecordException when the data does not decompress
     * @throws InvalidRecordException when the records do not match the header or are not framed
     */
    void validate(ByteBuffer buf, int recordsStart, int batchEnd, int codec, int count, RecordTimestamps timestamps) {
        CompressionType type = CompressionType.forId(codec);
        ByteBuffer compressed = buf.duplicate().limit(batchEnd).position(recordsStart).slice();
        chunkPos = 0;
        chunkLimit = 0;
        consumed = 0;
        try (InputStream stream = Compression.of(type).build().wrapForInput(compressed, (byte) 2, codecBuffers)) {
            in = stream;
            for (int i = 0; i < count; i++) {
                if (!fill()) {
                    throw new InvalidRecordException("Record batch declares " + count + " records but holds " + i
                            + " (premature end of its " + type.name + " data)");
                }
                try {
                    validateRecord(i, timestamps);
                } catch (InvalidRecordException e) {
                    throw e.recordIndex() >= 0 ? e : new InvalidRecordException(e.getMessage(), i);
                }
            }
            if (fill()) {
                throw new InvalidRecordException("Record batch declares " + count
                        + " records but its " + type.name + " data holds more");
            }
        } catch (StorageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // the codecs report undecodable input as IOExceptions or as KafkaExceptions wrapping them
            throw new CorruptRecordException("Record batch " + type.name + " data cannot be decompressed: "
                    + rootMessage(e));
        } finally {
            in = null;
        }
    }

    private void validateRecord(int index, RecordTimestamps timestamps) throws IOException {
        int length = readVarint();
        if (length <= 0) {
            throw new InvalidRecordException("Invalid record size " + length + " of record " + index);
        }
        long recordEnd = position() + length;
        skip(1, recordEnd, index); // attributes
        timestamps.record(index, readVarlong(recordEnd, index));
        int offsetDelta = readVarint();
        if (offsetDelta != index) {
            throw new InvalidRecordException("Record offset delta " + offsetDelta + " where " + index
                    + " was expected");
        }
        skipBytesField(recordEnd, index, "key");
        skipBytesField(recordEnd, index, "value");
        int headers = readVarint();
        if (headers < 0) {
            throw new InvalidRecordException("Invalid negative header count " + headers + " in record " + index);
        }
        for (int h = 0; h < headers; h++) {
            int keyLength = readVarint();
            if (keyLength < 0) {
                throw new InvalidRecordException("Invalid negative header key size " + keyLength + " in record "
                        + index);
            }
            skip(keyLength, recordEnd, index);
            skipBytesField(recordEnd, index, "header value");
        }
        if (position() != recordEnd) {
            throw new InvalidRecordException("Invalid record size: record " + index + " declares " + length
                    + " bytes but its fields take " + (position() - recordEnd + length));
        }
    }

    private void skipBytesField(long recordEnd, int index, String field) throws IOException {
        int length = readVarint();
        if (length < -1) {
            throw new InvalidRecordException("Invalid " + field + " size " + length + " in record " + index);
        }
        if (length > 0) {
            skip(length, recordEnd, index);
        }
    }

    /** Skips n bytes of the current record, refusing to run past its end (the varints keep us within it). */
    private void skip(long n, long recordEnd, int index) throws IOException {
        if (position() + n > recordEnd) {
            throw new InvalidRecordException("Record " + index + " overruns its declared size");
        }
        long left = n;
        while (left > 0) {
            if (!fill()) {
                throw prematureEnd(index);
            }
            int step = (int) Math.min(left, chunkLimit - chunkPos);
            chunkPos += step;
            left -= step;
        }
    }

    private int readVarint() throws IOException {
        int raw = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = readByte();
            raw |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new InvalidRecordException("Varint is too long");
    }

    private long readVarlong(long recordEnd, int index) throws IOException {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (position() >= recordEnd) {
                throw new InvalidRecordException("Record " + index + " overruns its declared size");
            }
            int b = readByte();
            raw |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new InvalidRecordException("Varlong is too long");
    }

    private int readByte() throws IOException {
        if (!fill()) {
            throw new InvalidRecordException("Record batch data ends inside a record");
        }
        return chunk[chunkPos++];
    }

    private long position() {
        return consumed + chunkPos;
    }

    /** True when at least one decompressed byte is available in the chunk. */
    private boolean fill() throws IOException {
        if (chunkPos < chunkLimit) {
            return true;
        }
        consumed += chunkLimit;
        chunkPos = 0;
        chunkLimit = 0;
        int n;
        do {
            n = in.read(chunk, 0, chunk.length);
        } while (n == 0);
        if (n < 0) {
            return false;
        }
        chunkLimit = n;
        return true;
    }

    private static InvalidRecordException prematureEnd(int index) {
        return new InvalidRecordException("Record batch data ends inside record " + index);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
