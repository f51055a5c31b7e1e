package io.gregor.storage;

import io.gregor.storage.errors.KafkaStorageException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * All partition logs under the broker's log dirs, laid out as Kafka lays them out. Loads and recovers logs
 * on open, and runs retention, flush and checkpoint tasks on its own daemon scheduler threads.
 */
public final class FileLogManager implements LogManager {
    private static final Logger log = LoggerFactory.getLogger(FileLogManager.class);
    static final String META_PROPERTIES = "meta.properties";
    static final String CLEAN_SHUTDOWN = ".kafka_cleanshutdown";
    private static final String DELETE_SUFFIX = "-delete";
    /** A log being copied to another log dir (AlterReplicaLogDirs); one left by a crash is incomplete. */
    private static final String FUTURE_SUFFIX = "-future";
    /** Kafka delays its first background log tasks by 30 s (or less when the interval is shorter). */
    private static final long INITIAL_TASK_DELAY_MS = 30_000;

    /** Replaced only by {@link #reconfigureCleaner}, which changes its cleaner settings alone. */
    private volatile StorageSettings settings;
    private final String clusterId;
    private final ScheduledThreadPoolExecutor scheduler;
    private final Map<TopicPartition, FileLog> logs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Path> dirOf = new ConcurrentHashMap<>();
    private final List<PartitionLog> loaded = new ArrayList<>();
    private final Object createLock = new Object();
    /** Serialises the checkpoint writers of one log dir (periodic tasks, retention, delete). */
    private final Map<Path, Object> dirLocks = new ConcurrentHashMap<>();
    private final FileLog.Hooks hooks;
    private final Time time;
    /** Test hook: called at each step of a segment swap, so a test can simulate a crash there. */
    volatile java.util.function.Consumer<String> swapObserver = step -> { };
    private volatile LogCleaner cleaner;
    private volatile boolean closed;

    // one set of decompression buffers per thread that appends (the request threads), whatever the partition
    private final ThreadLocal<CompressedRecordsValidator> compressedRecordsValidators =
            ThreadLocal.withInitial(CompressedRecordsValidator::new);

    private FileLogManager(StorageSettings settings, String clusterId, Time time) {
        this.settings = settings;
        this.clusterId = clusterId;
        this.time = time;
        AtomicInteger n = new AtomicInteger();
        this.scheduler = new ScheduledThreadPoolExecutor(2, r -> {
            Thread t = new Thread(r, "gregor-log-scheduler-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.hooks = new FileLog.Hooks() {
            @Override
            public ScheduledExecutorService scheduler() {
                return scheduler;
            }

            @Override
            public void logStartOffsetChanged(FileLog l) {
                checkpointLogStartOffsets(l.dir().getParent());
            }

            @Override
            public Time time() {
                return time;
            }

            @Override
            public void truncateBelowActiveSegment(FileLog l, Runnable truncation) {
                // waits for a cleaning round of this log to end: its swap must not meet the truncation
                LogCleaner pausedIn = cleaner;
                pausedIn.pause(l.topicPartition());
                try {
                    truncation.run();
                    if (pausedIn.maybeTruncateCheckpoint(l, l.activeSegmentBaseOffset())) {
                        checkpointCleaner(dirOf.get(l.topicPartition()));
                    }
                } finally {
                    pausedIn.resume(l.topicPartition());
                }
            }

            @Override
            public void swapReached(String step) {
                swapObserver.accept(step);
            }

            @Override
            public CompressedRecordsValidator compressedRecordsValidator() {
                return compressedRecordsValidators.get();
            }
        };
    }

    /**
     * Creates missing dirs, writes/reads meta.properties, loads and recovers logs, starts background tasks
     * on its own daemon scheduler thread(s). Topic configs for loaded logs come from the resolver.
     */
    public static FileLogManager open(StorageSettings settings, TopicConfigResolver configFor) {
        return open(settings, configFor, Time.SYSTEM);
    }

    /** As {@link #open(StorageSettings, TopicConfigResolver)}, with the broker's clock. */
    public static FileLogManager open(StorageSettings settings, TopicConfigResolver configFor, Time time) {
        if (settings.logDirs().isEmpty()) {
            throw new IllegalArgumentException("no log dirs");
        }
        for (Path dir : settings.logDirs()) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new KafkaStorageException("Cannot create log dir " + dir, e);
            }
        }
        String clusterId = readOrCreateMetaProperties(settings);
        FileLogManager m = new FileLogManager(settings, clusterId, time);
        Map<TopicPartition, Long> cleanerCheckpoints = new HashMap<>();
        for (Path dir : settings.logDirs()) {
            m.loadDir(dir, configFor);
            cleanerCheckpoints.putAll(OffsetCheckpoint.read(dir.resolve(LogCleaner.CHECKPOINT)));
        }
        m.cleaner = new LogCleaner(settings, time, cleanerCheckpoints, m.logs::values,
                l -> m.checkpointCleaner(m.dirOf.get(l.topicPartition())));
        m.cleaner.start();
        m.startTasks();
        return m;
    }

