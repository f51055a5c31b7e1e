package io.gregor.broker.replica;

import io.gregor.storage.TopicPartition;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Fetches waiting for {@code min.bytes} of new data or {@code max.wait.ms}, whichever comes first.
 * A consumer's fetch counts data that became visible (the high watermark moved); a follower's fetch
 * counts appends to the leader's log. A fetch completes as soon as enough has arrived, without any
 * thread blocking while it waits.
 */
public final class FetchPurgatory {
    private final ScheduledExecutorService timer;
    private final Executor completions;
    private final Map<TopicPartition, Set<Waiter>> watchers = new ConcurrentHashMap<>();

    /**
     * Fetches complete on {@code completions} when the thread that ends their wait must not answer them
     * itself: the timer thread at expiry, and callers holding a partition's lock (an inline read could
     * take other partitions' locks in another order).
     */
    public FetchPurgatory(ScheduledExecutorService timer, Executor completions) {
        this.timer = timer;
        this.completions = completions;
    }

    /**
     * Parks a fetch that has {@code bytesSoFar} of its {@code minBytes}; {@code complete} runs exactly
     * once, when enough was appended to one of {@code partitions} or after {@code maxWaitMs}. When data
     * completes it, it runs on the thread that made the data visible (as Kafka's delayed fetches do), so
     * a tailing consumer's answer leaves without another thread hand-off.
     */
    public void await(Collection<TopicPartition> partitions, long bytesSoFar, long minBytes, long maxWaitMs,
                      BooleanSupplier appendedMeanwhile, Runnable complete) {
        await(partitions, bytesSoFar, minBytes, maxWaitMs, false, appendedMeanwhile, complete);
    }

    /** As above; a {@code replica} fetch waits for appends rather than for the high watermark. */
    public void await(Collection<TopicPartition> partitions, long bytesSoFar, long minBytes, long maxWaitMs,
                      boolean replica, BooleanSupplier appendedMeanwhile, Runnable complete) {
        await(partitions, bytesSoFar, minBytes, maxWaitMs, replica, null, 0, appendedMeanwhile, complete);
    }

    /**
     * As above; when {@code visibleEndMoved} is given (a read_committed fetch, which reads below the last
     * stable offset), high watermark moves count only once it says what the fetch can see has moved: data of an
     * open transaction is not worth waking for. {@code bytesHeldBack}: the bytes already below the high watermark
     * but above what the fetch could see (an open transaction's); they count once the visible end moves.
     */
    public void await(Collection<TopicPartition> partitions, long bytesSoFar, long minBytes, long maxWaitMs,
                      boolean replica, BooleanSupplier visibleEndMoved, long bytesHeldBack,
                      BooleanSupplier appendedMeanwhile, Runnable complete) {
        Waiter waiter = new Waiter(partitions, bytesSoFar, minBytes, replica, visibleEndMoved, complete);
        waiter.heldBack.set(bytesHeldBack);
        for (TopicPartition tp : partitions) {
            watchers.computeIfAbsent(tp, k -> ConcurrentHashMap.newKeySet()).add(waiter);
        }
        waiter.timeout = timer.schedule(() -> completions.execute(waiter::fire), maxWaitMs,
                TimeUnit.MILLISECONDS);
        // An append between the caller's read and our registration was not counted: look again.
        if (appendedMeanwhile.getAsBoolean()) {
            waiter.fire();
        }
    }

    /** Records were appended to the leader's log (no lock held): followers' fetches count them. */
    void onAppend(TopicPartition tp, long bytes) {
        count(tp, bytes, true, true);
    }

    /**
     * The high watermark moved over {@code bytes} of records: consumers' fetches count them, answered on
     * this thread when {@code inline}, else on the completions executor.
     */
    void onHighWatermark(TopicPartition tp, long bytes, boolean inline) {
        count(tp, bytes, false, inline);
    }

    private void count(TopicPartition tp, long bytes, boolean replica, boolean inline) {
        Set<Waiter> waiting = watchers.get(tp);
        if (waiting == null) {
            return;
        }
        for (Waiter w : waiting) {
            if (w.replica == replica && w.count(bytes) >= w.minBytes) {
                if (inline) {
                    w.fire();
                } else {
                    completions.execute(w::fire);
                }
            }
        }
    }

    /** Wakes every fetch waiting on these partitions, e.g. when their topic is deleted (callers hold locks). */
    public void wakeAll(TopicPartition tp) {
        Set<Waiter> waiting = watchers.get(tp);
        if (waiting != null) {
            waiting.forEach(w -> completions.execute(w::fire));
        }
    }

    private final class Waiter {
        final Collection<TopicPartition> partitions;
        final AtomicLong bytes;
        final long minBytes;
        final boolean replica;
        final BooleanSupplier visibleEndMoved;
        final Runnable complete;
        /** A read_committed fetch's bytes that the high watermark passed while the LSO stayed behind them. */
        final AtomicLong heldBack = new AtomicLong();
        final AtomicBoolean fired = new AtomicBoolean();
        volatile ScheduledFuture<?> timeout;

        Waiter(Collection<TopicPartition> partitions, long bytesSoFar, long minBytes, boolean replica,
               BooleanSupplier visibleEndMoved, Runnable complete) {
            this.visibleEndMoved = visibleEndMoved;
            this.partitions = partitions;
            this.bytes = new AtomicLong(bytesSoFar);
            this.minBytes = minBytes;
            this.replica = replica;
            this.complete = complete;
        }

        /**
         * Counts {@code moved} bytes that the high watermark passed; returns the bytes this fetch can now read.
         * A read_committed fetch holds them back until its visible end (the LSO) moves: a commit marker makes
         * the whole transaction readable at once, as Kafka's delayed fetch measures up to the LSO, so a
         * fetch.min.bytes above the marker's size completes on the commit instead of waiting max.wait.ms. (With
         * another transaction still open past the LSO this over-counts: the fetch answers early, never late.)
         */
        long count(long moved) {
            if (visibleEndMoved == null) {
                return bytes.addAndGet(moved);
            }
            if (!visibleEndMoved.getAsBoolean()) {
                heldBack.addAndGet(moved);
                return bytes.get();
            }
            return bytes.addAndGet(moved + heldBack.getAndSet(0));
        }

        void fire() {
            if (!fired.compareAndSet(false, true)) {
                return;
            }
            ScheduledFuture<?> t = timeout;
            if (t != null) {
                t.cancel(false);
            }
            for (TopicPartition tp : partitions) {
                watchers.computeIfPresent(tp, (k, set) -> {
                    set.remove(this);
                    return set.isEmpty() ? null : set;
                });
            }
            complete.run();
        }
    }
}
