package io.gregor.broker.metadata;

import org.apache.kafka.common.Uuid;

import java.util.Collection;
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

    /** @return the removed topic, empty if it did not exist */
    Optional<TopicMetadata> deleteTopic(String name);

    TopicMetadata setPartitionCount(String name, int partitions);

    TopicMetadata setConfigs(String name, Map<String, String> configs);

    /** Reserves {@code size} producer ids never handed out before (also across restarts); returns the first. */
    long allocateProducerIds(int size);

    @Override
    void close();
}
