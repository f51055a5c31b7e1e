package io.gregor.coordinator.consumer;

import io.gregor.coordinator.GroupSettings;

import java.util.List;

/**
 * The broker settings of KIP-848 consumer groups, with Kafka's key names.
 *
 * @param sessionTimeoutMs    group.consumer.session.timeout.ms
 * @param heartbeatIntervalMs group.consumer.heartbeat.interval.ms
 * @param maxSize             group.consumer.max.size
 * @param assignors           group.consumer.assignors: names ("uniform", "range") or Kafka's class names; the first is the default
 * @param migrationPolicy     group.consumer.migration.policy
 * @param classicMaxSize      group.max.size: a downgrade to a classic group larger than this is refused
 * @param groupSettings       each group's own consumer.session.timeout.ms and consumer.heartbeat.interval.ms (GROUP
 *                            configs), null when groups have none
 */
public record ConsumerGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int maxSize, List<String> assignors,
                                  MigrationPolicy migrationPolicy, int classicMaxSize, GroupSettings groupSettings) {
    public ConsumerGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int maxSize, List<String> assignors) {
        this(sessionTimeoutMs, heartbeatIntervalMs, maxSize, assignors, MigrationPolicy.BIDIRECTIONAL, Integer.MAX_VALUE,
                null);
    }

    /** The group's consumer.session.timeout.ms, else the broker's group.consumer.session.timeout.ms. */
    public int sessionTimeoutMs(String groupId) {
        return groupSettings == null ? sessionTimeoutMs : groupSettings.intValue(groupId, "consumer.session.timeout.ms");
    }

    /** The group's consumer.heartbeat.interval.ms, else the broker's group.consumer.heartbeat.interval.ms. */
    public int heartbeatIntervalMs(String groupId) {
        return groupSettings == null ? heartbeatIntervalMs
                : groupSettings.intValue(groupId, "consumer.heartbeat.interval.ms");
    }

    public ConsumerGroupConfig {
        List<String> names = new java.util.ArrayList<>();
        for (String name : assignors) {
            Assignor assignor = Assignors.byName(name);
            if (assignor == null) {
                throw new IllegalArgumentException("Unknown assignor " + name);
            }
            if (!names.contains(assignor.name())) {
                names.add(assignor.name());
            }
        }
        assignors = List.copyOf(names);
        if (assignors.isEmpty()) {
            throw new IllegalArgumentException("At least one assignor is required");
        }
    }

    /** Kafka's defaults. */
    public static ConsumerGroupConfig defaults() {
        return new ConsumerGroupConfig(45_000, 5_000, Integer.MAX_VALUE, List.of("uniform", "range"));
    }
}
