package io.gregor.broker.replica;

import io.gregor.broker.metadata.PartitionState;
import io.gregor.storage.AppendResult;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.VerificationGuard;
import io.gregor.storage.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * A partition hosted by this broker: its log plus the replica state around it. As leader it tracks each
 * follower's log end offset (from its fetches), moves the high watermark to the smallest log end offset
 * of the ISR, shrinks the ISR when a follower lags more than {@code replica.lag.time.max.ms} and grows it
 * when one catches up, and completes {@code acks=all} produces once the high watermark passes them. As a
 * follower it only appends what its replica fetcher brings. A broker without a cluster leads every
 * partition alone, so the high watermark follows the log end offset.
 */
public final class Partition {
    private static final Logger logger = LoggerFactory.getLogger(Partition.class);

    private final TopicPartition topicPartition;
    private final Uuid topicId;
    private final PartitionLog log;
    private final FetchPurgatory purgatory;
    private final int localBrokerId;
    private final IsrWriter isrWriter;
    private final ScheduledExecutorService timer;
    /** The broker's clock; null for a single-broker partition, which tracks no followers. */
    private final Time time;

    private volatile boolean leader;
    private volatile int leaderId;
    private volatile int leaderEpoch;
    private volatile List<Integer> isr;
    private volatile List<Integer> assignedReplicas;
    private volatile PartitionState state;
    private volatile long leaderEpochStartOffset;
    private final Map<Integer, FollowerState> followers = new ConcurrentHashMap<>();
    /** Told of this leader's ISR shrinks and expansions (the IsrShrinksPerSec and IsrExpandsPerSec meters). */
    private volatile IsrChangeListener isrChanges = shrink -> { };
    /** acks=all produces waiting for the high watermark, in offset order. Guarded by this. */
    private final ArrayDeque<PendingProduce> pending = new ArrayDeque<>();
    /** DeleteRecords waiting for the low watermark to reach their offset. Guarded by this. */
    private final List<PendingDelete> pendingDeletes = new ArrayList<>();
    /** Appends above the high watermark (end offset, bytes), to tell waiting consumers how much arrived. */
    private final ArrayDeque<long[]> unreplicated = new ArrayDeque<>();

    /** A partition of a broker without a cluster: leader forever, alone in its ISR. */
    Partition(TopicPartition topicPartition, Uuid topicId, PartitionLog log, FetchPurgatory purgatory, int leaderEpoch) {
        this(topicPartition, topicId, log, purgatory, -1, null, null, null);
        this.leader = true;
        this.leaderEpoch = leaderEpoch;
        this.isr = List.of(localBrokerId);
        this.assignedReplicas = List.of(localBrokerId);
        // After an unclean shutdown the checkpointed high watermark lags the recovered log; alone in its ISR
        // the leader has every record it holds, so consumers (and retried acks=all duplicates) see them all now.
        maybeAdvanceHighWatermark();
    }

    Partition(TopicPartition topicPartition, Uuid topicId, PartitionLog log, FetchPurgatory purgatory,
              int localBrokerId, IsrWriter isrWriter, ScheduledExecutorService timer, Time time) {
        this.time = time;
        this.topicPartition = topicPartition;
        this.topicId = topicId;
        this.log = log;
        this.purgatory = purgatory;
        this.localBrokerId = localBrokerId;
        this.isrWriter = isrWriter;
        this.timer = timer;
        this.leaderId = -1;
        this.isr = List.of();
        this.assignedReplicas = List.of();
    }

    /** Told when a leader shrinks (true) or expands (false) a partition's ISR. */
    public interface IsrChangeListener {
        void isrChanged(boolean shrink);
    }

