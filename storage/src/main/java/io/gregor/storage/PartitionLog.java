package io.gregor.storage;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * One partition's log: a sequence of segments holding Kafka v2 record batches. Appends come from one
 * writer at a time (implementations serialise them); reads may run concurrently with an append and
 * see only whole batches.
 */
public interface PartitionLog {
    TopicPartition topicPartition();

    /** Topic id as Kafka's base64 Uuid string, persisted in {@code partition.metadata}. */
    String topicId();

    LogConfig config();

    void updateConfig(LogConfig config);

    /**
     * Validates and appends the record batches in {@code records} (one produce request's data for this
     * partition): magic 2 only, CRC, sizes against max.message.bytes, record count vs last offset delta,
     * producer id / epoch / sequence (idempotence, last 5 batches per producer). The buffer is patched in
     * place (base offset, partition leader epoch and, for LogAppendTime, timestamp type, max timestamp
     * and CRC) and written with one write.
     *
     * @throws io.gregor.storage.errors.StorageException subclasses naming the Kafka error to answer
     */
    AppendResult append(ByteBuffer records, int leaderEpoch, long nowMs);

    /**
     * Reads whole batches starting with the one containing {@code fetchOffset}, up to {@code maxBytes}
     * (but at least one whole batch when {@code minOneBatch}), never past {@code maxOffset} (exclusive;
     * the high watermark for consumers).
     *
     * @throws io.gregor.storage.errors.OffsetOutOfRangeException outside [logStartOffset, logEndOffset]
     */
    ReadResult read(long fetchOffset, int maxBytes, long maxOffset, boolean minOneBatch);

    long logStartOffset();

    long logEndOffset();

    long highWatermark();

    void updateHighWatermark(long offset);

    /** First record with timestamp >= target (ListOffsets by time), using the time index. */
    Optional<TimestampOffset> offsetForTimestamp(long targetTimestamp);

    /** The record with the largest timestamp (ListOffsets MAX_TIMESTAMP). */
    Optional<TimestampOffset> maxTimestamp();

    /** Latest leader epoch stored in the leader-epoch-checkpoint, or -1. */
    int latestEpoch();

    /**
     * Moves the log start offset forward (DeleteRecords). Returns the new log start offset.
     *
     * @throws io.gregor.storage.errors.OffsetOutOfRangeException beyond the high watermark
     */
    long deleteRecordsBefore(long offset);

    /** Bytes on disk across all segments (DescribeLogDirs). */
    long sizeInBytes();

    /** fsyncs everything appended so far and advances the recovery point. */
    void flush();
}
