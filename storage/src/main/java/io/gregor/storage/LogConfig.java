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
        boolean delete) {            // cleanup.policy contains delete

    public static LogConfig defaults() {
        return new LogConfig(1 << 30, 7L * 24 * 3600 * 1000, 7L * 24 * 3600 * 1000, -1, 4096,
                10 * 1024 * 1024, Long.MAX_VALUE, Long.MAX_VALUE, 1024 * 1024 + 12, false, 60_000, false, true);
    }
}
