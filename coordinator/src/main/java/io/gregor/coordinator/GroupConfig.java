package io.gregor.coordinator;

/**
 * The broker settings the group coordinator obeys, with Kafka's key names.
 *
 * @param minSessionTimeoutMs        group.min.session.timeout.ms
 * @param maxSessionTimeoutMs        group.max.session.timeout.ms
 * @param initialRebalanceDelayMs    group.initial.rebalance.delay.ms
 * @param maxGroupSize               group.max.size
 * @param offsetMetadataMaxBytes     offset.metadata.max.bytes
 * @param offsetsRetentionMs         offsets.retention.minutes in ms
 * @param retentionCheckIntervalMs   offsets.retention.check.interval.ms
 */
public record GroupConfig(int minSessionTimeoutMs, int maxSessionTimeoutMs, long initialRebalanceDelayMs,
                          int maxGroupSize, int offsetMetadataMaxBytes, long offsetsRetentionMs,
                          long retentionCheckIntervalMs) {
    /** Kafka's defaults. */
    public static GroupConfig defaults() {
        return new GroupConfig(6_000, 1_800_000, 3_000, Integer.MAX_VALUE, 4096, 7L * 24 * 3600 * 1000, 600_000);
    }
}