    /**
     * Restarts the log cleaner with new settings (dynamic log.cleaner.* configs), as Kafka's
     * LogCleaner.reconfigure does: the running threads stop at their next batch, and new ones start from
     * the same first dirty offsets.
     */
    public synchronized void reconfigureCleaner(int threads, long backoffMs, long dedupeBufferSize, int ioBufferSize) {
        if (closed) {
            return;
        }
        StorageSettings next = settings.withCleaner(settings.cleanerEnable(), threads, backoffMs, dedupeBufferSize,
                ioBufferSize);
        LogCleaner old = cleaner;
        old.shutdown();
        settings = next;
        LogCleaner replacement = new LogCleaner(next, time, old.firstDirtyOffsets(), logs::values,
                l -> checkpointCleaner(dirOf.get(l.topicPartition())));
        cleaner = replacement;
        replacement.start();
        log.info("Log cleaner restarted with {} thread(s)", threads);
    }

    /** Live log cleaner threads (log.cleaner.threads while the cleaner is enabled). */
    public int cleanerThreadCount() {
        return cleaner.liveThreads();
    }

    private static String readOrCreateMetaProperties(StorageSettings settings) {
        String clusterId = null;
        for (Path dir : settings.logDirs()) {
            Path f = dir.resolve(META_PROPERTIES);
            if (!Files.exists(f)) {
                continue;
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new KafkaStorageException("Cannot read " + f, e);
            }
            String id = p.getProperty("cluster.id");
            String node = p.getProperty("node.id", p.getProperty("broker.id"));
            if (node != null && Integer.parseInt(node.trim()) != settings.brokerId()) {
                throw new KafkaStorageException("Log dir " + dir + " belongs to broker " + node.trim()
                        + ", not " + settings.brokerId());
            }
            if (id != null) {
                if (clusterId != null && !clusterId.equals(id)) {
                    throw new KafkaStorageException("Log dirs disagree on cluster.id: " + clusterId + " vs " + id);
                }
                clusterId = id;
            }
        }
        if (clusterId == null) {
            clusterId = Uuids.random();
        }
        for (Path dir : settings.logDirs()) {
            Path f = dir.resolve(META_PROPERTIES);
            if (!Files.exists(f)) {
                // no date comment (Kafka's Properties.store writes one): formatting it loads time-zone names
                String content = "#\n#Written by Gregor\n"
                        + "cluster.id=" + clusterId + "\n"
                        + "directory.id=" + Uuids.random() + "\n"
                        + "node.id=" + settings.brokerId() + "\n"
                        + "version=1\n";
                FileUtil.writeAtomically(f, content);
            }
        }
        return clusterId;
    }

