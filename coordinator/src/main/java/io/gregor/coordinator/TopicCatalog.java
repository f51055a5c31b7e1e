package io.gregor.coordinator;

/** Which partitions exist, so commits for unknown ones get UNKNOWN_TOPIC_OR_PARTITION as in Kafka. */
@FunctionalInterface
public interface TopicCatalog {
    boolean hasPartition(String topic, int partition);
}
