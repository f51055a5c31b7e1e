package io.gregor.coordinator.txn;

import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import io.gregor.coordinator.PartitionLeadershipListener;
import io.gregor.coordinator.TopicCatalog;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * Kafka's transaction coordinator (transactions v1): the state of each transactional id lives in its
 * {@code __transaction_state} partition (abs(hashCode) % partitions) and in memory while this broker leads
 * that partition. Every state change is written first and takes effect once the write is acknowledged
 * (acks=all); while a write is in flight the id has a pending state and other requests for it get
 * CONCURRENT_TRANSACTIONS. EndTxn writes PrepareCommit/PrepareAbort, answers, then has the markers written
 * on every partition of the transaction and writes CompleteCommit/CompleteAbort. A new leader of a
 * partition finishes the prepared transactions it loads.
 * <p>
 * Each transactional id is guarded by its own monitor; timers run on the shared scheduler.
 */
public final class TransactionCoordinator implements PartitionLeadershipListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinator.class);

    private final TransactionConfig config;
    private final CoordinatorLog stateLog;
    private final LongSupplier producerIds;
    private final MarkerSender markers;
    private final TopicCatalog catalog;
    private final Function<String, TopicPartition> groupOffsetsPartition;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    private final ConcurrentMap<String, TxnEntry> txns = new ConcurrentHashMap<>();
    /** Partitions of __transaction_state whose ids are in memory: this broker coordinates them. */
    private final Set<Integer> loaded = ConcurrentHashMap.newKeySet();
    private final Set<Integer> loading = ConcurrentHashMap.newKeySet();
    private final ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gregor-txn-loader");
        t.setDaemon(true);
        return t;
    });
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();

    /** A transactional id in memory: its acknowledged state and the one a write in flight will make current. */
    static final class TxnEntry {
        final String transactionalId;
        TxnSnapshot current;
        TxnSnapshot pending;

        TxnEntry(String transactionalId, TxnSnapshot current) {
            this.transactionalId = transactionalId;
            this.current = current;
        }
    }

    /** EndTxn's answer; from v5 (transactions v2) it carries the producer id and epoch to continue with. */
    public record EndResult(Errors error, long producerId, short producerEpoch) {
        static EndResult error(Errors error) {
            return new EndResult(error, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH);
        }
    }

    /** InitProducerId's answer. */
    public record InitResult(Errors error, long producerId, short producerEpoch) {
        static InitResult error(Errors error) {
            return new InitResult(error, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH);
        }
    }

    /**
     * @param producerIds           new producer ids, never handed out before
     * @param catalog               which topic partitions exist in the cluster
     * @param groupOffsetsPartition the __consumer_offsets partition of a group (AddOffsetsToTxn)
     */
    public TransactionCoordinator(TransactionConfig config, CoordinatorLog stateLog, LongSupplier producerIds,
                                  MarkerSender markers, TopicCatalog catalog,
                                  Function<String, TopicPartition> groupOffsetsPartition,
                                  ScheduledExecutorService scheduler, Time time) {
        this.config = config;
        this.stateLog = stateLog;
        this.producerIds = producerIds;
        this.markers = markers;
        this.catalog = catalog;
        this.groupOffsetsPartition = groupOffsetsPartition;
        this.scheduler = scheduler;
        this.time = time;
    }

    /** Kafka's partition of a transactional id: Utils.abs(hashCode) % partitions. */
    public static int partitionFor(String transactionalId, int partitionCount) {
        return Utils.abs(transactionalId.hashCode()) % partitionCount;
    }

    public int partitionFor(String transactionalId) {
        return partitionFor(transactionalId, stateLog.partitionCount());
    }

    /** Loads the partitions this broker leads now and starts the timeout and expiry timers. */
    public void startup() {
        for (int p = 0; p < stateLog.partitionCount(); p++) {
            load(p);
        }
        long abortEvery = config.abortTimedOutIntervalMs();
        timers.add(scheduler.scheduleAtFixedRate(this::abortTimedOutTransactions, abortEvery, abortEvery,
                TimeUnit.MILLISECONDS));
        long expireEvery = config.removeExpiredIntervalMs();
        timers.add(scheduler.scheduleAtFixedRate(this::expireTransactionalIds, expireEvery, expireEvery,
                TimeUnit.MILLISECONDS));
    }

    @Override
    public void onElection(int partition) {
        loading.add(partition);
        loader.execute(() -> load(partition));
    }

    @Override
    public void onResignation(int partition) {
        loader.execute(() -> unload(partition));
    }

    @Override
    public void close() {
        timers.forEach(t -> t.cancel(false));
        loader.shutdownNow();
    }

    // ================================================================== loading

    private synchronized void load(int partition) {
        try {
            if (loaded.contains(partition) || !stateLog.isLeader(partition)) {
                return;
            }
            dropIds(partition); // leftovers of an earlier term are stale
            Map<String, TxnSnapshot> found = new HashMap<>();
            stateLog.replay(partition, (key, value) -> replayRecord(found, key, value));
            List<TxnEntry> unfinished = new ArrayList<>();
            found.forEach((id, txn) -> {
                TxnEntry entry = new TxnEntry(id, txn);
                txns.put(id, entry);
                if (txn.state() == TransactionState.PREPARE_COMMIT || txn.state() == TransactionState.PREPARE_ABORT) {
                    unfinished.add(entry);
                }
            });
            loaded.add(partition);
            if (!found.isEmpty()) {
                log.info("Loaded {} transactional ids of __transaction_state-{} ({} to complete)", found.size(),
                        partition, unfinished.size());
            }
            // the previous coordinator wrote PrepareCommit/PrepareAbort but may not have finished: finish it here
            for (TxnEntry entry : unfinished) {
                synchronized (entry) {
                    sendMarkersThenComplete(entry, entry.current);
                }
            }
        } catch (RuntimeException e) {
            log.error("Loading the transactions of __transaction_state-{} failed", partition, e);
        } finally {
            loading.remove(partition);
        }
    }

    private static void replayRecord(Map<String, TxnSnapshot> found, ByteBuffer key, ByteBuffer value) {
        String id = TransactionRecords.decodeKey(key);
        if (id == null) {
            return;
        }
        TxnSnapshot txn = TransactionRecords.decodeValue(value);
        if (txn == null) {
            found.remove(id);
        } else {
            found.put(id, txn);
        }
    }

    private synchronized void unload(int partition) {
        if (loaded.remove(partition)) {
            int n = dropIds(partition);
            if (n > 0) {
                log.info("Unloaded {} transactional ids of __transaction_state-{}: another broker coordinates them now",
                        n, partition);
            }
        }
    }

    private int dropIds(int partition) {
        int n = 0;
        for (String id : List.copyOf(txns.keySet())) {
            if (partitionFor(id) == partition) {
                txns.remove(id);
                n++;
            }
        }
        return n;
    }

    /** NONE when this broker coordinates the id; COORDINATOR_LOAD_IN_PROGRESS while it loads; else NOT_COORDINATOR. */
    public Errors coordinatorError(String transactionalId) {
        int partition = partitionFor(transactionalId);
        if (loaded.contains(partition)) {
            return Errors.NONE;
        }
        return loading.contains(partition) ? Errors.COORDINATOR_LOAD_IN_PROGRESS : Errors.NOT_COORDINATOR;
    }

    // ================================================================== InitProducerId

    /**
     * InitProducerId with a transactional id: a new producer id on first use, else the epoch bumped (fencing
     * older producers); an ongoing transaction is aborted first (CONCURRENT_TRANSACTIONS until that is done).
     * {@code expectedProducerId}/{@code expectedEpoch} are KIP-360's (-1 when not given).
     */
    public CompletableFuture<InitResult> initProducerId(String transactionalId, int timeoutMs, long expectedProducerId,
                                                        short expectedEpoch) {
        if (transactionalId.isEmpty()) {
            return CompletableFuture.completedFuture(InitResult.error(Errors.INVALID_REQUEST));
        }
        if (timeoutMs <= 0 || timeoutMs > config.maxTimeoutMs()) {
            return CompletableFuture.completedFuture(InitResult.error(Errors.INVALID_TRANSACTION_TIMEOUT));
        }
        Errors notHere = coordinatorError(transactionalId);
        if (notHere != Errors.NONE) {
            return CompletableFuture.completedFuture(InitResult.error(notHere));
        }
        long now = time.milliseconds();
        TxnEntry entry = txns.computeIfAbsent(transactionalId, id -> new TxnEntry(id,
                new TxnSnapshot(producerIds.getAsLong(), -1, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_PRODUCER_EPOCH,
                        timeoutMs, TransactionState.EMPTY, Set.of(), -1, now)));
        synchronized (entry) {
            if (txns.get(transactionalId) != entry) {
                return CompletableFuture.completedFuture(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            TxnSnapshot txn = entry.current;
            if (entry.pending != null) {
                return CompletableFuture.completedFuture(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            boolean expected = expectedProducerId != RecordBatch.NO_PRODUCER_ID;
            if (expected && !(txn.producerEpoch() == RecordBatch.NO_PRODUCER_EPOCH
                    || expectedProducerId == txn.producerId()
                    || (expectedProducerId == txn.previousProducerId() && isEpochExhausted(expectedEpoch)))) {
                return CompletableFuture.completedFuture(InitResult.error(Errors.PRODUCER_FENCED));
            }
            switch (txn.state()) {
                case PREPARE_COMMIT, PREPARE_ABORT, PREPARE_EPOCH_FENCE:
                    return CompletableFuture.completedFuture(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
                case ONGOING:
                    // fence the current producer: abort its transaction with a bumped epoch; the client retries
                    abortWithFencedEpoch(entry, "a new producer with the same transactional id initialised");
                    return CompletableFuture.completedFuture(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
                case DEAD:
                    return CompletableFuture.completedFuture(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
                default:
                    break;
            }
            TxnSnapshot bumped = bumpEpoch(txn, timeoutMs, expected ? expectedEpoch : null, now);
            if (bumped == null) {
                return CompletableFuture.completedFuture(InitResult.error(Errors.PRODUCER_FENCED));
            }
            if (bumped == txn) {
                // a retry of a bump the producer did not hear about: answer it again
                return CompletableFuture.completedFuture(new InitResult(Errors.NONE, txn.producerId(), txn.producerEpoch()));
            }
            return write(entry, bumped).thenApply(error -> error == Errors.NONE
                    ? new InitResult(Errors.NONE, bumped.producerId(), bumped.producerEpoch())
                    : InitResult.error(error));
        }
    }

    private static boolean isEpochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    /**
     * The Empty state with the next epoch (a new producer id once the epoch is exhausted); the state itself
     * when {@code expectedEpoch} is the epoch before the last bump (a retry); null when the producer is fenced.
     */
    private TxnSnapshot bumpEpoch(TxnSnapshot txn, int timeoutMs, Short expectedEpoch, long now) {
        if (expectedEpoch != null && expectedEpoch != RecordBatch.NO_PRODUCER_EPOCH && expectedEpoch != txn.producerEpoch()) {
            if (txn.lastProducerEpoch() != RecordBatch.NO_PRODUCER_EPOCH && expectedEpoch == txn.lastProducerEpoch()) {
                return txn;
            }
            return null;
        }
        if (isEpochExhausted(txn.producerEpoch())) {
            return new TxnSnapshot(producerIds.getAsLong(), txn.producerId(), (short) 0, RecordBatch.NO_PRODUCER_EPOCH,
                    timeoutMs, TransactionState.EMPTY, Set.of(), -1, now, -1L, txn.transactionVersion());
        }
        return new TxnSnapshot(txn.producerId(), txn.previousProducerId(), (short) (txn.producerEpoch() + 1),
                txn.producerEpoch(), timeoutMs, TransactionState.EMPTY, Set.of(), -1, now, -1L, txn.transactionVersion());
    }

    /**
     * Aborts the ongoing transaction of {@code entry} with the epoch bumped, so its producer is fenced
     * (PrepareEpochFence, then PrepareAbort written with the new epoch). Holds the entry's monitor.
     */
    private void abortWithFencedEpoch(TxnEntry entry, String why) {
        TxnSnapshot txn = entry.current;
        short epoch = isEpochExhausted(txn.producerEpoch()) ? txn.producerEpoch() : (short) (txn.producerEpoch() + 1);
        log.info("Aborting the transaction of {} (producer {} epoch {}): {}", entry.transactionalId, txn.producerId(),
                txn.producerEpoch(), why);
        // as Kafka: no last epoch, so the fenced producer's own KIP-360 retry is fenced too
        TxnSnapshot fenced = new TxnSnapshot(txn.producerId(), txn.previousProducerId(), epoch, RecordBatch.NO_PRODUCER_EPOCH,
                txn.timeoutMs(), TransactionState.PREPARE_EPOCH_FENCE, txn.partitions(), txn.startTimestamp(),
                time.milliseconds(), -1L, txn.transactionVersion());
        // PrepareEpochFence lives in memory only, as in Kafka; the abort that follows is what gets written
        entry.current = fenced;
        // the abort bumps once more, as Kafka's does at the broker's transaction.version (2, finalized here): the
        // stored epoch ends two above the fenced producer's, so that producer's EndTxn is never taken for a
        // retry of this one (unless the epoch is spent)
        boolean bumpAgain = epoch < Short.MAX_VALUE;
        prepareEnd(entry, false, bumpAgain).thenAccept(error -> {
            if (error != Errors.NONE) {
                synchronized (entry) {
                    if (entry.current == fenced) {
                        // the abort was not written: the producer keeps its epoch, a later attempt fences again
                        entry.current = txn;
                    }
                }
            }
        });
    }

    // ================================================================== AddPartitionsToTxn, AddOffsetsToTxn

    /**
     * Adds partitions to the transaction (Ongoing from now). Partitions of missing topics get
     * UNKNOWN_TOPIC_OR_PARTITION and the rest OPERATION_NOT_ATTEMPTED, as Kafka answers.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> addPartitions(String transactionalId, long producerId,
                                                                        short epoch, Collection<TopicPartition> partitions) {
        return addPartitions(transactionalId, producerId, epoch, partitions, (short) 0);
    }

    /**
     * As {@link #addPartitions(String, long, short, Collection)}, by a client of the given transaction version:
     * 2 when a partition leader or the group coordinator adds the partition for a transactions-v2 producer.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> addPartitions(String transactionalId, long producerId,
                                                                        short epoch, Collection<TopicPartition> partitions,
                                                                        short transactionVersion) {
        Map<TopicPartition, Errors> unknown = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            if (!catalog.hasPartition(tp.topic(), tp.partition())) {
                unknown.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
        }
        if (!unknown.isEmpty()) {
            for (TopicPartition tp : partitions) {
                unknown.putIfAbsent(tp, Errors.OPERATION_NOT_ATTEMPTED);
            }
            return CompletableFuture.completedFuture(unknown);
        }
        return addPartitionsUnchecked(transactionalId, producerId, epoch, partitions, transactionVersion)
                .thenApply(error -> sameError(partitions, error));
    }

    /** AddPartitionsToTxn v4+ with verifyOnly: NONE for partitions in the ongoing transaction, else INVALID_TXN_STATE. */
    public Map<TopicPartition, Errors> verifyPartitions(String transactionalId, long producerId, short epoch,
                                                        Collection<TopicPartition> partitions) {
        Errors error = coordinatorError(transactionalId);
        TxnEntry entry = txns.get(transactionalId);
        if (error == Errors.NONE && entry == null) {
            error = Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (error != Errors.NONE) {
            return sameError(partitions, error);
        }
        synchronized (entry) {
            TxnSnapshot txn = entry.current;
            Errors owner = txn.producerId() != producerId ? Errors.INVALID_PRODUCER_ID_MAPPING
                    : txn.producerEpoch() != epoch ? Errors.PRODUCER_FENCED : Errors.NONE;
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                out.put(tp, owner != Errors.NONE ? owner
                        : txn.state() == TransactionState.ONGOING && txn.partitions().contains(tp) ? Errors.NONE
                        : Errors.INVALID_TXN_STATE);
            }
            return out;
        }
    }

    /** AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction. */
    public CompletableFuture<Errors> addOffsets(String transactionalId, long producerId, short epoch, String groupId) {
        return addPartitionsUnchecked(transactionalId, producerId, epoch, List.of(groupOffsetsPartition.apply(groupId)),
                (short) 0);
    }

    /** The __consumer_offsets partition a group's transactional offsets are written to. */
    public TopicPartition groupOffsetsPartition(String groupId) {
        return groupOffsetsPartition.apply(groupId);
    }

    private static Map<TopicPartition, Errors> sameError(Collection<TopicPartition> partitions, Errors error) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            out.put(tp, error);
        }
        return out;
    }

    private CompletableFuture<Errors> addPartitionsUnchecked(String transactionalId, long producerId, short epoch,
                                                            Collection<TopicPartition> partitions,
                                                            short transactionVersion) {
        Errors notHere = coordinatorError(transactionalId);
        if (notHere != Errors.NONE) {
            return CompletableFuture.completedFuture(notHere);
        }
        TxnEntry entry = txns.get(transactionalId);
        if (entry == null) {
            return CompletableFuture.completedFuture(Errors.INVALID_PRODUCER_ID_MAPPING);
        }
        synchronized (entry) {
            TxnSnapshot txn = entry.current;
            if (txn.producerId() != producerId) {
                return CompletableFuture.completedFuture(Errors.INVALID_PRODUCER_ID_MAPPING);
            }
            if (txn.producerEpoch() != epoch) {
                return CompletableFuture.completedFuture(Errors.PRODUCER_FENCED);
            }
            if (entry.pending != null || txn.state() == TransactionState.PREPARE_COMMIT
                    || txn.state() == TransactionState.PREPARE_ABORT) {
                return CompletableFuture.completedFuture(Errors.CONCURRENT_TRANSACTIONS);
            }
            if (txn.state() == TransactionState.ONGOING && txn.partitions().containsAll(partitions)
                    && txn.transactionVersion() >= transactionVersion) {
                return CompletableFuture.completedFuture(Errors.NONE);
            }
            if (!TransactionState.ONGOING.validPrevious().contains(txn.state())) {
                return CompletableFuture.completedFuture(Errors.INVALID_TXN_STATE);
            }
            long now = time.milliseconds();
            Set<TopicPartition> all = new HashSet<>(txn.state() == TransactionState.ONGOING ? txn.partitions() : Set.of());
            all.addAll(partitions);
            long start = txn.state() == TransactionState.ONGOING ? txn.startTimestamp() : now;
            TxnSnapshot ongoing = new TxnSnapshot(txn.producerId(), txn.previousProducerId(), txn.producerEpoch(),
                    txn.lastProducerEpoch(), txn.timeoutMs(), TransactionState.ONGOING, all, start, now, -1L,
                    (short) Math.max(transactionVersion, txn.state() == TransactionState.ONGOING ? txn.transactionVersion() : 0));
            return write(entry, ongoing);
        }
    }

    // ================================================================== EndTxn

    /**
     * EndTxn: writes PrepareCommit or PrepareAbort and answers once that is acknowledged; the markers and the
     * Complete state follow in the background. Kafka's answers for retries and wrong states.
     */
    public CompletableFuture<Errors> endTransaction(String transactionalId, long producerId, short epoch, boolean commit) {
        return endTransaction(transactionalId, producerId, epoch, commit, (short) 0).thenApply(EndResult::error);
    }

    /**
     * EndTxn of a client of {@code transactionVersion} (2 from EndTxn v5, KIP-890): for transactions v2 the
     * prepared state carries the producer epoch bumped (the markers fence the transaction's own late writes),
     * or, when the epoch is exhausted, a next producer id that the Complete state moves to; the answer says
     * which id and epoch the producer continues with. A retry with the epoch before the bump is recognised.
     */
    public CompletableFuture<EndResult> endTransaction(String transactionalId, long producerId, short epoch,
                                                       boolean commit, short transactionVersion) {
        Errors notHere = coordinatorError(transactionalId);
        if (notHere != Errors.NONE) {
            return CompletableFuture.completedFuture(EndResult.error(notHere));
        }
        TxnEntry entry = txns.get(transactionalId);
        if (entry == null) {
            return CompletableFuture.completedFuture(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
        }
        boolean tv2 = transactionVersion >= 2;
        synchronized (entry) {
            TxnSnapshot txn = entry.current;
            // Kafka's retry rules for transactions v2, from what __transaction_state keeps (so a retry reaching the
            // next coordinator after a failover is recognised too): the bump happened (same id, stored epoch one
            // above the request's), or the exhausted epoch moved the producer to the next id (PreviousProducerId).
            // A timed-out or fenced transaction's abort bumps twice, so its producer's old epoch is no retry.
            boolean fencing = txn.state() == TransactionState.PREPARE_EPOCH_FENCE;
            boolean retryOnOverflow = tv2 && !fencing && txn.previousProducerId() == producerId
                    && epoch == Short.MAX_VALUE - 1 && txn.producerEpoch() == 0;
            boolean retryOnBump = tv2 && !fencing && txn.producerId() == producerId && txn.producerEpoch() == epoch + 1;
            boolean retry = retryOnOverflow || retryOnBump;
            boolean validEpoch = !tv2 ? txn.producerEpoch() == epoch : switch (txn.state()) {
                case ONGOING, EMPTY, DEAD, PREPARE_EPOCH_FENCE -> txn.producerEpoch() == epoch;
                // the retry, or the producer's next transaction ending before these markers are written (answered
                // CONCURRENT_TRANSACTIONS below, which the client retries; fenced, its producer would be lost)
                case PREPARE_COMMIT, PREPARE_ABORT -> retryOnBump || txn.producerEpoch() == epoch;
                case COMPLETE_COMMIT, COMPLETE_ABORT -> retry || txn.producerEpoch() == epoch;
            };
            if (txn.producerId() != producerId && !retryOnOverflow) {
                return CompletableFuture.completedFuture(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
            }
            if (!validEpoch) {
                return CompletableFuture.completedFuture(EndResult.error(Errors.PRODUCER_FENCED));
            }
            if (entry.pending != null) {
                return CompletableFuture.completedFuture(EndResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            EndResult same = new EndResult(Errors.NONE, txn.producerId(), txn.producerEpoch());
            Errors error = switch (txn.state()) {
                case ONGOING -> retry ? Errors.PRODUCER_FENCED : null;
                case COMPLETE_COMMIT -> commit ? (tv2 && !retry ? Errors.INVALID_TXN_STATE : Errors.NONE)
                        : (tv2 && !retry ? null : Errors.INVALID_TXN_STATE);
                case COMPLETE_ABORT -> !commit ? (tv2 && !retry ? null : Errors.NONE) : Errors.INVALID_TXN_STATE;
                // markers still being written: Kafka holds the Complete transition pending meanwhile and answers
                // every EndTxn CONCURRENT_TRANSACTIONS (retriable), also a transactions v2 producer's next transaction
                // ending before the previous one's markers are all written (as while a partition's leader moves)
                case PREPARE_COMMIT, PREPARE_ABORT -> Errors.CONCURRENT_TRANSACTIONS;
                case PREPARE_EPOCH_FENCE -> Errors.PRODUCER_FENCED;
                // transactions v2 may abort a transaction no partition joined yet
                case EMPTY -> tv2 && !commit && !retry ? null : Errors.INVALID_TXN_STATE;
                case DEAD -> Errors.INVALID_TXN_STATE;
            };
            if (error == Errors.NONE) {
                return CompletableFuture.completedFuture(same);
            }
            if (error != null) {
                return CompletableFuture.completedFuture(EndResult.error(error));
            }
            return prepareEnd(entry, commit, tv2).thenApply(written -> {
                if (written != Errors.NONE) {
                    return EndResult.error(written);
                }
                synchronized (entry) {
                    TxnSnapshot prepared = entry.current;
                    return prepared.nextProducerId() >= 0
                            ? new EndResult(Errors.NONE, prepared.nextProducerId(), (short) 0)
                            : new EndResult(Errors.NONE, prepared.producerId(), prepared.producerEpoch());
                }
            });
        }
    }

    /**
     * Writes PrepareCommit/PrepareAbort of the current transaction, then completes it; {@code bumpForV2}: a
     * transactions-v2 client's EndTxn, whose epoch is bumped. Holds the entry's monitor.
     */
    private CompletableFuture<Errors> prepareEnd(TxnEntry entry, boolean commit, boolean bumpForV2) {
        TxnSnapshot txn = entry.current;
        long now = time.milliseconds();
        TransactionState state = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
        TxnSnapshot prepared;
        if (bumpForV2) {
            // the epoch never overflows: an exhausted one moves to a new producer id once the markers are written
            // (not for a fence's abort, as Kafka: the fenced producer never continues)
            boolean fencing = txn.state() == TransactionState.PREPARE_EPOCH_FENCE;
            long nextProducerId = !fencing && isEpochExhausted(txn.producerEpoch()) ? producerIds.getAsLong() : -1L;
            boolean empty = txn.state() != TransactionState.ONGOING && !fencing;
            prepared = new TxnSnapshot(txn.producerId(), txn.previousProducerId(), (short) (txn.producerEpoch() + 1),
                    txn.producerEpoch(), txn.timeoutMs(), state, empty ? Set.of() : txn.partitions(),
                    empty ? now : txn.startTimestamp(), now, nextProducerId, (short) 2);
        } else {
            prepared = txn.withState(state, txn.partitions(), now);
        }
        return write(entry, prepared).thenApply(error -> {
            if (error == Errors.NONE) {
                synchronized (entry) {
                    sendMarkersThenComplete(entry, prepared);
                }
            }
            return error;
        });
    }

    /** Has the markers of a prepared transaction written on all its partitions, then writes the Complete state. */
    private void sendMarkersThenComplete(TxnEntry entry, TxnSnapshot prepared) {
        boolean commit = prepared.state() == TransactionState.PREPARE_COMMIT;
        sendMarkers(entry, prepared, new HashSet<>(prepared.partitions())).thenAccept(ignored -> {
            synchronized (entry) {
                if (txns.get(entry.transactionalId) != entry || entry.current != prepared) {
                    return; // unloaded meanwhile: the next coordinator finishes it
                }
                TransactionState completeState = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
                TxnSnapshot complete = prepared.nextProducerId() >= 0
                        // the exhausted epoch's transaction is done: the producer continues as the next id at epoch 0
                        ? new TxnSnapshot(prepared.nextProducerId(), prepared.producerId(), (short) 0,
                                RecordBatch.NO_PRODUCER_EPOCH, prepared.timeoutMs(), completeState, Set.of(),
                                prepared.startTimestamp(), time.milliseconds(), -1L, prepared.transactionVersion())
                        : prepared.withState(completeState, Set.of(), time.milliseconds());
                write(entry, complete).thenAccept(error -> {
                    if (error != Errors.NONE) {
                        log.warn("Writing {} of {} failed ({}); the next leader of its partition completes it",
                                complete.state().stateName(), entry.transactionalId, error);
                    }
                });
            }
        });
    }

    /** Completes once every partition in {@code remaining} has the marker (or is gone); retries the others. */
    private CompletableFuture<Void> sendMarkers(TxnEntry entry, TxnSnapshot prepared, Set<TopicPartition> remaining) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        sendMarkersOnce(entry, prepared, remaining, done);
        return done;
    }

    private void sendMarkersOnce(TxnEntry entry, TxnSnapshot prepared, Set<TopicPartition> remaining,
                                 CompletableFuture<Void> done) {
        remaining.removeIf(tp -> !catalog.hasPartition(tp.topic(), tp.partition())); // deleted meanwhile
        if (remaining.isEmpty()) {
            done.complete(null);
            return;
        }
        if (txns.get(entry.transactionalId) != entry) {
            return; // this broker no longer coordinates the id: the new coordinator sends them again
        }
        boolean commit = prepared.state() == TransactionState.PREPARE_COMMIT;
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : remaining) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        WriteTxnMarkersRequestData.WritableTxnMarker marker = new WriteTxnMarkersRequestData.WritableTxnMarker()
                .setProducerId(prepared.producerId()).setProducerEpoch(prepared.producerEpoch())
                .setTransactionResult(commit).setCoordinatorEpoch(stateLog.leaderEpoch(partitionFor(entry.transactionalId)))
                // transactions v2 markers carry an epoch above the producer's data (storage checks by this)
                .setTransactionVersion((byte) (prepared.isTransactionsV2() ? 2 : 0));
        byTopic.forEach((topic, ps) -> marker.topics().add(
                new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(topic).setPartitionIndexes(ps)));
        WriteTxnMarkersRequestData request = new WriteTxnMarkersRequestData();
        request.markers().add(marker);
        CompletableFuture<WriteTxnMarkersResponseData> sent;
        try {
            sent = markers.send(request).toCompletableFuture();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        // on the scheduler: a leader's answer may complete under its partition's lock
        sent.whenCompleteAsync((response, e) -> {
            if (e != null) {
                log.debug("Sending the markers of {} failed: {}; retrying", entry.transactionalId, e.toString());
            } else {
                for (WriteTxnMarkersResponseData.WritableTxnMarkerResult result : response.markers()) {
                    for (WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult t : result.topics()) {
                        for (WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult p : t.partitions()) {
                            Errors error = Errors.forCode(p.errorCode());
                            if (markerDone(entry, error, t.name(), p.partitionIndex())) {
                                remaining.remove(new TopicPartition(t.name(), p.partitionIndex()));
                            }
                        }
                    }
                }
            }
            if (remaining.isEmpty()) {
                done.complete(null);
            } else {
                scheduler.schedule(() -> sendMarkersOnce(entry, prepared, remaining, done), config.markerRetryBackoffMs(),
                        TimeUnit.MILLISECONDS);
            }
        }, scheduler);
    }

    /** Whether a partition's answer ends the sending for it (written, or a marker that can never be written). */
    private static boolean markerDone(TxnEntry entry, Errors error, String topic, int partition) {
        return switch (error) {
            case NONE -> true;
            case NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS,
                    NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR,
                    COORDINATOR_LOAD_IN_PROGRESS, NETWORK_EXCEPTION, LEADER_NOT_AVAILABLE -> false;
            default -> {
                log.warn("The marker of {} on {}-{} was refused with {}; not retrying", entry.transactionalId, topic,
                        partition, error);
                yield true;
            }
        };
    }

    // ================================================================== writes

    /**
     * Writes {@code target} as the id's next state; it becomes current once acknowledged. Holds the entry's
     * monitor; the answer is the error for the client (NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE).
     */
    private CompletableFuture<Errors> write(TxnEntry entry, TxnSnapshot target) {
        if (!target.state().validPrevious().contains(entry.current.state()) && entry.current != target) {
            throw new IllegalStateException("Transaction " + entry.transactionalId + " cannot go from "
                    + entry.current.state().stateName() + " to " + target.state().stateName());
        }
        entry.pending = target;
        CompletableFuture<Void> written;
        int partition = partitionFor(entry.transactionalId);
        CoordinatorRecord record = TransactionRecords.record(entry.transactionalId,
                target.state() == TransactionState.DEAD ? null : target);
        try {
            written = stateLog.append(partition, List.of(record));
        } catch (RuntimeException e) {
            written = CompletableFuture.failedFuture(e);
        }
        // a write acknowledged later may be completed under the partition's lock (a leadership change failing
        // it); the entry's monitor is then taken on the scheduler, never under that lock
        java.util.function.BiFunction<Void, Throwable, Errors> apply = (ignored, e) -> {
            synchronized (entry) {
                entry.pending = null;
                if (e != null) {
                    Errors error = appendError(e);
                    log.warn("Writing state {} of {} failed: {}", target.state().stateName(), entry.transactionalId, error);
                    return error;
                }
                if (txns.get(entry.transactionalId) != entry) {
                    return Errors.NOT_COORDINATOR;
                }
                entry.current = target;
                if (target.state() == TransactionState.DEAD) {
                    txns.remove(entry.transactionalId, entry);
                }
                return Errors.NONE;
            }
        };
        return written.isDone() ? written.handle(apply) : written.handleAsync(apply, scheduler);
    }

    /** Kafka's mapping of a failed __transaction_state write to the client's error. */
    private static Errors appendError(Throwable e) {
        Throwable cause = e instanceof CompletionException c && c.getCause() != null ? c.getCause() : e;
        return switch (Errors.forException(cause)) {
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                    Errors.COORDINATOR_NOT_AVAILABLE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            default -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    // ================================================================== timers

    /** transaction.timeout.ms: an ongoing transaction open longer is aborted, its producer fenced. */
    void abortTimedOutTransactions() {
        long now = time.milliseconds();
        for (TxnEntry entry : txns.values()) {
            try {
                synchronized (entry) {
                    TxnSnapshot txn = entry.current;
                    if (entry.pending == null && txn.state() == TransactionState.ONGOING
                            && txn.startTimestamp() + txn.timeoutMs() < now && txns.get(entry.transactionalId) == entry) {
                        abortWithFencedEpoch(entry, "it timed out after " + txn.timeoutMs() + " ms");
                    }
                }
            } catch (RuntimeException e) {
                log.warn("Aborting the timed-out transaction of {} failed", entry.transactionalId, e);
            }
        }
    }

    /** transactional.id.expiration.ms: an id idle that long is removed (tombstoned). */
    void expireTransactionalIds() {
        long now = time.milliseconds();
        for (TxnEntry entry : txns.values()) {
            try {
                synchronized (entry) {
                    TxnSnapshot txn = entry.current;
                    if (entry.pending == null && txn.state().isIdle()
                            && txn.updateTimestamp() + config.transactionalIdExpirationMs() <= now
                            && txns.get(entry.transactionalId) == entry) {
                        log.info("Transactional id {} expired after {} ms without use", entry.transactionalId,
                                config.transactionalIdExpirationMs());
                        write(entry, txn.withState(TransactionState.DEAD, Set.of(), now));
                    }
                }
            } catch (RuntimeException e) {
                log.warn("Expiring transactional id {} failed", entry.transactionalId, e);
            }
        }
    }

    // ================================================================== DescribeTransactions, ListTransactions

    public DescribeTransactionsResponseData.TransactionState describe(String transactionalId) {
        Errors notHere = coordinatorError(transactionalId);
        DescribeTransactionsResponseData.TransactionState out = new DescribeTransactionsResponseData.TransactionState()
                .setTransactionalId(transactionalId);
        if (notHere != Errors.NONE) {
            return out.setErrorCode(notHere.code());
        }
        TxnEntry entry = txns.get(transactionalId);
        if (entry == null) {
            return out.setErrorCode(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
        }
        synchronized (entry) {
            TxnSnapshot txn = entry.current;
            Map<String, List<Integer>> byTopic = new TreeMap<>();
            for (TopicPartition tp : txn.partitions()) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
            byTopic.forEach((topic, ps) -> out.topics().add(new DescribeTransactionsResponseData.TopicData().setTopic(topic).setPartitions(ps)));
            return out.setErrorCode(Errors.NONE.code()).setTransactionState(txn.state().stateName())
                    .setTransactionTimeoutMs(txn.timeoutMs()).setTransactionStartTimeMs(txn.startTimestamp())
                    .setProducerId(txn.producerId()).setProducerEpoch(txn.producerEpoch());
        }
    }

    /**
     * ListTransactions: the ids this broker coordinates, filtered by state names, producer ids, minimum
     * running time ({@code durationFilterMs}, -1 for none) and transactional id pattern (null for none).
     */
    public ListTransactionsResponseData list(Collection<String> stateFilters, Collection<Long> producerIdFilters,
                                             long durationFilterMs, String idPattern) {
        ListTransactionsResponseData response = new ListTransactionsResponseData();
        if (!loading.isEmpty()) {
            return response.setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code());
        }
        Set<TransactionState> states = new HashSet<>();
        for (String name : stateFilters) {
            TransactionState s = TransactionState.fromName(name);
            if (s == null) {
                response.unknownStateFilters().add(name);
            } else {
                states.add(s);
            }
        }
        Pattern pattern;
        try {
            pattern = idPattern == null || idPattern.isEmpty() ? null : Pattern.compile(idPattern);
        } catch (RuntimeException e) {
            return response.setErrorCode(Errors.INVALID_REGULAR_EXPRESSION.code());
        }
        long now = time.milliseconds();
        for (TxnEntry entry : txns.values()) {
            synchronized (entry) {
                TxnSnapshot txn = entry.current;
                boolean wanted = (stateFilters.isEmpty() || states.contains(txn.state()))
                        && (producerIdFilters.isEmpty() || producerIdFilters.contains(txn.producerId()))
                        && (durationFilterMs < 0 || (txn.startTimestamp() >= 0 && now - txn.startTimestamp() >= durationFilterMs))
                        && (pattern == null || pattern.matcher(entry.transactionalId).matches());
                if (wanted && txn.state() != TransactionState.DEAD) {
                    response.transactionStates().add(new ListTransactionsResponseData.TransactionState()
                            .setTransactionalId(entry.transactionalId).setProducerId(txn.producerId())
                            .setTransactionState(txn.state().stateName()));
                }
            }
        }
        return response.setErrorCode(Errors.NONE.code());
    }

    /** For tests and tools: the state of an id this broker coordinates, or null. */
    public TxnSnapshot snapshot(String transactionalId) {
        TxnEntry entry = txns.get(transactionalId);
        if (entry == null) {
            return null;
        }
        synchronized (entry) {
            return entry.current;
        }
    }
}
