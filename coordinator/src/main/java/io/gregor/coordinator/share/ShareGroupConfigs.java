package io.gregor.coordinator.share;

import io.gregor.coordinator.GroupSettings;

/**
 * Each share group's own configs (Kafka's GROUP config resource: {@code share.auto.offset.reset},
 * {@code share.record.lock.duration.ms}, ...) as the share coordinator and partitions read them: the group's
 * override, else the broker default. Stored, validated and described by the broker's group configs.
 */
public final class ShareGroupConfigs {
    private final GroupSettings settings;

    public ShareGroupConfigs(GroupSettings settings) {
        this.settings = settings;
    }

    public String autoOffsetReset(String groupId) {
        return settings.stringValue(groupId, "share.auto.offset.reset");
    }

    public int recordLockDurationMs(String groupId) {
        return settings.intValue(groupId, "share.record.lock.duration.ms");
    }

    public int deliveryCountLimit(String groupId) {
        return settings.intValue(groupId, "share.delivery.count.limit");
    }

    public int partitionMaxRecordLocks(String groupId) {
        return settings.intValue(groupId, "share.partition.max.record.locks");
    }

    public int sessionTimeoutMs(String groupId) {
        return settings.intValue(groupId, "share.session.timeout.ms");
    }

    public int heartbeatIntervalMs(String groupId) {
        return settings.intValue(groupId, "share.heartbeat.interval.ms");
    }

    /** share.isolation.level=read_committed: deliver only up to the last stable offset, never aborted records. */
    public boolean readCommitted(String groupId) {
        return "read_committed".equalsIgnoreCase(settings.stringValue(groupId, "share.isolation.level"));
    }

    /** share.renew.acknowledge.enable: whether members may renew their acquisition locks. */
    public boolean renewAcknowledgeEnabled(String groupId) {
        return Boolean.parseBoolean(settings.stringValue(groupId, "share.renew.acknowledge.enable"));
    }
}
