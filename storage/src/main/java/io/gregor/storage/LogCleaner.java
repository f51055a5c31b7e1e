package io.gregor.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Kafka's log cleaner for logs whose cleanup.policy contains compact: background threads pick the
 * filthiest log (dirty ratio above min.cleanable.dirty.ratio, or a dirty record older than
 * max.compaction.lag.ms), compact it with a {@link SegmentCleaner} and record the new first dirty offset,
 * which the manager persists in each log dir's {@code cleaner-offset-checkpoint}. The active segment, data
 * above the high watermark and segments younger than min.compaction.lag.ms are never cleaned.
 */
final class LogCleaner {
    private static final Logger log = LoggerFactory.getLogger(LogCleaner.class);
    static final String CHECKPOINT = "cleaner-offset-checkpoint";

    /** What to clean, chosen by {@link #evaluate}. */
    record Candidate(FileLog log, long firstDirtyOffset, long firstUncleanableOffset, double dirtyRatio,
                     long dirtyBytes, boolean needCompactionNow) {
    }

    private final StorageSettings settings;
    private final org.apache.kafka.common.utils.Time time;
    private final Supplier<Collection<FileLog>> logs;
    private final Consumer<FileLog> onCleaned;
    private final Map<TopicPartition, Long> firstDirtyOffsets = new ConcurrentHashMap<>();
    private final Set<TopicPartition> inProgress = new HashSet<>(); // guarded by itself
    private final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Object wakeup = new Object();
    private volatile boolean stopping;
    private final AtomicLong roundsCompleted = new AtomicLong();
    private final AtomicLong roundsFailed = new AtomicLong();
    private SegmentCleaner callerCleaner; // for cleanFilthiestLog callers; guarded by this

    /**
     * @param logs      all logs of the manager, asked afresh on each round
     * @param onCleaned called after a log's first dirty offset moved (the manager checkpoints its dir)
     */
    LogCleaner(StorageSettings settings, org.apache.kafka.common.utils.Time time, Map<TopicPartition, Long> checkpointed,
               Supplier<Collection<FileLog>> logs, Consumer<FileLog> onCleaned) {
        this.settings = settings;
        this.time = time;
        this.logs = logs;
        this.onCleaned = onCleaned;
        this.firstDirtyOffsets.putAll(checkpointed);
    }

    private long dedupeBytesPerThread() {
        return settings.cleanerDedupeBufferSize() / Math.max(1, settings.cleanerThreads());
    }

    private int ioBytesPerThread() {
        return settings.cleanerIoBufferSize() / Math.max(1, settings.cleanerThreads());
    }

