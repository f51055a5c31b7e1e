package io.gregor.storage;

import java.nio.file.Path;
import java.util.List;

/** Broker-level storage settings, with Kafka's names and defaults noted per field. */
public record StorageSettings(List<Path> logDirs, int brokerId,
        long retentionCheckIntervalMs,   // log.retention.check.interval.ms (300000)
        long flushSchedulerIntervalMs,   // log.flush.scheduler.interval.ms (Long.MAX_VALUE)
        long flushOffsetCheckpointIntervalMs, // log.flush.offset.checkpoint.interval.ms (60000)
        long flushStartOffsetCheckpointIntervalMs, // log.flush.start.offset.checkpoint.interval.ms (60000)
        boolean cleanerEnable,           // log.cleaner.enable (true)
        int cleanerThreads,              // log.cleaner.threads (1)
        long cleanerBackoffMs,           // log.cleaner.backoff.ms (15000)
        long cleanerDedupeBufferSize,    // log.cleaner.dedupe.buffer.size (134217728), shared by the threads
        int cleanerIoBufferSize,         // log.cleaner.io.buffer.size (524288), shared by the threads
        long highWatermarkCheckpointIntervalMs) { // replica.high.watermark.checkpoint.interval.ms (5000)

    public static final boolean DEFAULT_CLEANER_ENABLE = true;
    public static final int DEFAULT_CLEANER_THREADS = 1;
    public static final long DEFAULT_CLEANER_BACKOFF_MS = 15_000;
    public static final long DEFAULT_CLEANER_DEDUPE_BUFFER_SIZE = 128L * 1024 * 1024;
    public static final int DEFAULT_CLEANER_IO_BUFFER_SIZE = 512 * 1024;
    public static final long DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;

    /** Without the cleaner settings, which take Kafka's defaults. */
    public StorageSettings(List<Path> logDirs, int brokerId, long retentionCheckIntervalMs,
                           long flushSchedulerIntervalMs, long flushOffsetCheckpointIntervalMs,
                           long flushStartOffsetCheckpointIntervalMs) {
        this(logDirs, brokerId, retentionCheckIntervalMs, flushSchedulerIntervalMs, flushOffsetCheckpointIntervalMs,
                flushStartOffsetCheckpointIntervalMs, DEFAULT_CLEANER_ENABLE, DEFAULT_CLEANER_THREADS,
                DEFAULT_CLEANER_BACKOFF_MS, DEFAULT_CLEANER_DEDUPE_BUFFER_SIZE, DEFAULT_CLEANER_IO_BUFFER_SIZE,
                DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS);
    }

    /** These settings with the log cleaner ones replaced. */
    public StorageSettings withCleaner(boolean enable, int threads, long backoffMs, long dedupeBufferSize,
                                       int ioBufferSize) {
        return new StorageSettings(logDirs, brokerId, retentionCheckIntervalMs, flushSchedulerIntervalMs,
                flushOffsetCheckpointIntervalMs, flushStartOffsetCheckpointIntervalMs, enable, threads, backoffMs,
                dedupeBufferSize, ioBufferSize, highWatermarkCheckpointIntervalMs);
    }
}
