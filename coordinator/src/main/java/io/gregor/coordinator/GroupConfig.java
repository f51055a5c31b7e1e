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
 * @param newMemberJoinTimeoutMs     how long a new classic member's JoinGroup may wait before it is removed
 *                                   (Kafka's fixed 5 minutes; it cannot heartbeat before its join completes)
 */
public record GroupConfig(int minSessionTimeoutMs, int maxSessionTimeoutMs, long initialRebalanceDelayMs,
                          int maxGroupSize, int offsetMetadataMaxBytes, long offsetsRetentionMs,
                          long retentionCheckIntervalMs, long newMemberJoinTimeoutMs) {
    /** Kafka's new member join timeout. */
    public static final long NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000L;

    public GroupConfig(int minSessionTimeoutMs, int maxSessionTimeoutMs, long initialRebalanceDelayMs,
                       int maxGroupSize, int offsetMetadataMaxBytes, long offsetsRetentionMs,
                       long retentionCheckIntervalMs) {
        this(minSessionTimeoutMs, maxSessionTimeoutMs, initialRebalanceDelayMs, maxGroupSize, offsetMetadataMaxBytes,
                offsetsRetentionMs, retentionCheckIntervalMs, NEW_MEMBER_JOIN_TIMEOUT_MS);
    }

    /** Kafka's defaults. */
    public static GroupConfig defaults() {
        return new GroupConfig(6_000, 1_800_000, 3_000, Integer.MAX_VALUE, 4096, 7L * 24 * 3600 * 1000, 600_000);
    }
}