    void isrChangeListener(IsrChangeListener listener) {
        this.isrChanges = listener;
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public Uuid topicId() {
        return topicId;
    }

    public PartitionLog log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public boolean isLeader() {
        return leader;
    }

    /** This broker's id (-1 without a cluster). */
    public int localBrokerId() {
        return localBrokerId;
    }

    public int leaderId() {
        return leaderId;
    }

    public List<Integer> isr() {
        return isr;
    }

    /** The brokers assigned to hold this partition (this broker alone without a cluster). */
    public List<Integer> replicas() {
        return assignedReplicas;
    }

    /** Replicas currently in sync with the leader, the leader included. */
    public int inSyncReplicaCount() {
        return isr.size();
    }

    // ------------------------------------------------------------------ leadership changes

    /** This broker leads from {@code s} on; a new epoch forgets what followers had fetched. */
    synchronized void makeLeader(PartitionState s, List<Integer> replicas) {
        boolean newEpoch = !leader || s.leaderEpoch() != leaderEpoch;
        state = s;
        isr = s.isr();
        assignedReplicas = List.copyOf(replicas);
        leaderId = localBrokerId;
        leaderEpoch = s.leaderEpoch();
        if (newEpoch) {
            long now = time.milliseconds();
            followers.clear();
            for (int r : replicas) {
                if (r != localBrokerId) {
                    followers.put(r, new FollowerState(now));
                }
            }
            leaderEpochStartOffset = log.logEndOffset();
            log.assignEpochStartOffset(leaderEpoch);
            unreplicated.clear();
            logger.info("{}: leader at epoch {} from offset {}, ISR {}", topicPartition, leaderEpoch,
                    leaderEpochStartOffset, isr);
        }
        leader = true;
        maybeAdvanceHighWatermark();
    }

    /** Another broker leads (or nobody does): waiting produces fail, waiting fetches answer. */
    synchronized void makeFollower(PartitionState s, List<Integer> replicas) {
        boolean wasLeader = leader;
        leader = false;
        state = s;
        isr = s.isr();
        assignedReplicas = List.copyOf(replicas);
        leaderId = s.leader();
        leaderEpoch = s.leaderEpoch();
        followers.clear();
        unreplicated.clear();
        failPending(Errors.NOT_LEADER_OR_FOLLOWER);
        failPendingDeletes();
        if (wasLeader) {
            logger.info("{}: follower of {} at epoch {}", topicPartition, leaderId, leaderEpoch);
            purgatory.wakeAll(topicPartition);
        }
    }

    // ------------------------------------------------------------------ leader side

    /** Appends a produce request's records for this partition and wakes fetches waiting for data. */
    public AppendResult appendAsLeader(ByteBuffer records, long nowMs) {
        return appendAsLeader(records, nowMs, false, null);
    }

    /**
     * {@link #appendAsLeader(ByteBuffer, long)} under transaction verification: {@code guard} is the one the log
     * handed out before the coordinator was asked, or {@link VerificationGuard#SENTINEL} when it was not asked
     * because the transaction was open here (see {@link io.gregor.storage.PartitionLog#append(ByteBuffer, int,
     * long, VerificationGuard)}).
     */
    public AppendResult appendAsLeader(ByteBuffer records, long nowMs, VerificationGuard guard) {
        return appendAsLeader(records, nowMs, false, guard);
    }

    /**
     * Appends a coordinator's records (group metadata, offset commits; transactional ones carry the producer's
     * id and epoch but no sequence), checked as Kafka checks coordinator writes.
     */
    public AppendResult appendFromCoordinator(ByteBuffer records, long nowMs) {
        return appendAsLeader(records, nowMs, true, null);
    }

    /** A coordinator's transactional write under transaction verification (see {@link #appendAsLeader(ByteBuffer, long, VerificationGuard)}). */
    public AppendResult appendFromCoordinator(ByteBuffer records, long nowMs, VerificationGuard guard) {
        return appendAsLeader(records, nowMs, true, guard);
    }

    private AppendResult appendAsLeader(ByteBuffer records, long nowMs, boolean fromCoordinator,
                                        VerificationGuard guard) {
        int bytes = records.remaining();
        AppendResult result;
        synchronized (this) {
            // under the lock, so leadership cannot move between the check and the append's epoch
            if (!leader) {
                throw new NotLeaderOrFollowerException("Broker " + localBrokerId + " is not the leader of "
                        + topicPartition);
            }
            result = fromCoordinator ? (guard == null ? log.appendFromCoordinator(records, leaderEpoch, nowMs)
                    : log.appendFromCoordinator(records, leaderEpoch, nowMs, guard))
                    : guard == null ? log.append(records, leaderEpoch, nowMs)
                    : log.append(records, leaderEpoch, nowMs, guard);
            if (!result.duplicate()) {
                unreplicated.addLast(new long[]{result.lastOffset() + 1, bytes});
            }
        }
        if (!result.duplicate()) {
            purgatory.onAppend(topicPartition, bytes);
            maybeAdvanceHighWatermark();
        }
        return result;
    }

    /**
     * Writes a transaction marker for a producer (WriteTxnMarkers), as the leader at its current epoch; it is
     * replicated like any batch, and waiting fetches are told as for an append.
     */
    public AppendResult appendTxnMarker(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                                        int transactionVersion, long nowMs) {
        AppendResult result;
        int bytes;
        synchronized (this) {
            if (!leader) {
                throw new NotLeaderOrFollowerException("Broker " + localBrokerId + " is not the leader of "
                        + topicPartition);
            }
            long endBefore = log.sizeInBytes();
            result = log.appendTxnMarker(producerId, producerEpoch, coordinatorEpoch, commit, transactionVersion,
                    leaderEpoch, nowMs);
            bytes = (int) Math.max(1, log.sizeInBytes() - endBefore);
            unreplicated.addLast(new long[]{result.lastOffset() + 1, bytes});
        }
        purgatory.onAppend(topicPartition, bytes);
        maybeAdvanceHighWatermark();
        return result;
    }

    /**
     * A follower fetched from {@code fetchOffset}: that is its log end offset. Updates when it was last
     * caught up, may add it to the ISR and may move the high watermark. {@code followerLogStartOffset} (-1 from
     * fetches before version 5) is what DeleteRecords waits for.
     */
    public void updateFollower(int replicaId, long fetchOffset, long followerLogStartOffset, long nowMs) {
        FollowerState f = followers.get(replicaId);
        if (f == null || !leader) {
            return;
        }
        long leaderEnd = log.logEndOffset();
        boolean startMoved;
        synchronized (f) {
            startMoved = followerLogStartOffset != f.logStartOffset;
            f.logStartOffset = followerLogStartOffset;
            if (fetchOffset >= leaderEnd) {
                f.lastCaughtUpMs = nowMs;
            } else if (fetchOffset >= f.leaderEndAtLastFetch) {
                f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
            }
            f.logEndOffset = fetchOffset;
            f.leaderEndAtLastFetch = leaderEnd;
            f.lastFetchMs = nowMs;
        }
        if (!isr.contains(replicaId) && fetchOffset >= log.highWatermark() && fetchOffset >= leaderEpochStartOffset) {
            expandIsr(replicaId);
        }
        maybeAdvanceHighWatermark();
        if (startMoved) {
            completeDeletes();
        }
    }

    /**
     * Kafka's low watermark: the smallest log start offset of this leader and of its followers on live brokers
     * ({@code alive}); a follower that has not reported one yet holds it at -1.
     */
    public long lowWatermark(IntPredicate alive) {
        long low = log.logStartOffset();
        for (Map.Entry<Integer, FollowerState> e : followers.entrySet()) {
            if (alive.test(e.getKey())) {
                FollowerState f = e.getValue();
                synchronized (f) {
                    low = Math.min(low, f.logStartOffset);
                }
            }
        }
        return low;
    }

    /**
     * DeleteRecords after the leader moved its log start to {@code offset}: completes with the low watermark once
     * every live replica's log start reached it (Kafka's DelayedDeleteRecords), with REQUEST_TIMED_OUT after
     * {@code timeoutMs}, or NOT_LEADER_OR_FOLLOWER if leadership moves first. Followers report their log start
     * in their fetches, after taking the leader's from a fetch answer.
     */
    public CompletableFuture<DeleteResult> awaitLowWatermark(long offset, IntPredicate alive, long timeoutMs) {
        CompletableFuture<DeleteResult> done = new CompletableFuture<>();
        synchronized (this) {
            if (!leader) {
                done.complete(new DeleteResult(Errors.NOT_LEADER_OR_FOLLOWER, -1));
                return done;
            }
            long low = lowWatermark(alive);
            if (low >= offset || timer == null) {
                done.complete(new DeleteResult(Errors.NONE, low));
                return done;
            }
            PendingDelete d = new PendingDelete(offset, alive, done);
            pendingDeletes.add(d);
            d.timeout = timer.schedule(() -> {
                synchronized (this) {
                    pendingDeletes.remove(d);
                }
                done.complete(new DeleteResult(Errors.REQUEST_TIMED_OUT, -1));
            }, timeoutMs, TimeUnit.MILLISECONDS);
        }
        return done;
    }

    /** A DeleteRecords answer for one partition: its error, and the low watermark when there is none. */
    public record DeleteResult(Errors error, long lowWatermark) {
    }

    private void completeDeletes() {
        List<Runnable> ready = new ArrayList<>();
        synchronized (this) {
            for (Iterator<PendingDelete> it = pendingDeletes.iterator(); it.hasNext(); ) {
                PendingDelete d = it.next();
                long low = lowWatermark(d.alive);
                if (low >= d.offset) {
                    it.remove();
                    d.timeout.cancel(false);
                    ready.add(() -> d.done.complete(new DeleteResult(Errors.NONE, low)));
                }
            }
        }
        ready.forEach(Runnable::run);
    }

    private void failPendingDeletes() {
        List<PendingDelete> all = new ArrayList<>(pendingDeletes);
        pendingDeletes.clear();
        for (PendingDelete d : all) {
            d.timeout.cancel(false);
            d.done.complete(new DeleteResult(Errors.NOT_LEADER_OR_FOLLOWER, -1));
        }
    }

    private synchronized void expandIsr(int replicaId) {
        if (!leader || isr.contains(replicaId) || isrWriter == null || state == null) {
            return;
        }
        List<Integer> newIsr = new ArrayList<>(isr);
        newIsr.add(replicaId);
        writeIsr(newIsr, "caught up: " + replicaId);
    }

    /** Drops followers that have not caught up within {@code lagMs}; run periodically on the leader. */
    synchronized void maybeShrinkIsr(long nowMs, long lagMs) {
        if (!leader || isrWriter == null || state == null) {
            return;
        }
        List<Integer> newIsr = new ArrayList<>();
        for (int r : isr) {
            FollowerState f = followers.get(r);
            if (r == localBrokerId || f == null || nowMs - f.lastCaughtUpMs <= lagMs) {
                newIsr.add(r);
            }
        }
        if (newIsr.size() < isr.size()) {
            writeIsr(newIsr, "lagging more than " + lagMs + " ms");
            maybeAdvanceHighWatermark();
        }
    }

    private void writeIsr(List<Integer> newIsr, String why) {
        PartitionState written = isrWriter.writeIsr(topicPartition, state, newIsr);
        if (written != null) {
            logger.info("{}: ISR {} -> {} ({})", topicPartition, isr, newIsr, why);
            isrChanges.isrChanged(written.isr().size() < isr.size());
            state = written;
            isr = written.isr();
        }
    }

    /** The state znode changed while this broker leads at the same epoch (e.g. its own ISR write). */
    synchronized void updateState(PartitionState s) {
        state = s;
        isr = s.isr();
        maybeAdvanceHighWatermark();
    }

    /** HW = the smallest log end offset in the ISR; it never moves back. Completes what it passed. */
    private void maybeAdvanceHighWatermark() {
        long newHw;
        synchronized (this) {
            if (!leader) {
                return;
            }
            newHw = log.logEndOffset();
            for (int r : isr) {
                if (r != localBrokerId) {
                    FollowerState f = followers.get(r);
                    newHw = Math.min(newHw, f == null ? -1 : f.logEndOffset);
                }
            }
            if (newHw <= log.highWatermark()) {
                return;
            }
            log.updateHighWatermark(newHw);
        }
        long bytes = 0;
        synchronized (this) {
            while (!unreplicated.isEmpty() && unreplicated.peekFirst()[0] <= newHw) {
                bytes += unreplicated.pollFirst()[1];
            }
        }
        purgatory.onHighWatermark(topicPartition, bytes == 0 ? 1 : bytes, !Thread.holdsLock(this));
        completePending();
    }

    /**
     * acks=all: completes with NONE once the high watermark reaches {@code requiredOffset} (then with
     * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below {@code minIsr} meanwhile), with
     * REQUEST_TIMED_OUT after {@code timeoutMs}, or NOT_LEADER_OR_FOLLOWER if leadership moves first.
     */
    public CompletableFuture<Errors> awaitReplication(long requiredOffset, int minIsr, long timeoutMs) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        synchronized (this) {
            if (!leader) {
                done.complete(Errors.NOT_LEADER_OR_FOLLOWER);
                return done;
            }
            if (log.highWatermark() >= requiredOffset) {
                done.complete(isr.size() < minIsr ? Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND : Errors.NONE);
                return done;
            }
            PendingProduce p = new PendingProduce(requiredOffset, minIsr, done);
            pending.addLast(p);
            if (timer != null) {
                p.timeout = timer.schedule(() -> {
                    synchronized (this) {
                        pending.remove(p);
                    }
                    done.complete(Errors.REQUEST_TIMED_OUT);
                }, timeoutMs, TimeUnit.MILLISECONDS);
            }
        }
        return done;
    }

