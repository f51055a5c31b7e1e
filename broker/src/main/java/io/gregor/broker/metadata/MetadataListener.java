package io.gregor.broker.metadata;

/**
 * Told about cluster metadata changes made anywhere in the cluster (ZooKeeper watches). Calls come one at a
 * time from one thread, in the order ZooKeeper delivered the changes; on registration every known topic and
 * partition state is replayed first.
 */
public interface MetadataListener {
    /** A topic appeared, got more partitions or new configs. */
    void topicChanged(TopicMetadata topic);

    void topicDeleted(TopicMetadata topic);

    /** A partition's leader, leader epoch or ISR changed (or its state was created). */
    void partitionChanged(String topic, int partition, PartitionState state);

    /** A broker registered or went away. */
    default void brokersChanged() {
    }
}
