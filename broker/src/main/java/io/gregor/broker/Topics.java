package io.gregor.broker;

import io.gregor.broker.metadata.MetadataListener;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.Partition;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigException;
import io.gregor.config.ResolvedTopicConfig;
import io.gregor.config.TopicConfigs;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicDeletionDisabledException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Topic lifecycle with Kafka's rules and errors: create (auto or by request), delete, add partitions,
 * change configs. Metadata goes to the {@link MetadataStore}, logs to the {@link ReplicaManager}. In a
 * cluster the logs follow the store's change notifications instead, whichever broker made the change.
 */
public final class Topics implements MetadataListener {
    private static final Logger log = LoggerFactory.getLogger(Topics.class);
    /**
     * Partitions one request may create, as Kafka's controller allows (MAX_RECORDS_PER_USER_OP): a bigger
     * count is almost surely a mistake, and would hold the broker busy opening logs until it runs out of
     * memory or file descriptors.
     */
    public static final int MAX_PARTITIONS_PER_REQUEST = 10_000;

    /** Replaced when dynamic broker configs change (see {@link #reconfigure}). */
    private volatile BrokerConfig config;
    private final MetadataStore store;
    private final ReplicaManager replicas;
    private final Map<String, ResolvedTopicConfig> resolved = new ConcurrentHashMap<>();
    /** Internal topics are created by their owner with their own settings, also when a client asks first. */
    private final Map<String, Runnable> internalCreators = new ConcurrentHashMap<>();

    public Topics(BrokerConfig config, MetadataStore store, ReplicaManager replicas) {
        this.config = config;
        this.store = store;
        this.replicas = replicas;
        replicas.replicationThrottles().topicConfigs((topic, key) ->
                store.topic(topic).map(t -> t.configs().get(key)).orElse(null));
    }

    public io.gregor.broker.replica.ReplicationThrottles replicationThrottles() {
        return replicas.replicationThrottles();
    }

    /** Opens the logs of every known topic (in a cluster: starts following the cluster's changes). */
    public void startup() {
        if (store.clustered()) {
            store.listen(this);
            return;
        }
        for (TopicMetadata topic : store.topics()) {
            resolved.put(topic.name(), TopicConfigs.resolve(config, topic.configs()));
            replicas.hostTopic(topic);
        }
    }

    /**
     * Dynamic broker configs changed: topic defaults (log.retention.ms, message.max.bytes, ...) take the new
     * values at once in every topic without its own override.
     */
    public void reconfigure(BrokerConfig next) {
        this.config = next;
        for (TopicMetadata topic : store.topics()) {
            resolved.put(topic.name(), TopicConfigs.resolve(next, topic.configs()));
        }
        replicas.reconfigure(next, store.topics());
    }

    /** The broker's configuration as it is now, dynamic broker configs included. */
    public BrokerConfig brokerConfig() {
        return config;
    }

    public Collection<TopicMetadata> all() {
        return store.topics();
    }

    public Optional<TopicMetadata> topic(String name) {
        return store.topic(name);
    }

    public Optional<TopicMetadata> topic(Uuid id) {
        return store.topic(id);
    }

    public Optional<Partition> partition(String topic, int partition) {
        return replicas.partition(topic, partition);
    }

    public Optional<Partition> partition(Uuid topicId, int partition) {
        return store.topic(topicId).flatMap(t -> replicas.partition(t.name(), partition));
    }

    public int minInsyncReplicas(Partition partition) {
        ResolvedTopicConfig c = resolved.get(partition.topicPartition().topic());
        return c == null ? 1 : c.minInsyncReplicas();
    }

    public ResolvedTopicConfig resolvedConfig(String topic) {
        return resolved.computeIfAbsent(topic, t -> TopicConfigs.resolve(config, Map.of()));
    }

    public int liveBrokers() {
        return store.clustered() ? store.liveBrokers().size() : 1;
    }

