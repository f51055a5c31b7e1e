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

    /** As {@link #createTopic(String, int, Map)}, with each partition's replicas given (CreateTopics' manual assignment). */
    default TopicMetadata createTopic(String name, Map<Integer, List<Integer>> assignment, Map<String, String> configs) {
        return createTopic(name, assignment.size(), configs);
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

    /**
     * ElectLeaders: moves leadership to the preferred (first assigned) replica, or with {@code unclean} gives a
     * leaderless partition any live replica. Waits up to {@code timeoutMs}; one error per partition (NONE,
     * ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE,
     * UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT). A single broker already leads everything.
     */
    default Map<io.gregor.storage.TopicPartition, org.apache.kafka.common.protocol.Errors> electLeaders(
            boolean unclean, java.util.Collection<io.gregor.storage.TopicPartition> partitions, long timeoutMs) {
        Map<io.gregor.storage.TopicPartition, org.apache.kafka.common.protocol.Errors> out = new java.util.LinkedHashMap<>();
        for (io.gregor.storage.TopicPartition tp : partitions) {
            boolean exists = topic(tp.topic()).map(t -> tp.partition() >= 0 && tp.partition() < t.partitionCount())
                    .orElse(false);
            out.put(tp, exists ? org.apache.kafka.common.protocol.Errors.ELECTION_NOT_NEEDED
                    : org.apache.kafka.common.protocol.Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        return out;
    }

    /**
     * The partition's full assignment (with the replicas being added and removed while it is reassigned); null
     * when the partition does not exist. A single broker holds every partition alone.
     */
    default ReplicaAssignment fullAssignment(String topic, int partition) {
        List<Integer> replicas = replicas(topic, partition);
        return replicas.isEmpty() ? null : ReplicaAssignment.of(replicas);
    }

    /** The reassignments in progress among {@code partitions} (null: all of them). */
    default Map<io.gregor.storage.TopicPartition, ReplicaAssignment> reassignments(
            java.util.Collection<io.gregor.storage.TopicPartition> partitions) {
        return Map.of();
    }

    /**
     * AlterPartitionReassignments as Kafka's controller runs it: per partition the new target replicas, or an
     * empty Optional to cancel its reassignment. Returns one result per partition (NONE once the
     * reassignment is under way).
     *
     * @throws org.apache.kafka.common.errors.NotControllerException when this broker is not the controller
     */
    default Map<io.gregor.storage.TopicPartition, org.apache.kafka.common.requests.ApiError> alterReassignments(
            Map<io.gregor.storage.TopicPartition, Optional<List<Integer>>> targets, boolean allowReplicationFactorChange) {
        throw new UnsupportedOperationException("reassignments need a cluster");
    }

    /** Registers the one listener of cluster changes (nothing happens without a cluster). */
    default void listen(MetadataListener listener) {
    }

    /** @return the removed topic, empty if it did not exist */
    Optional<TopicMetadata> deleteTopic(String name);

    TopicMetadata setPartitionCount(String name, int partitions);

    TopicMetadata setConfigs(String name, Map<String, String> configs);

    /**
     * Configs of user entities (Kafka's {@code /config/users/<user>}): for now SCRAM credentials, the mechanism
     * name mapped to Kafka's credential text ({@code salt=...,stored_key=...,server_key=...,iterations=N}).
     */
    default Map<String, Map<String, String>> userConfigs() {
        return Map.of();
    }

    /** Replaces one user's configs (an empty map removes the user); durable, and seen by every broker. */
    default void setUserConfigs(String user, Map<String, String> configs) {
        throw new UnsupportedOperationException("user configs are not stored here");
    }

    /** Adds a listener told the name of a user whose configs changed (here or on another broker). */
    default void listenUsers(java.util.function.Consumer<String> changed) {
    }

    /**
     * ACLs by resource pattern (LITERAL or PREFIXED): Kafka's {@code /kafka-acl} and {@code /kafka-acl-extended}
     * in a cluster, a file for a single broker.
     */
    default Map<org.apache.kafka.common.resource.ResourcePattern, java.util.Set<org.apache.kafka.common.acl.AccessControlEntry>> acls() {
        return Map.of();
    }

    /**
     * Replaces one resource pattern's ACLs with {@code change} applied to the current ones (an empty result removes the
     * pattern), atomically against concurrent writers; durable, and seen by every broker, when it returns.
     */
    default void updateAcls(org.apache.kafka.common.resource.ResourcePattern resource,
                            java.util.function.UnaryOperator<java.util.Set<org.apache.kafka.common.acl.AccessControlEntry>> change) {
        throw new UnsupportedOperationException("ACLs are not stored here");
    }

    /**
     * Registers the one listener told of a resource pattern whose ACLs changed (here or on another broker); null when
     * any may have changed (a new ZooKeeper session).
     */
    default void listenAcls(java.util.function.Consumer<org.apache.kafka.common.resource.ResourcePattern> changed) {
    }

    /**
     * Dynamic broker configs of one entity: a broker id, or {@code <default>} for the cluster-wide defaults
     * (Kafka's {@code /config/brokers/<entity>}); empty when none are set.
     */
    default Map<String, String> brokerConfigs(String entity) {
        return Map.of();
    }

    /** Replaces one entity's dynamic broker configs (an empty map removes them); durable, and seen by every broker. */
    default void setBrokerConfigs(String entity, Map<String, String> configs) {
        throw new UnsupportedOperationException("dynamic broker configs are not stored here");
    }

    /** Registers the one listener told the entity whose dynamic broker configs changed (here or on another broker). */
    default void listenBrokerConfigs(java.util.function.Consumer<String> changed) {
    }

    /**
     * Configs of one group (Kafka's GROUP config resource, {@code /config/groups/<group>} in a cluster); empty when
     * none are set. Served from memory, kept current with changes made on any broker.
     */
    default Map<String, String> groupConfigs(String group) {
        return Map.of();
    }

    /** The groups that have configs (ListConfigResources of GROUP). */
    default Collection<String> groupsWithConfigs() {
        return List.of();
    }

    /** Replaces one group's configs (an empty map removes them); durable, and seen by every broker. */
    default void setGroupConfigs(String group, Map<String, String> configs) {
        throw new UnsupportedOperationException("group configs are not stored here");
    }

    /**
     * Client quota configs of the entities that are not a bare user (a user's own sit in {@link #userConfigs()}):
     * Kafka's {@code /config/clients/<id>} and {@code /config/users/<user>/clients/<id>}, keyed by that path below
     * /config ({@code clients/<id>}, {@code users/<user>/clients/<id>}), names sanitized as Kafka sanitized them
     * and the default entity written {@code <default>}.
     */
    default Map<String, Map<String, String>> clientQuotaConfigs() {
        return Map.of();
    }

    /** Replaces one entity's configs (an empty map removes them); durable, and seen by every broker. */
    default void setClientQuotaConfigs(String entityPath, Map<String, String> configs) {
        throw new UnsupportedOperationException("client quota configs are not stored here");
    }

    /** Adds a listener told the path of an entity of {@link #clientQuotaConfigs()} whose configs changed. */
    default void listenClientQuotas(java.util.function.Consumer<String> changed) {
    }

    /** Reserves {@code size} producer ids never handed out before (also across restarts); returns the first. */
    long allocateProducerIds(int size);

    @Override
    void close();
}
