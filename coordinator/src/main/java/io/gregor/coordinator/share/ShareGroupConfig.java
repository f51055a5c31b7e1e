package io.gregor.coordinator.share;

/**
 * The broker's share-group settings as the coordinator uses them: defaults ({@code group.share.*}) and the
 * bounds of each group's own configs ({@code share.*}, set with IncrementalAlterConfigs on a GROUP resource).
 */
public record ShareGroupConfig(int sessionTimeoutMs, int minSessionTimeoutMs, int maxSessionTimeoutMs,
                               int heartbeatIntervalMs, int minHeartbeatIntervalMs, int maxHeartbeatIntervalMs,
                               int maxSize,
                               int recordLockDurationMs, int minRecordLockDurationMs, int maxRecordLockDurationMs,
                               int deliveryCountLimit, int minDeliveryCountLimit, int maxDeliveryCountLimit,
                               int partitionMaxRecordLocks, int minPartitionMaxRecordLocks,
                               int maxPartitionMaxRecordLocks, int maxShareSessions) {
}