    public io.gregor.broker.replica.LogDirHealth logDirHealth() {
        return replicas.logDirHealth();
    }

    public MetadataStore store() {
        return store;
    }

    /**
     * The error for a partition this broker does not host: in a cluster, another broker may (clients then
     * refresh their metadata); otherwise {@code unknown}.
     */
    public Errors notHostedError(String topic, int partition, Errors unknown) {
        if (store.clustered() && topic != null) {
            Optional<TopicMetadata> t = store.topic(topic);
            if (t.isPresent() && partition >= 0 && partition < t.get().partitionCount()) {
                return Errors.NOT_LEADER_OR_FOLLOWER;
            }
        }
        return unknown;
    }

    public Errors notHostedError(Uuid topicId, int partition, Errors unknown) {
        return store.topic(topicId).map(t -> notHostedError(t.name(), partition, unknown)).orElse(unknown);
    }

    // ------------------------------------------------------------------ cluster changes (MetadataListener)

    @Override
    public void topicChanged(TopicMetadata topic) {
        resolved.put(topic.name(), TopicConfigs.resolve(config, topic.configs()));
        replicas.hostTopic(topic, p -> store.replicas(topic.name(), p));
        replicas.removeUnassigned(topic, p -> store.replicas(topic.name(), p));
        replicas.updateConfig(topic);
    }

    @Override
    public void topicDeleted(TopicMetadata topic) {
        resolved.remove(topic.name());
        replicas.removeTopic(topic);
    }

    @Override
    public void partitionChanged(String topic, int partition, PartitionState state) {
        store.topic(topic).ifPresent(t -> replicas.applyState(t, partition, state, store.replicas(topic, partition)));
    }

    /** AlterReplicaLogDirs: moves a partition's log on this broker to another of its log dirs. */
    public void moveReplicaLogDir(String topic, int partition, java.nio.file.Path targetDir) {
        TopicMetadata t = store.topic(topic).orElseThrow(() -> new org.apache.kafka.common.errors.ReplicaNotAvailableException(
                "The replica of " + topic + "-" + partition + " is not on this broker"));
        replicas.moveLog(t, partition, targetDir, () -> store.partitionState(topic, partition)
                .ifPresent(state -> replicas.applyState(t, partition, state, store.replicas(topic, partition))));
    }

    /** Lets the owner of an internal topic (e.g. the group coordinator's) create it on demand. */
    public void registerInternalTopic(String name, Runnable creator) {
        internalCreators.put(name, creator);
    }

    /**
     * Creates a topic a client named without creating it (Metadata with auto-creation): broker defaults,
     * or the owner's settings for an internal topic.
     */
    public TopicMetadata autoCreate(String name) {
        Runnable internal = internalCreators.get(name);
        if (internal == null) {
            return create(name, -1, (short) -1, Map.of(), false);
        }
        internal.run();
        return topic(name).orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist."));
    }

    /**
     * Creates a topic. {@code partitions} or {@code replicationFactor} of -1 take the broker defaults.
     *
     * @throws org.apache.kafka.common.errors.ApiException Kafka's error for what is wrong
     */
    public synchronized TopicMetadata create(String name, int partitions, short replicationFactor,
                                             Map<String, String> configs, boolean validateOnly) {
        return create(name, partitions, replicationFactor, configs, validateOnly, null);
    }

