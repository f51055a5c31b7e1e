package io.gregor.broker.metadata;

import org.apache.kafka.common.Uuid;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where cluster metadata lives: topics with their ids, partition counts and config overrides, and the
 * producer id blocks. A single broker keeps it in files under its first log dir
 * ({@link LocalMetadataStore}); a ZooKeeper-backed store takes its place in a cluster.
 * Writes are durable when the method returns.
 */
public interface MetadataStore extends AutoCloseable {
    Collection<TopicMetadata> topics();

    Optional<TopicMetadata> topic(String name);

    Optional<TopicMetadata> topic(Uuid topicId);

    /** @throws org.apache.kafka.common.errors.TopicExistsException if the name is taken */
    TopicMetadata createTopic(String name, int partitions, Map<String, String> configs);

    /** As {@link #createTopic(String, int, Map)}, with replicas spread over the live brokers of a cluster. */
    default TopicMetadata createTopic(String name, int partitions, short replicationFactor, Map<String, String> configs) {
        return createTopic(name, partitions, configs);
    }

    /**
     * True when several brokers share this metadata (ZooKeeper): topic changes then reach the broker's
     * partitions through a {@link MetadataListener}, not directly.
     */
    default boolean clustered() {
        return false;
    }

    /** Registered brokers; empty for a single broker, which describes itself. */
    default Collection<BrokerInfo> liveBrokers() {
        return List.of();
    }

    /** The controller's broker id, -1 when there is none (or no cluster). */
    default int controllerId() {
        return -1;
    }

    /** The brokers assigned to hold the partition, preferred leader first; empty without a cluster. */
    default List<Integer> replicas(String topic, int partition) {
        return List.of();
    }

    default Optional<PartitionState> partitionState(String topic, int partition) {
        return Optional.empty();
    }

    /** Registers the one listener of cluster changes (nothing happens without a cluster). */
    default void listen(MetadataListener listener) {
    }

    /** @return the removed topic, empty if it did not exist */
    Optional<TopicMetadata> deleteTopic(String name);

    TopicMetadata setPartitionCount(String name, int partitions);

    TopicMetadata setConfigs(String name, Map<String, String> configs);

    /** Reserves {@code size} producer ids never handed out before (also across restarts); returns the first. */
    long allocateProducerIds(int size);

    @Override
    void close();
}
