package io.gregor.storage;

/**
 * The settings of one partition log, resolved from broker defaults and topic overrides by the broker.
 * Values use Kafka's topic-level meanings; -1 means "unlimited" where Kafka says so.
 */
public record LogConfig(
        int segmentBytes,            // segment.bytes
        long segmentMs,              // segment.ms
        long retentionMs,            // retention.ms, -1 = forever
        long retentionBytes,         // retention.bytes, -1 = unlimited
        int indexIntervalBytes,      // index.interval.bytes
        int maxIndexSizeBytes,       // segment.index.bytes
        long flushIntervalMessages,  // flush.messages
        long flushIntervalMs,        // flush.ms
        int maxMessageBytes,         // max.message.bytes: largest record batch accepted
        boolean logAppendTime,       // message.timestamp.type == LogAppendTime
        long fileDeleteDelayMs,      // file.delete.delay.ms
        boolean compact,             // cleanup.policy contains compact
        boolean delete,              // cleanup.policy contains delete
        long deleteRetentionMs,      // delete.retention.ms: how long tombstones outlive their first clean
        double minCleanableDirtyRatio, // min.cleanable.dirty.ratio
        long minCompactionLagMs,     // min.compaction.lag.ms
        long maxCompactionLagMs,     // max.compaction.lag.ms
        long timestampBeforeMaxMs,   // message.timestamp.before.max.ms (CreateTime topics)
        long timestampAfterMaxMs) {  // message.timestamp.after.max.ms (CreateTime topics)

    public static final long DEFAULT_DELETE_RETENTION_MS = 24L * 3600 * 1000;
    public static final double DEFAULT_MIN_CLEANABLE_DIRTY_RATIO = 0.5;
    public static final long DEFAULT_MIN_COMPACTION_LAG_MS = 0;
    public static final long DEFAULT_MAX_COMPACTION_LAG_MS = Long.MAX_VALUE;

    /** No bound on record timestamps (the broker passes the topic's message.timestamp.*.max.ms). */
    public static final long NO_TIMESTAMP_BOUND = Long.MAX_VALUE;

    /** Without timestamp bounds. */
    public LogConfig(int segmentBytes, long segmentMs, long retentionMs, long retentionBytes, int indexIntervalBytes,
                     int maxIndexSizeBytes, long flushIntervalMessages, long flushIntervalMs, int maxMessageBytes,
                     boolean logAppendTime, long fileDeleteDelayMs, boolean compact, boolean delete,
                     long deleteRetentionMs, double minCleanableDirtyRatio, long minCompactionLagMs,
                     long maxCompactionLagMs) {
        this(segmentBytes, segmentMs, retentionMs, retentionBytes, indexIntervalBytes, maxIndexSizeBytes,
                flushIntervalMessages, flushIntervalMs, maxMessageBytes, logAppendTime, fileDeleteDelayMs, compact,
                delete, deleteRetentionMs, minCleanableDirtyRatio, minCompactionLagMs, maxCompactionLagMs,
                NO_TIMESTAMP_BOUND, NO_TIMESTAMP_BOUND);
    }

    /** Without the compaction settings, which take Kafka's defaults, and without timestamp bounds. */
    public LogConfig(int segmentBytes, long segmentMs, long retentionMs, long retentionBytes, int indexIntervalBytes,
                     int maxIndexSizeBytes, long flushIntervalMessages, long flushIntervalMs, int maxMessageBytes,
                     boolean logAppendTime, long fileDeleteDelayMs, boolean compact, boolean delete) {
        this(segmentBytes, segmentMs, retentionMs, retentionBytes, indexIntervalBytes, maxIndexSizeBytes,
                flushIntervalMessages, flushIntervalMs, maxMessageBytes, logAppendTime, fileDeleteDelayMs, compact,
                delete, DEFAULT_DELETE_RETENTION_MS, DEFAULT_MIN_CLEANABLE_DIRTY_RATIO, DEFAULT_MIN_COMPACTION_LAG_MS,
                DEFAULT_MAX_COMPACTION_LAG_MS);
    }

    public static LogConfig defaults() {
        return new LogConfig(1 << 30, 7L * 24 * 3600 * 1000, 7L * 24 * 3600 * 1000, -1, 4096,
                10 * 1024 * 1024, Long.MAX_VALUE, Long.MAX_VALUE, 1024 * 1024 + 12, false, 60_000, false, true,
                DEFAULT_DELETE_RETENTION_MS, DEFAULT_MIN_CLEANABLE_DIRTY_RATIO, DEFAULT_MIN_COMPACTION_LAG_MS,
                DEFAULT_MAX_COMPACTION_LAG_MS);
    }

    /** This config with the cleanup policy and compaction settings replaced. */
    public LogConfig withCompaction(boolean compact, boolean delete, long deleteRetentionMs,
                                    double minCleanableDirtyRatio, long minCompactionLagMs, long maxCompactionLagMs) {
        return new LogConfig(segmentBytes, segmentMs, retentionMs, retentionBytes, indexIntervalBytes,
                maxIndexSizeBytes, flushIntervalMessages, flushIntervalMs, maxMessageBytes, logAppendTime,
                fileDeleteDelayMs, compact, delete, deleteRetentionMs, minCleanableDirtyRatio, minCompactionLagMs,
                maxCompactionLagMs, timestampBeforeMaxMs, timestampAfterMaxMs);
    }

    /** This config with message.timestamp.before.max.ms and after.max.ms replaced. */
    public LogConfig withTimestampBounds(long beforeMaxMs, long afterMaxMs) {
        return new LogConfig(segmentBytes, segmentMs, retentionMs, retentionBytes, indexIntervalBytes,
                maxIndexSizeBytes, flushIntervalMessages, flushIntervalMs, maxMessageBytes, logAppendTime,
                fileDeleteDelayMs, compact, delete, deleteRetentionMs, minCleanableDirtyRatio, minCompactionLagMs,
                maxCompactionLagMs, beforeMaxMs, afterMaxMs);
    }
}