    /** As above; {@code manualAssignment} (partition to replicas, validated by the caller) places the replicas. */
    public synchronized TopicMetadata create(String name, int partitions, short replicationFactor,
                                             Map<String, String> configs, boolean validateOnly,
                                             Map<Integer, java.util.List<Integer>> manualAssignment) {
        Topic.validate(name);
        if (store.topic(name).isPresent()) {
            throw new TopicExistsException("Topic '" + name + "' already exists.");
        }
        int count = partitions == -1 ? config.numPartitions() : partitions;
        if (count <= 0) {
            throw new InvalidPartitionsException("Number of partitions was set to an invalid non-positive value.");
        }
        requireFewEnoughPartitions(count);
        short rf = replicationFactor == -1 ? config.defaultReplicationFactor() : replicationFactor;
        validateReplicationFactor(rf);
        validateConfigs(configs);
        if (Topic.hasCollisionChars(name)) {
            for (TopicMetadata other : store.topics()) {
                if (Topic.hasCollision(name, other.name())) {
                    throw new InvalidTopicException("Topic '" + name + "' collides with existing topic: " + other.name());
                }
            }
        }
        if (validateOnly) {
            return new TopicMetadata(name, Uuid.ZERO_UUID, count, configs);
        }
        TopicMetadata topic = manualAssignment == null ? store.createTopic(name, count, rf, configs)
                : store.createTopic(name, manualAssignment, configs);
        resolved.put(name, TopicConfigs.resolve(config, configs));
        if (!store.clustered()) {
            replicas.hostTopic(topic);
        }
        log.info("Created topic {} with {} partition(s), id {}, configs {}", name, count, topic.topicId(), configs);
        return topic;
    }

    public synchronized TopicMetadata delete(String name) {
        if (!config.deleteTopicEnable()) {
            throw new TopicDeletionDisabledException("Topic deletion is disabled (delete.topic.enable=false).");
        }
        TopicMetadata topic = store.deleteTopic(name)
                .orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist."));
        if (!store.clustered()) {
            resolved.remove(name);
            replicas.removeTopic(topic);
        }
        log.info("Deleted topic {}", name);
        return topic;
    }

    public synchronized TopicMetadata addPartitions(String name, int newCount, boolean validateOnly) {
        TopicMetadata topic = store.topic(name)
                .orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist."));
        int current = topic.partitionCount();
        if (newCount == current) {
            throw new InvalidPartitionsException("Topic already has " + current + " partition(s).");
        }
        if (newCount < current) {
            throw new InvalidPartitionsException("The topic " + name + " currently has " + current
                    + " partition(s); " + newCount + " would not be an increase.");
        }
        requireFewEnoughPartitions(newCount - current);
        if (validateOnly) {
            return new TopicMetadata(name, topic.topicId(), newCount, topic.configs());
        }
        TopicMetadata updated = store.setPartitionCount(name, newCount);
        if (!store.clustered()) {
            replicas.hostTopic(updated);
        }
        log.info("Topic {} now has {} partitions", name, newCount);
        return updated;
    }

    public synchronized TopicMetadata setConfigs(String name, Map<String, String> configs, boolean validateOnly) {
        if (!store.topic(name).isPresent()) {
            throw new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist.");
        }
        validateConfigs(configs);
        if (validateOnly) {
            return store.topic(name).get();
        }
        TopicMetadata updated = store.setConfigs(name, configs);
        resolved.put(name, TopicConfigs.resolve(config, configs));
        replicas.updateConfig(updated);
        log.info("Topic {} configs are now {}", name, configs);
        return updated;
    }

    private void validateReplicationFactor(short rf) {
        if (rf <= 0) {
            throw new InvalidReplicationFactorException("Replication factor must be larger than 0, or -1 to use the default value.");
        }
        int live = liveBrokers();
        if (rf > live) {
            throw new InvalidReplicationFactorException("Unable to replicate the partition " + rf
                    + " time(s): The target replication factor of " + rf + " cannot be reached because only "
                    + live + " broker(s) are registered.");
        }
    }

    private static void requireFewEnoughPartitions(int added) {
        if (added > MAX_PARTITIONS_PER_REQUEST) {
            throw new PolicyViolationException("Excessively large number of partitions per request.");
        }
    }

    private static void validateConfigs(Map<String, String> configs) {
        try {
            TopicConfigs.validate(configs);
        } catch (ConfigException e) {
            throw new InvalidConfigurationException(e.getMessage());
        }
    }
}
