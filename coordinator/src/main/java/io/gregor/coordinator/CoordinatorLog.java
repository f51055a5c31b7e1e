package io.gregor.coordinator;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;

/**
 * What a coordinator needs from its internal topic ({@code __consumer_offsets}, {@code __transaction_state}):
 * the broker implements it over its partition logs, so this module knows nothing of storage.
 */
public interface CoordinatorLog {
    /** The topic's partition count: a key (group id, transactional id) lives in partition abs(hash) % this. */
    int partitionCount();

    /**
     * Appends {@code records} to the partition as one batch through the leader, creating the topic on first
     * use. The local append happens before this returns; the future completes once the records are
     * replicated as {@code acks=all} requires (at once without replication), or exceptionally with the
     * Kafka error that prevented it (NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER).
     *
     * @throws RuntimeException when the local append failed; nothing was written then
     */
    CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records);

    /**
     * {@link #append(int, List)}, handing the offset the first record got to {@code firstOffset} before this
     * returns (a coordinator that prunes its log needs to know where its records are).
     */
    default CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records, LongConsumer firstOffset) {
        CompletableFuture<Void> written = append(partition, records);
        firstOffset.accept(-1); // not known: nothing is pruned on its account
        return written;
    }

    /** What {@link #replayWithOffsets} hands over: a record's offset, key and value (null for a tombstone). */
    interface OffsetVisitor {
        void record(long offset, ByteBuffer key, ByteBuffer value);
    }

    /** Like {@link #replay}, with each record's offset (-1 from a log that does not know them). */
    default void replayWithOffsets(int partition, OffsetVisitor visitor) {
        replay(partition, (key, value) -> visitor.record(-1, key, value));
    }

    /**
     * Deletes the partition's records below {@code offset}, as DeleteRecords does, when this broker leads it and
     * the offset is not above the high watermark (records a coordinator still needs must not go before what
     * replaces them is replicated); a coordinator calls it for records that later ones made redundant.
     */
    default void deleteRecordsBefore(int partition, long offset) {
    }

    /**
     * Appends {@code records} as one transactional batch of the producer: they count only once the producer's
     * commit marker lands on the partition (TxnOffsetCommit). Same completion as {@link #append}.
     */
    default CompletableFuture<Void> appendTransactional(int partition, long producerId, short producerEpoch,
                                                        List<CoordinatorRecord> records) {
        throw new UnsupportedOperationException("This log takes no transactional writes");
    }

    /**
     * The partition log's token for a transactional write of the producer about to be verified with the
     * transaction coordinator (Kafka's VerificationGuard, opaque here); null when the log keeps none.
     */
    default Object transactionVerificationGuard(int partition, long producerId, short producerEpoch) {
        return null;
    }

    /**
     * {@link #appendTransactional(int, long, short, List)} after a verification that handed out
     * {@code verificationGuard}: the write is refused (INVALID_TXN_STATE) if the producer's transaction ended
     * meanwhile. A null guard writes unchecked.
     */
    default CompletableFuture<Void> appendTransactional(int partition, long producerId, short producerEpoch,
                                                        List<CoordinatorRecord> records, Object verificationGuard) {
        return appendTransactional(partition, producerId, producerEpoch, records);
    }

    /**
     * Whether this broker leads the partition, so it coordinates the keys stored there. A log without
     * replication leads every partition.
     */
    default boolean isLeader(int partition) {
        return true;
    }

    /**
     * The partition's leader epoch on this broker: a new coordinator of the partition has a higher one, so
     * its transaction markers fence those of the one before (WriteTxnMarkers' coordinator epoch).
     */
    default int leaderEpoch(int partition) {
        return 0;
    }

    /**
     * Hands every record of the partition, oldest first, to {@code visitor} (key, value or null). Does
     * nothing when the topic does not exist yet.
     */
    void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor);

    /** What {@link #replayTransactional} hands over: records with their producer, and transaction ends. */
    interface TransactionalVisitor {
        /** A record; {@code producerId} is -1 outside transactions. */
        void record(ByteBuffer key, ByteBuffer value, long producerId, boolean transactional);

        /** A marker of {@code producerId}: its transactional records before it count ({@code committed}) or not. */
        void transactionEnded(long producerId, boolean committed);
    }

    /** Like {@link #replay}, with transactional records and markers told apart. */
    default void replayTransactional(int partition, TransactionalVisitor visitor) {
        replay(partition, (key, value) -> visitor.record(key, value, -1, false));
    }
}
