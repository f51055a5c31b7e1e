package io.gregor.config;

import java.util.function.Function;

/**
 * The broker's share-group settings ({@code group.share.*}, {@code share.coordinator.*}): the
 * defaults a share group gets and the bounds its group configs ({@code share.*}) must stay within.
 */
public record ShareGroupSettings(int sessionTimeoutMs, int minSessionTimeoutMs, int maxSessionTimeoutMs,
                                 int heartbeatIntervalMs, int minHeartbeatIntervalMs, int maxHeartbeatIntervalMs,
                                 int maxSize,
                                 int recordLockDurationMs, int minRecordLockDurationMs, int maxRecordLockDurationMs,
                                 int deliveryCountLimit, int minDeliveryCountLimit, int maxDeliveryCountLimit,
                                 int partitionMaxRecordLocks, int minPartitionMaxRecordLocks,
                                 int maxPartitionMaxRecordLocks, int maxShareSessions,
                                 int stateTopicPartitions, short stateTopicReplicationFactor, short stateTopicMinIsr,
                                 int stateTopicSegmentBytes, int snapshotUpdateRecordsPerSnapshot,
                                 int stateTopicPruneIntervalMs, int coldPartitionSnapshotIntervalMs) {

    static ShareGroupSettings from(Function<String, Object> values) {
        ShareGroupSettings s = new ShareGroupSettings(
                i(values, "group.share.session.timeout.ms"), i(values, "group.share.min.session.timeout.ms"),
                i(values, "group.share.max.session.timeout.ms"), i(values, "group.share.heartbeat.interval.ms"),
                i(values, "group.share.min.heartbeat.interval.ms"), i(values, "group.share.max.heartbeat.interval.ms"),
                i(values, "group.share.max.size"),
                i(values, "group.share.record.lock.duration.ms"), i(values, "group.share.min.record.lock.duration.ms"),
                i(values, "group.share.max.record.lock.duration.ms"),
                i(values, "group.share.delivery.count.limit"), i(values, "group.share.min.delivery.count.limit"),
                i(values, "group.share.max.delivery.count.limit"),
                i(values, "group.share.partition.max.record.locks"),
                i(values, "group.share.min.partition.max.record.locks"),
                i(values, "group.share.max.partition.max.record.locks"), i(values, "group.share.max.share.sessions"),
                i(values, "share.coordinator.state.topic.num.partitions"),
                (Short) values.apply("share.coordinator.state.topic.replication.factor"),
                (Short) values.apply("share.coordinator.state.topic.min.isr"),
                i(values, "share.coordinator.state.topic.segment.bytes"),
                i(values, "share.coordinator.snapshot.update.records.per.snapshot"),
                i(values, "share.coordinator.state.topic.prune.interval.ms"),
                i(values, "share.coordinator.cold.partition.snapshot.interval.ms"));
        // Kafka's cross-checks: each value lies within its min and max
        within("group.share.session.timeout.ms", s.sessionTimeoutMs, s.minSessionTimeoutMs, s.maxSessionTimeoutMs);
        within("group.share.heartbeat.interval.ms", s.heartbeatIntervalMs, s.minHeartbeatIntervalMs,
                s.maxHeartbeatIntervalMs);
        if (s.heartbeatIntervalMs >= s.sessionTimeoutMs) {
            throw new ConfigException("group.share.heartbeat.interval.ms", s.heartbeatIntervalMs,
                    "must be less than group.share.session.timeout.ms (" + s.sessionTimeoutMs + ")");
        }
        within("group.share.record.lock.duration.ms", s.recordLockDurationMs, s.minRecordLockDurationMs,
                s.maxRecordLockDurationMs);
        within("group.share.delivery.count.limit", s.deliveryCountLimit, s.minDeliveryCountLimit,
                s.maxDeliveryCountLimit);
        within("group.share.partition.max.record.locks", s.partitionMaxRecordLocks, s.minPartitionMaxRecordLocks,
                s.maxPartitionMaxRecordLocks);
        return s;
    }

    private static int i(Function<String, Object> values, String key) {
        return (Integer) values.apply(key);
    }

    private static void within(String key, int value, int min, int max) {
        String prefix = key.substring(0, "group.share.".length());
        String rest = key.substring(prefix.length());
        if (value < min) {
            throw new ConfigException(key, value, "must be at least " + prefix + "min." + rest + " (" + min + ")");
        }
        if (value > max) {
            throw new ConfigException(key, value, "must be at most " + prefix + "max." + rest + " (" + max + ")");
        }
    }
}
