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
     * {@link #append(ByteBuffer, int, long)} for a producer request under transaction verification (KIP-890):
     * a transactional batch whose producer has no transaction open here at its epoch is refused with
     * INVALID_TXN_STATE unless {@code guard} is the one {@link #verificationGuard} handed out for the
     * verification just answered and no marker or transactional batch of that producer was written since.
     * A null guard means verification is not in force.
     */
    AppendResult append(ByteBuffer records, int leaderEpoch, long nowMs, VerificationGuard guard);

    /**
     * Kafka's maybeCreateVerificationStateEntry: the guard for a transactional append of this producer about
     * to be verified with the transaction coordinator (the existing one while a verification is under way).
     */
    VerificationGuard verificationGuard(long producerId, int baseSequence, short producerEpoch);

    /**
     * {@link #append} for a coordinator's own records (Kafka's AppendOrigin.COORDINATOR), e.g. the group
     * coordinator's transactional offset commits: a batch with a producer id is checked for its epoch (and for
     * writing inside the producer's transaction) but not for sequences, which such writes do not follow.
     */
    AppendResult appendFromCoordinator(ByteBuffer records, int leaderEpoch, long nowMs);

    /**
     * {@link #appendFromCoordinator(ByteBuffer, int, long)} of a transactional write verified with the
     * transaction coordinator (TxnOffsetCommit): refused as {@link #append(ByteBuffer, int, long,
     * VerificationGuard)} refuses a stale verification; a null guard means verification is not in force.
     */
    AppendResult appendFromCoordinator(ByteBuffer records, int leaderEpoch, long nowMs, VerificationGuard guard);

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

    /**
     * Kafka's last stable offset: the first offset of the earliest transaction still open (or whose marker
     * is not yet replicated), when below the high watermark; else the high watermark. read_committed
     * consumers read only below it.
     */
    long lastStableOffset();

    /**
     * The aborted transactions overlapping [fetchOffset, upperBoundOffset) (producer id, first offset, ...),
     * from the segments' transaction indexes: what a read_committed Fetch answer carries.
     */
    java.util.List<AbortedTxn> abortedTransactions(long fetchOffset, long upperBoundOffset);

    /**
     * The leader writes a transaction marker (a control batch with one EndTransactionMarker record) for a
     * producer, as the transaction coordinator asks with WriteTxnMarkers; it ends the producer's ongoing
     * transaction here and, for an abort, adds it to the transaction index. {@code transactionVersion} (of the
     * WriteTxnMarkers request, 0 before v2) picks Kafka's epoch rule: v2 markers must carry a bumped epoch.
     *
     * @throws io.gregor.storage.errors.InvalidProducerEpochException for an epoch older than the producer's
     * @throws io.gregor.storage.errors.TransactionCoordinatorFencedException for an older coordinator epoch
     */
    AppendResult appendTxnMarker(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                                 int transactionVersion, int leaderEpoch, long nowMs);

    /** The producers this log has state for (DescribeProducers). */
    java.util.List<ProducerDescription> activeProducers();

    /**
     * Whether the producer has a transaction open in this log at exactly this epoch: its next transactional
     * batch needs no check with the transaction coordinator (KIP-890 verification).
     */
    boolean hasOngoingTransaction(long producerId, short producerEpoch);

    /** One producer's state as DescribeProducers shows it; -1 where unknown. */
    record ProducerDescription(long producerId, int producerEpoch, int lastSequence, long lastTimestamp,
                               int coordinatorEpoch, long currentTxnStartOffset) {
    }

    /** First record with timestamp >= target (ListOffsets by time), using the time index. */
    Optional<TimestampOffset> offsetForTimestamp(long targetTimestamp);

    /** The record with the largest timestamp (ListOffsets MAX_TIMESTAMP). */
    Optional<TimestampOffset> maxTimestamp();

    /** Latest leader epoch stored in the leader-epoch-checkpoint, or -1. */
    int latestEpoch();

    /**
     * A replica becomes leader at {@code epoch}: records that the epoch starts at the current log end offset
     * (if it is newer than every epoch here), before any record of it is written, so followers that fetch
     * with an older epoch learn where that epoch ended on this leader (KIP-101).
     */
    void assignEpochStartOffset(int epoch);

    /**
     * Appends batches a leader already assigned (a replica fetch response): offsets, leader epochs and
     * timestamps are kept as they are. Batches must start at the log end offset (earlier ones, already
     * held, are skipped); the CRC of each batch is checked.
     *
     * @return the offset after the last appended record (the new log end offset)
     * @throws io.gregor.storage.errors.CorruptRecordException for a torn or corrupt batch
     */
    long appendAsFollower(ByteBuffer records);

    /**
     * Removes every batch from the one holding {@code offset} on (a follower dropping records its new
     * leader does not have). The log ends at a batch boundary, so the new end may be below {@code offset}.
     * Does nothing when {@code offset >= logEndOffset}.
     */
    void truncateTo(long offset);

    /**
     * Kafka's {@code truncateFullyAndStartAt}: a follower whose whole log lies below its leader's log start
     * offset drops every segment and restarts empty at {@code offset} (log start = log end = high watermark),
     * with no producer state and no leader epochs, so it can fetch from the leader's log start on.
     */
    void truncateFullyAndStartAt(long offset);

    /**
     * Kafka's {@code endOffsetFor}: the largest epoch at or below {@code epoch} this log knows and the offset
     * where it ends (the start of the next epoch, or the log end offset for the latest epoch); both -1 when
     * the log knows no such epoch.
     */
    EpochEndOffset endOffsetForEpoch(int epoch);

    /** Result of {@link #endOffsetForEpoch}. */
    record EpochEndOffset(int epoch, long endOffset) {
        public static final EpochEndOffset UNDEFINED = new EpochEndOffset(-1, -1);
    }

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
