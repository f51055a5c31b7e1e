package io.gregor.coordinator;

/**
 * A group's own configs (Kafka's GROUP config resource, e.g. {@code consumer.session.timeout.ms}) as the
 * coordinators read them: the value in force for one group, its override or else the broker's default. Read at
 * each use, so a change made with IncrementalAlterConfigs on any broker applies from the next heartbeat.
 */
public interface GroupSettings {
    /** The value of an INT group config for {@code groupId}. */
    int intValue(String groupId, String key);

    /** The value of a group config for {@code groupId} as a string. */
    String stringValue(String groupId, String key);
}