    /** Parses {@code <topic>-<partition>}; null for anything else (e.g. the broker's own gregor-metadata). */
    static TopicPartition parseDirName(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            return null;
        }
        String p = name.substring(dash + 1);
        for (int i = 0; i < p.length(); i++) {
            if (!Character.isDigit(p.charAt(i))) {
                return null;
            }
        }
        try {
            return new TopicPartition(name.substring(0, dash), Integer.parseInt(p));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void loadDir(Path dir, TopicConfigResolver configFor) {
        Path marker = dir.resolve(CLEAN_SHUTDOWN);
        boolean clean = Files.exists(marker);
        Map<TopicPartition, Long> recoveryPoints = OffsetCheckpoint.read(dir.resolve(OffsetCheckpoint.RECOVERY_POINT));
        Map<TopicPartition, Long> logStarts = OffsetCheckpoint.read(dir.resolve(OffsetCheckpoint.LOG_START));
        Map<TopicPartition, Long> hws = OffsetCheckpoint.read(dir.resolve(OffsetCheckpoint.HIGH_WATERMARK));
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
            ds.forEach(children::add);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot list " + dir, e);
        }
        int found = 0;
        for (Path child : children) {
            String name = child.getFileName().toString();
            if (name.endsWith(DELETE_SUFFIX) || name.endsWith(FUTURE_SUFFIX)) {
                FileUtil.deleteRecursively(child);
                continue;
            }
            TopicPartition tp = parseDirName(name);
            if (tp == null) {
                continue;
            }
            if (logs.containsKey(tp)) {
                throw new KafkaStorageException("Duplicate log dirs for " + tp + ": " + dirOf.get(tp) + " and " + dir);
            }
            LogConfig config = configFor == null ? null : configFor.apply(tp.topic());
            if (config == null) {
                config = LogConfig.defaults();
            }
            FileLog l = FileLog.load(child, tp, config, new FileLog.Checkpointed(recoveryPoints.get(tp),
                    logStarts.get(tp), hws.get(tp)), clean, hooks);
            logs.put(tp, l);
            dirOf.put(tp, dir);
            loaded.add(l);
            found++;
        }
        log.info("Loaded {} logs from {}{}", found, dir,
                found == 0 ? "" : clean ? " after a clean shutdown" : " after an unclean shutdown (recovered)");
        try {
            Files.deleteIfExists(marker);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot delete " + marker, e);
        }
    }

    private void startTasks() {
        schedule(this::retentionTask, settings.retentionCheckIntervalMs());
        schedule(this::flushTask, settings.flushSchedulerIntervalMs());
        schedule(this::checkpointRecoveryPoints, settings.flushOffsetCheckpointIntervalMs());
        schedule(() -> settings.logDirs().forEach(this::checkpointLogStartOffsets),
                settings.flushStartOffsetCheckpointIntervalMs());
        schedule(this::checkpointHighWatermarks, settings.highWatermarkCheckpointIntervalMs());
    }