    private void completePending() {
        List<PendingProduce> ready = new ArrayList<>();
        synchronized (this) {
            long hw = log.highWatermark();
            for (Iterator<PendingProduce> it = pending.iterator(); it.hasNext(); ) {
                PendingProduce p = it.next();
                if (p.requiredOffset <= hw) {
                    it.remove();
                    ready.add(p);
                }
            }
        }
        for (PendingProduce p : ready) {
            cancel(p);
            p.done.complete(isr.size() < p.minIsr ? Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND : Errors.NONE);
        }
    }

    private void failPending(Errors error) {
        List<PendingProduce> all = new ArrayList<>(pending);
        pending.clear();
        for (PendingProduce p : all) {
            cancel(p);
            p.done.complete(error);
        }
    }

    private static void cancel(PendingProduce p) {
        ScheduledFuture<?> t = p.timeout;
        if (t != null) {
            t.cancel(false);
        }
    }

    // ------------------------------------------------------------------ follower side

    /**
     * Appends what the leader sent, takes its high watermark (never above our own log end) and, as Kafka's
     * follower does, its log start offset (DeleteRecords or retention on the leader), never above our high
     * watermark: a replica that becomes leader must not serve records its old leader deleted.
     */
    public void appendAsFollower(ByteBuffer records, long leaderHighWatermark, long leaderLogStartOffset) {
        if (records.hasRemaining()) {
            log.appendAsFollower(records);
        }
        long hw = Math.min(leaderHighWatermark, log.logEndOffset());
        if (hw > log.highWatermark()) {
            log.updateHighWatermark(hw);
        }
        long start = Math.min(leaderLogStartOffset, log.highWatermark());
        if (start > log.logStartOffset()) {
            log.deleteRecordsBefore(start);
        }
    }

    private static final class FollowerState {
        long logEndOffset = -1;
        long logStartOffset = -1;
        long lastCaughtUpMs;
        long leaderEndAtLastFetch = -1;
        long lastFetchMs;

        FollowerState(long nowMs) {
            // an ISR member gets a full lag period to make its first fetch
            this.lastCaughtUpMs = nowMs;
            this.lastFetchMs = nowMs;
        }
    }

    private static final class PendingDelete {
        final long offset;
        final IntPredicate alive;
        final CompletableFuture<DeleteResult> done;
        volatile ScheduledFuture<?> timeout;

        PendingDelete(long offset, IntPredicate alive, CompletableFuture<DeleteResult> done) {
            this.offset = offset;
            this.alive = alive;
            this.done = done;
        }
    }

    private static final class PendingProduce {
        final long requiredOffset;
        final int minIsr;
        final CompletableFuture<Errors> done;
        volatile ScheduledFuture<?> timeout;

        PendingProduce(long requiredOffset, int minIsr, CompletableFuture<Errors> done) {
            this.requiredOffset = requiredOffset;
            this.minIsr = minIsr;
            this.done = done;
        }
    }
}