    /** Starts log.cleaner.threads daemon threads, if log.cleaner.enable. */
    void start() {
        if (!settings.cleanerEnable()) {
            return;
        }
        for (int i = 0; i < settings.cleanerThreads(); i++) {
            Thread t = new Thread(this::run, "gregor-log-cleaner-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /**
     * Stops the threads at their next batch and waits for them. Threads are never interrupted: an interrupt
     * during file I/O would close the segment channels that readers share.
     */
    void shutdown() {
        stopping = true;
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Waits until no thread cleans the log, then keeps it from being picked until {@link #resume}: its files are
     * about to be closed and copied (AlterReplicaLogDirs).
     */
    void pause(TopicPartition tp) {
        synchronized (inProgress) {
            while (inProgress.contains(tp)) {
                try {
                    // the cleaning thread removes it without notifying; a short poll is enough for a rare move
                    inProgress.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new org.apache.kafka.common.errors.InterruptException(e);
                }
            }
            inProgress.add(tp);
        }
    }

    void resume(TopicPartition tp) {
        synchronized (inProgress) {
            inProgress.remove(tp);
        }
    }

    int liveThreads() {
        return (int) threads.stream().filter(Thread::isAlive).count();
    }

    /** First dirty offset per compacted log, as persisted in cleaner-offset-checkpoint. */
    Map<TopicPartition, Long> firstDirtyOffsets() {
        return Map.copyOf(firstDirtyOffsets);
    }

    /** Cleaning rounds that finished, and rounds that failed with an error (for monitoring and tests). */
    long roundsCompleted() {
        return roundsCompleted.get();
    }

    long roundsFailed() {
        return roundsFailed.get();
    }

    /**
     * Kafka's maybeTruncateCheckpoint: a compacted log truncated below its first dirty offset is dirty again from
     * {@code offset} (the new active segment's base). True when the checkpoint moved.
     */
    boolean maybeTruncateCheckpoint(FileLog l, long offset) {
        if (!l.config().compact()) {
            return false;
        }
        TopicPartition tp = l.topicPartition();
        Long existing = firstDirtyOffsets.get(tp);
        if (existing != null && existing > offset) {
            firstDirtyOffsets.put(tp, offset);
            return true;
        }
        return false;
    }

    /** The log is gone (deleted): its checkpoint entry goes too. */
    void forget(TopicPartition tp) {
        firstDirtyOffsets.remove(tp);
    }

    private void run() {
        // made at the first log to clean: its I/O buffers (half a MiB by default) and MD5 digest are not
        // carried by a broker whose compacted logs never get dirty enough (a test's, most of the time)
        SegmentCleaner[] made = new SegmentCleaner[1];
        Supplier<SegmentCleaner> cleaner = () -> made[0] != null ? made[0]
                : (made[0] = new SegmentCleaner(dedupeBytesPerThread(), ioBytesPerThread(), () -> stopping));
        while (!stopping) {
            boolean cleaned = false;
            try {
                cleaned = cleanFilthiestLog(cleaner, time.milliseconds()) != null;
            } catch (SegmentCleaner.AbortedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("Log cleaner round failed", e);
            }
            if (!cleaned) {
                synchronized (wakeup) {
                    if (!stopping) {
                        try {
                            wakeup.wait(Math.max(1, settings.cleanerBackoffMs()));
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /** One cleaning round on the calling thread (tests, or a caller that wants it now). */
    synchronized Candidate cleanFilthiestLog(long nowMs) {
        return cleanFilthiestLog(() -> {
            if (callerCleaner == null) {
                callerCleaner = new SegmentCleaner(dedupeBytesPerThread(), ioBytesPerThread(), () -> stopping);
            }
            return callerCleaner;
        }, nowMs);
    }

    /** Picks the filthiest log not being cleaned by another thread and cleans it; null when none qualifies. */
    private Candidate cleanFilthiestLog(Supplier<SegmentCleaner> cleaner, long nowMs) {
        Candidate chosen = grabFilthiestLog(nowMs);
        if (chosen == null) {
            return null;
        }
        TopicPartition tp = chosen.log().topicPartition();
        try {
            SegmentCleaner.Result r = cleaner.get().clean(chosen.log(), chosen.firstDirtyOffset(),
                    chosen.firstUncleanableOffset(), nowMs);
            if (r.newFirstDirtyOffset() > chosen.firstDirtyOffset() && !chosen.log().isClosed()) {
                firstDirtyOffsets.put(tp, r.newFirstDirtyOffset());
                onCleaned.accept(chosen.log());
            }
            if (r.newFirstDirtyOffset() == chosen.firstDirtyOffset()) {
                return null; // no progress (gave way to retention, or the map is too small): back off
            }
            roundsCompleted.incrementAndGet();
            log.info("{}: cleaned up to offset {} (dirty ratio was {}): {} segment group(s), {} bytes read, "
                            + "{} written", tp, r.newFirstDirtyOffset(), String.format("%.2f", chosen.dirtyRatio()),
                    r.groupsSwapped(), r.bytesRead(), r.bytesWritten());
            return chosen;
        } catch (SegmentCleaner.AbortedException e) {
            throw e;
        } catch (Exception e) {
            roundsFailed.incrementAndGet();
            if (chosen.log().isClosed()) {
                log.debug("{}: cleaning stopped because the log was closed or deleted", tp);
            } else {
                log.warn("{}: cleaning failed; will retry", tp, e);
            }
            return null;
        } finally {
            synchronized (inProgress) {
                inProgress.remove(tp);
            }
        }
    }

    private Candidate grabFilthiestLog(long nowMs) {
        synchronized (inProgress) {
            Candidate best = null;
            for (FileLog l : logs.get()) {
                if (inProgress.contains(l.topicPartition()) || l.isClosed()) {
                    continue;
                }
                Candidate c = evaluate(l, firstDirtyOffsets.get(l.topicPartition()), nowMs);
                if (c == null || c.dirtyBytes() == 0) {
                    continue;
                }
                boolean eligible = c.needCompactionNow() || c.dirtyRatio() > l.config().minCleanableDirtyRatio();
                if (eligible && (best == null || c.dirtyRatio() > best.dirtyRatio())) {
                    best = c;
                }
            }
            if (best != null) {
                inProgress.add(best.log().topicPartition());
            }
            return best;
        }
    }

    /**
     * Kafka's measure of a compacted log: the dirty section runs from the checkpointed first dirty offset
     * (the log start when the checkpoint is missing or out of range) to the first uncleanable offset, the
     * smallest of the active segment's base, the high watermark and the base of the first segment younger
     * than min.compaction.lag.ms. Null for a log that is not compacted.
     */
    static Candidate evaluate(FileLog l, Long checkpoint, long nowMs) {
        LogConfig config = l.config();
        if (!config.compact()) {
            return null;
        }
        List<LogSegment> segs = l.segmentList();
        long logStart = l.logStartOffset();
        long activeBase = l.activeSegmentBaseOffset();
        long firstDirty = checkpoint == null || checkpoint < logStart || checkpoint > l.logEndOffset()
                ? logStart : checkpoint;
        // Kafka's rule: nothing at or past the first unstable offset is cleaned, so an open transaction's records
        // neither shadow older values of their keys nor lose their own (the LSO is at most the high watermark)
        long firstUncleanable = Math.min(activeBase, l.lastStableOffset());
        ByteBuffer hdr = ByteBuffer.allocate(Batches.HEADER_SIZE);
        long earliestDirtyTimestamp = Long.MAX_VALUE;
        for (int i = 0; i < segs.size(); i++) {
            LogSegment seg = segs.get(i);
            long next = i + 1 < segs.size() ? segs.get(i + 1).baseOffset : Long.MAX_VALUE;
            if (seg.baseOffset >= activeBase) {
                break;
            }
            if (next <= firstDirty) {
                continue;
            }
            if (config.minCompactionLagMs() > 0 && seg.largestTimestamp() > nowMs - config.minCompactionLagMs()) {
                firstUncleanable = Math.min(firstUncleanable, seg.baseOffset);
            }
            long first = seg.firstBatchTimestamp(hdr);
            if (first > 0) {
                earliestDirtyTimestamp = Math.min(earliestDirtyTimestamp, first);
            }
        }
        long cleanBytes = 0;
        long dirtyBytes = 0;
        for (int i = 0; i < segs.size(); i++) {
            LogSegment seg = segs.get(i);
            long next = i + 1 < segs.size() ? segs.get(i + 1).baseOffset : Long.MAX_VALUE;
            if (next <= firstDirty) {
                cleanBytes += seg.size();
            } else if (seg.baseOffset < firstUncleanable) {
                dirtyBytes += seg.size();
            }
        }
        long total = cleanBytes + dirtyBytes;
        double ratio = total == 0 ? 0 : (double) dirtyBytes / total;
        long maxLag = Math.max(0, config.maxCompactionLagMs());
        boolean needNow = earliestDirtyTimestamp != Long.MAX_VALUE && maxLag < nowMs
                && earliestDirtyTimestamp < nowMs - maxLag;
        return new Candidate(l, firstDirty, Math.max(firstDirty, firstUncleanable), ratio, dirtyBytes, needNow);
    }
}