    private void schedule(Runnable task, long intervalMs) {
        if (intervalMs <= 0 || intervalMs >= Long.MAX_VALUE / 4) {
            return; // Long.MAX_VALUE means "never", as for log.flush.scheduler.interval.ms
        }
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("Background log task failed", e);
            }
        }, Math.min(INITIAL_TASK_DELAY_MS, intervalMs), intervalMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Runs Kafka's producer id expiration every {@code checkIntervalMs}
     * ({@code producer.id.expiration.check.interval.ms}): producers idle for {@code expirationMs}
     * ({@code producer.id.expiration.ms}) and without an open transaction are forgotten.
     */
    /** @param expirationMs producer.id.expiration.ms, read at each pass (it may change at runtime) */
    public void startProducerIdExpiration(org.apache.kafka.common.utils.Time time,
                                          java.util.function.LongSupplier expirationMs, long checkIntervalMs) {
        schedule(() -> removeExpiredProducers(time.milliseconds(), expirationMs.getAsLong()), checkIntervalMs);
    }

    /** One producer id expiration pass over all logs; returns how many producers went. */
    public int removeExpiredProducers(long nowMs, long expirationMs) {
        int removed = 0;
        for (FileLog l : logs.values()) {
            removed += l.removeExpiredProducers(nowMs, expirationMs);
        }
        return removed;
    }

    /** One retention pass over all logs (also callable directly, e.g. by tests). */
    public void retentionTask() {
        long now = time.milliseconds();
        for (FileLog l : logs.values()) {
            l.deleteOldSegments(now);
        }
    }

    private void flushTask() {
        long now = time.milliseconds();
        for (FileLog l : logs.values()) {
            l.maybeFlushByTime(now);
        }
    }

    private Map<TopicPartition, Long> offsetsIn(Path dir, java.util.function.ToLongFunction<FileLog> f) {
        Map<TopicPartition, Long> m = new HashMap<>();
        logs.forEach((tp, l) -> {
            if (dir.equals(dirOf.get(tp))) {
                m.put(tp, f.applyAsLong(l));
            }
        });
        return m;
    }

    void checkpointRecoveryPoints() {
        for (Path dir : settings.logDirs()) {
            synchronized (dirLocks.computeIfAbsent(dir, d -> new Object())) {
                OffsetCheckpoint.write(dir.resolve(OffsetCheckpoint.RECOVERY_POINT), offsetsIn(dir, FileLog::recoveryPoint));
            }
        }
    }

    void checkpointLogStartOffsets(Path dir) {
        synchronized (dirLocks.computeIfAbsent(dir, d -> new Object())) {
            OffsetCheckpoint.write(dir.resolve(OffsetCheckpoint.LOG_START), offsetsIn(dir, FileLog::logStartOffset));
        }
    }

    /** Writes the dir's cleaner-offset-checkpoint: the first dirty offset of each of its compacted logs. */
    void checkpointCleaner(Path dir) {
        if (dir == null) {
            return; // the log was deleted meanwhile
        }
        synchronized (dirLocks.computeIfAbsent(dir, d -> new Object())) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            cleaner.firstDirtyOffsets().forEach((tp, off) -> {
                if (dir.equals(dirOf.get(tp))) {
                    offsets.put(tp, off);
                }
            });
            OffsetCheckpoint.write(dir.resolve(LogCleaner.CHECKPOINT), offsets);
        }
    }

    /** The log cleaner; tests run cleaning rounds on it directly. */
    LogCleaner cleaner() {
        return cleaner;
    }

    void checkpointHighWatermarks() {
        for (Path dir : settings.logDirs()) {
            synchronized (dirLocks.computeIfAbsent(dir, d -> new Object())) {
                OffsetCheckpoint.write(dir.resolve(OffsetCheckpoint.HIGH_WATERMARK), offsetsIn(dir, FileLog::highWatermark));
            }
        }
    }

    public String clusterId() {
        return clusterId;
    }

    @Override
    public Collection<PartitionLog> loadedLogs() {
        return List.copyOf(loaded);
    }

    @Override
    public Optional<PartitionLog> get(TopicPartition tp) {
        return Optional.ofNullable(logs.get(tp));
    }

    @Override
    public PartitionLog getOrCreate(TopicPartition tp, String topicId, LogConfig config) {
        FileLog existing = logs.get(tp);
        if (existing != null) {
            if (existing.topicId() == null && topicId != null) {
                existing.assignTopicId(topicId);
            }
            return existing;
        }
        synchronized (createLock) {
            existing = logs.get(tp);
            if (existing != null) {
                return existing;
            }
            if (closed) {
                throw new KafkaStorageException("Log manager is closed");
            }
            Path dir = leastLoadedDir();
            FileLog l = FileLog.create(dir.resolve(tp.dirName()), tp, topicId, config, hooks);
            dirOf.put(tp, dir);
            logs.put(tp, l);
            return l;
        }
    }

    private Path leastLoadedDir() {
        Map<Path, Integer> counts = new HashMap<>();
        settings.logDirs().forEach(d -> counts.put(d, 0));
        dirOf.values().forEach(d -> counts.merge(d, 1, Integer::sum));
        Path best = null;
        for (Path d : settings.logDirs()) {
            if (best == null || counts.get(d) < counts.get(best)) {
                best = d;
            }
        }
        return best;
    }

    @Override
    public void delete(TopicPartition tp) {
        FileLog l;
        synchronized (createLock) {
            l = logs.remove(tp);
            if (l == null) {
                return;
            }
            dirOf.remove(tp);
        }
        l.closeForDelete();
        Path from = l.dir();
        Path to = from.resolveSibling(tp.dirName() + "." + UUID.randomUUID().toString().replace("-", "")
                + DELETE_SUFFIX);
        try {
            Files.move(from, to);
            FileUtil.fsyncDir(from.getParent());
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot rename " + from + " for deletion", e);
        }
        l.renamedTo(to);
        Path parent = from.getParent();
        checkpointLogStartOffsets(parent);
        cleaner.forget(tp);
        checkpointCleaner(parent);
        scheduler.schedule(() -> {
            l.closeFilesQuietly();
            FileUtil.deleteRecursively(to);
        }, Math.max(0, l.config().fileDeleteDelayMs()), TimeUnit.MILLISECONDS);
    }

    /**
     * Moves a partition's log to another of the broker's log dirs (AlterReplicaLogDirs) and returns the log
     * now in use: the old one is closed (flushed), copied to {@code <tp>.<id>-future} in {@code target},
     * which is renamed to {@code <tp>} once complete, reopened there, and the old copy is removed as a deleted
     * log is. Appends to the old log object fail from the close on; the caller hands out the new one.
     */
    @Override
    public PartitionLog moveLog(TopicPartition tp, Path target) {
        synchronized (createLock) {
            FileLog old = logs.get(tp);
            Path from = dirOf.get(tp);
            if (old == null || from == null) {
                throw new KafkaStorageException("No log of " + tp + " on this broker");
            }
            if (!settings.logDirs().contains(target)) {
                throw new KafkaStorageException("Log dir " + target + " is not one of " + settings.logDirs());
            }
            if (from.equals(target)) {
                return old;
            }
            LogCleaner pausedIn = cleaner;
            pausedIn.pause(tp);
            try {
                return move(tp, old, from, target);
            } finally {
                pausedIn.resume(tp);
            }
        }
    }

    /** {@link #moveLog} with the cleaner kept off the log; caller holds createLock. */
    private FileLog move(TopicPartition tp, FileLog old, Path from, Path target) {
        old.close();
        String id = UUID.randomUUID().toString().replace("-", "");
        Path src = old.dir();
        Path future = target.resolve(tp.dirName() + "." + id + FUTURE_SUFFIX);
        Path dest = target.resolve(tp.dirName());
        Path deleted = src.resolveSibling(tp.dirName() + "." + id + DELETE_SUFFIX);
        FileLog.Checkpointed state = new FileLog.Checkpointed(old.logEndOffset(), old.logStartOffset(),
                old.highWatermark());
        try {
            FileUtil.copyRecursively(src, future);
            Files.move(future, dest, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            // nothing switched yet: the log stays where it was, opened again
            FileUtil.deleteRecursively(future);
            logs.put(tp, FileLog.load(src, tp, old.config(), state, true, hooks));
            throw new KafkaStorageException("Cannot copy the log of " + tp + " to " + target + ": " + e, e);
        }
        try {
            FileUtil.fsyncDir(target);
            // a crash before this rename leaves two copies, and the next start refuses to pick one
            Files.move(src, deleted);
            FileUtil.fsyncDir(from);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot remove the old copy of the log of " + tp + " in " + from, e);
        }
        old.renamedTo(deleted);
        FileLog moved = FileLog.load(dest, tp, old.config(), state, true, hooks);
        logs.put(tp, moved);
        dirOf.put(tp, target);
        checkpointRecoveryPoints();
        checkpointLogStartOffsets(from);
        checkpointLogStartOffsets(target);
        checkpointCleaner(from);
        checkpointCleaner(target);
        scheduler.schedule(() -> FileUtil.deleteRecursively(deleted), Math.max(0, old.config().fileDeleteDelayMs()),
                TimeUnit.MILLISECONDS);
        log.info("Moved the log of {} from {} to {}", tp, from, target);
        return moved;
    }

    @Override
    public Path logDirOf(TopicPartition tp) {
        return dirOf.get(tp);
    }

    @Override
    public Collection<Path> logDirs() {
        return List.copyOf(settings.logDirs());
    }

    @Override
    public Collection<PartitionLog> all() {
        return List.copyOf(logs.values());
    }

    /** Simulates a crash for tests: stops tasks and drops file handles, writing and flushing nothing. */
    void crashForTest() {
        halt();
    }

    /**
     * Stops as a crash would (an embedded broker's kill): background tasks stop and file handles are
     * dropped; nothing is flushed or checkpointed and no clean-shutdown marker is written, so the next
     * open recovers the logs.
     */
    public void halt() {
        closed = true;
        cleaner.shutdown();
        scheduler.shutdownNow();
        logs.values().forEach(FileLog::closeFilesQuietly);
    }

    @Override
    public void close() {
        synchronized (createLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        cleaner.shutdown(); // before the scheduler: a finishing swap schedules the old files' deletion
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            scheduler.shutdownNow();
        }
        for (FileLog l : logs.values()) {
            l.close();
        }
        checkpointRecoveryPoints();
        settings.logDirs().forEach(this::checkpointLogStartOffsets);
        checkpointHighWatermarks();
        settings.logDirs().forEach(this::checkpointCleaner);
        for (Path dir : settings.logDirs()) {
            FileUtil.writeAtomically(dir.resolve(CLEAN_SHUTDOWN), "{\"version\":0,\"brokerEpoch\":-1}");
        }
    }
}
