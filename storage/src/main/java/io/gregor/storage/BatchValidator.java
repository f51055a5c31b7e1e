package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.RecordTooLargeException;

import java.nio.ByteBuffer;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * The checks every batch passes before it is written or trusted (Kafka's LogValidator role): framing,
 * magic, CRC, sizes, offsets and, for a leader append, record framing and the producer's id, epoch and
 * sequence. One instance per log, used under its append lock (it owns a CRC32C).
 */
final class BatchValidator {
    private final CRC32C crc = new CRC32C();
    private final RecordTimestamps timestamps = new RecordTimestamps();
    // the calling request thread's decompression buffers: shared by every log that thread appends to
    private final Supplier<CompressedRecordsValidator> compressedRecords;

    /** A validator that allocates its decompression buffers per compressed batch (recovery, tests). */
    BatchValidator() {
        this(CompressedRecordsValidator::new);
    }

    BatchValidator(Supplier<CompressedRecordsValidator> compressedRecords) {
        this.compressedRecords = compressedRecords;
    }

    /** Who wrote the batches of a leader append (Kafka's AppendOrigin). */
    enum Origin {
        /** A producer's data: sequences are checked, control batches refused, as Kafka does. */
        CLIENT,
        /**
         * The broker's coordinators: transaction markers, and the group coordinator's records, whose
         * transactional offset commits carry a producer id and epoch but no meaningful sequence.
         */
        COORDINATOR
    }

    /**
     * A batch a leader is about to assign offsets to. Throws the storage exception naming Kafka's error;
     * {@code nextOffset} only names the batch in messages. The records' timestamps are checked against the topic's
     * bounds around {@code nowMs}; returns the largest record timestamp (what a CreateTime batch's header must say).
     */
    long validateLeaderBatch(BatchHeaders b, LogConfig c, long nextOffset, Origin origin, long nowMs) {
        if (!b.headerFits()) {
            throw new CorruptRecordException("Record batch header truncated: " + b.remaining() + " bytes");
        }
        int batchLength = b.batchLength();
        if (!b.batchFits()) {
            throw new CorruptRecordException("Record batch size " + batchLength + " is inconsistent with "
                    + b.remaining() + " remaining bytes");
        }
        int batchSize = b.sizeInBytes();
        byte magic = b.magic();
        if (magic != 2) {
            throw new InvalidRecordException("Unsupported record batch magic " + magic + "; only magic 2 is accepted");
        }
        if (batchSize > c.maxMessageBytes()) {
            throw new RecordTooLargeException("Record batch of " + batchSize + " bytes exceeds max.message.bytes "
                    + c.maxMessageBytes());
        }
        if (!crcMatches(b)) {
            throw new CorruptRecordException("Record batch CRC mismatch at offset " + nextOffset);
        }
        int count = b.recordCount();
        if (count <= 0) {
            throw new InvalidRecordException("Record batch has no records");
        }
        if (b.lastOffsetDelta() != count - 1) {
            throw new InvalidRecordException("Record batch last offset delta " + b.lastOffsetDelta()
                    + " does not match its record count " + count);
        }
        if (origin == Origin.CLIENT && b.producerId() >= 0 && b.baseSequence() < 0) {
            // Kafka's LogValidator: only a coordinator writes producer batches without a sequence
            throw new InvalidRecordException("Invalid sequence number " + b.baseSequence()
                    + " in record batch with producerId " + b.producerId());
        }
        if (b.isControl()) {
            if (origin == Origin.CLIENT) {
                // leader appends carry producers' data (clients, the group coordinator); transaction markers
                // are the broker's own to write, as in Kafka
                throw new InvalidRecordException("Clients are not allowed to write control records");
            }
            if (count != 1 || b.producerId() < 0) {
                throw new InvalidRecordException("A control batch holds one marker of a producer");
            }
        }
        int codec = b.compressionCodec();
        if (codec > 4) {
            throw new InvalidRecordException("Unknown compression codec " + codec);
        }
        timestamps.begin(b, c, nowMs);
        if (codec == 0) {
            Batches.validateUncompressedRecords(b.buffer(), b.position() + Batches.HEADER_SIZE, b.end(), count,
                    timestamps);
        } else {
            compressedRecords.get().validate(b.buffer(), b.position() + Batches.HEADER_SIZE, b.end(), codec, count,
                    timestamps);
        }
        return timestamps.finish();
    }

    /**
     * Kafka's producer checks for a batch with a producer id. A data batch: epoch, sequence, duplicates of the
     * last five batches (a coordinator's batch: the epoch only), and no plain batch inside an open transaction;
     * returns the ring slot of the original
     * when the batch is a duplicate, else -1. A transaction marker: its control record and the producer and
     * coordinator epochs (by the rules of the marker's transaction version); returns -1.
     */
    int validateProducer(BatchHeaders b, ProducerStateTable producers, int transactionVersion, Origin origin) {
        if (b.isControl()) {
            long marker = b.controlMarker();
            producers.validateMarker(b.producerId(), b.producerEpoch(), BatchHeaders.markerCoordinatorEpoch(marker),
                    transactionVersion);
            return -1;
        }
        if (origin == Origin.COORDINATOR) {
            // Kafka checks only the epoch of a coordinator's write: it has no sequence to follow
            producers.checkEpoch(b.producerId(), b.producerEpoch());
            producers.checkTransactional(b.producerId(), b.isTransactional());
            return -1;
        }
        int dup = producers.validate(b.producerId(), b.producerEpoch(), b.baseSequence(), b.lastSequence());
        if (dup < 0) {
            producers.checkTransactional(b.producerId(), b.isTransactional());
        }
        return dup;
    }

    /**
     * A replicated batch already known to lie whole in the buffer: magic and CRC (its offsets were checked
     * against the log end by the caller).
     */
    void validateReplicatedBatch(BatchHeaders b) {
        if (b.magic() != 2) {
            throw new InvalidRecordException("Unsupported record batch magic " + b.magic());
        }
        if (!crcMatches(b)) {
            throw new CorruptRecordException("Replicated batch CRC mismatch at offset " + b.baseOffset());
        }
    }

    /**
     * Recovery: is the batch read into {@code batch} (from position 0) whole and sound, with offsets after
     * {@code previousLastOffset} that fit the segment's relative offsets? False marks where the log is cut.
     */
    boolean isRecoverable(ByteBuffer batch, int batchSize, long previousLastOffset, long segmentBase) {
        long stored = batch.getInt(Batches.CRC) & 0xffffffffL;
        if (Batches.crc(crc, batch, 0, batchSize) != stored) {
            return false;
        }
        long base = batch.getLong(Batches.BASE_OFFSET);
        int lastDelta = batch.getInt(Batches.LAST_OFFSET_DELTA);
        return base > previousLastOffset && lastDelta >= 0 && base + lastDelta - segmentBase <= Integer.MAX_VALUE;
    }

    /** Recovery: can a header with this length and magic start a batch that ends within the file? */
    static boolean headerPlausible(BatchHeaders h) {
        return h.magic() == 2 && h.batchFits();
    }

    private boolean crcMatches(BatchHeaders b) {
        return Batches.crc(crc, b.buffer(), b.position(), b.end()) == b.storedCrc();
    }

    /** Re-computes the CRC of a batch whose header the leader patched (LogAppendTime). */
    int crcOf(ByteBuffer buf, int start, int end) {
        return (int) Batches.crc(crc, buf, start, end);
    }
}
