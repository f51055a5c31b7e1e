package io.gregor.broker.handlers;

import io.gregor.wire.KafkaRequest;
import java.util.function.BiPredicate;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigEntry;
import io.gregor.config.ConfigException;
import io.gregor.config.TopicConfigs;
import io.gregor.wire.ApiRegistry;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.TopicDeletionDisabledException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsAssignment;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * CreateTopics, DeleteTopics and CreatePartitions with the KRaft controller's validation order, error
 * codes and messages. The topic changes themselves go through {@link Topics}; each topic of a request
 * succeeds or fails on its own.
 */
public final class TopicAdminHandler {
    private static final Logger log = LoggerFactory.getLogger(TopicAdminHandler.class);
    /** One broker hosts every replica, so every existing partition has exactly one. */
    private static final int EXISTING_REPLICATION_FACTOR = 1;

    private final Topics topics;
    private final BrokerConfig config;
    private final int brokerId;

    public TopicAdminHandler(Topics topics, BrokerConfig config) {
        this.topics = topics;
        this.config = config;
        // An unset broker.id (-1) is served as broker 0, as Metadata reports it.
        this.brokerId = config.brokerId() < 0 ? 0 : config.brokerId();
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.CREATE_TOPICS, (short) 2, (short) 7, request -> CompletableFuture.completedFuture(
                createTopics(request.body(), request.apiVersion(), access(request))));
        registry.register(ApiKeys.DELETE_TOPICS, (short) 1, (short) 6, request -> CompletableFuture.completedFuture(
                deleteTopics(request.body(), request.apiVersion(), access(request))));
        registry.register(ApiKeys.CREATE_PARTITIONS, (short) 0, (short) 3, request -> CompletableFuture.completedFuture(
                createPartitions(request.body(), access(request))));
    }

    /** Whether the client may perform an operation on a topic; CREATE on the cluster allows creating any topic. */
    private static BiPredicate<AclOperation, String> access(KafkaRequest request) {
        if (!request.authorizerEnabled()) {
            return ANY_TOPIC;
        }
        boolean createAny = request.authorizeCluster(AclOperation.CREATE);
        return (operation, topic) -> (operation == AclOperation.CREATE && createAny)
                || request.authorize(operation, ResourceType.TOPIC, topic);
    }

    private static final BiPredicate<AclOperation, String> ANY_TOPIC = (operation, topic) -> true;

    // ------------------------------------------------------------------------------------ CreateTopics

    CreateTopicsResponseData createTopics(CreateTopicsRequestData request, short version) {
        return createTopics(request, version, ANY_TOPIC);
    }

    CreateTopicsResponseData createTopics(CreateTopicsRequestData request, short version,
                                          BiPredicate<AclOperation, String> access) {
        Set<String> duplicates = duplicates(request.topics().stream().map(CreatableTopic::name).toList());
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        // Kafka's controller refuses the whole request when its topics add up to too many partitions
        long requestedPartitions = 0;
        for (CreatableTopic topic : request.topics()) {
            requestedPartitions += !topic.assignments().isEmpty() ? topic.assignments().size()
                    : topic.numPartitions() == -1 ? config.numPartitions() : Math.max(0, topic.numPartitions());
        }
        boolean tooManyPartitions = requestedPartitions > Topics.MAX_PARTITIONS_PER_REQUEST;
        for (CreatableTopic topic : request.topics()) {
            if (duplicates.contains(topic.name())) {
                continue;
            }
            if (!access.test(AclOperation.CREATE, topic.name())) {
                response.topics().add(new CreatableTopicResult().setName(topic.name())
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()).setErrorMessage("Authorization failed."));
            } else if (tooManyPartitions) {
                response.topics().add(new CreatableTopicResult().setName(topic.name())
                        .setErrorCode(Errors.POLICY_VIOLATION.code())
                        .setErrorMessage("Excessively large number of partitions per request."));
            } else {
                CreatableTopicResult result = createTopic(topic, request.validateOnly(), version);
                if (version >= 5 && result.errorCode() == Errors.NONE.code()
                        && !access.test(AclOperation.DESCRIBE_CONFIGS, topic.name())) {
                    // created, but the creator may not see its configs (Kafka's answer)
                    result.setTopicConfigErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()).setConfigs(List.of());
                }
                response.topics().add(result);
            }
        }
        // Kafka answers a name given more than once with one error, after the other topics.
        for (String name : duplicates) {
            response.topics().add(new CreatableTopicResult().setName(name)
                    .setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Found multiple entries for this topic."));
        }
        return response;
    }

    private CreatableTopicResult createTopic(CreatableTopic topic, boolean validateOnly, short version) {
        CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
        try {
            Topic.validate(topic.name());
            if (topics.topic(topic.name()).isPresent()) {
                throw new TopicExistsException("Topic '" + topic.name() + "' already exists.");
            }
            Map<String, String> configs = creationConfigs(topic);
            Map<Integer, List<Integer>> manual = null;
            int partitions = topic.numPartitions();
            short replicationFactor = topic.replicationFactor();
            if (!topic.assignments().isEmpty()) {
                if (replicationFactor != -1) {
                    throw new InvalidRequestException("A manual partition assignment was specified, but replication "
                            + "factor was not set to -1.");
                }
                if (partitions != -1) {
                    throw new InvalidRequestException("A manual partition assignment was specified, but numPartitions "
                            + "was not set to -1.");
                }
                replicationFactor = (short) validateCreationAssignments(topic);
                partitions = topic.assignments().size();
                manual = new java.util.TreeMap<>();
                for (CreatableReplicaAssignment a : topic.assignments()) {
                    manual.put(a.partitionIndex(), List.copyOf(a.brokerIds()));
                }
            } else if (replicationFactor < -1 || replicationFactor == 0) {
                throw new InvalidReplicationFactorException(
                        "Replication factor must be larger than 0, or -1 to use the default value.");
            } else if (partitions < -1 || partitions == 0) {
                throw new InvalidPartitionsException("Number of partitions was set to an invalid non-positive value.");
            }
            TopicMetadata created = topics.create(topic.name(), partitions, replicationFactor, configs, validateOnly,
                    manual);
            result.setTopicId(created.topicId()).setErrorCode(Errors.NONE.code()).setErrorMessage(null);
            if (version >= 5) {
                short effectiveReplicationFactor = replicationFactor == -1 ? config.defaultReplicationFactor() : replicationFactor;
                result.setNumPartitions(created.partitionCount())
                        .setReplicationFactor(effectiveReplicationFactor)
                        .setTopicConfigErrorCode(Errors.NONE.code())
                        .setConfigs(describe(configs));
            }
        } catch (RuntimeException e) {
            setError(result, e, "create topic " + topic.name());
        }
        return result;
    }

    /** The request's configs as a map; null values are refused and every value is validated. */
    private static Map<String, String> creationConfigs(CreatableTopic topic) {
        Map<String, String> configs = new HashMap<>();
        List<String> nullConfigs = new ArrayList<>();
        for (CreatableTopicConfig config : topic.configs()) {
            if (config.value() == null) {
                nullConfigs.add(config.name());
            } else {
                configs.put(config.name(), config.value());
            }
        }
        if (!nullConfigs.isEmpty()) {
            throw new InvalidConfigurationException("Null value not supported for topic configs: " + String.join(",", nullConfigs));
        }
        try {
            TopicConfigs.validate(configs);
        } catch (ConfigException e) {
            throw new InvalidConfigurationException(e.getMessage());
        }
        return configs;
    }

    /** Checks a manual assignment (ids 0..n-1, equal non-empty replica lists of known brokers); returns its replication factor. */
    private int validateCreationAssignments(CreatableTopic topic) {
        Set<Integer> seen = new HashSet<>();
        int replicationFactor = -1;
        for (CreatableReplicaAssignment assignment : topic.assignments()) {
            if (!seen.add(assignment.partitionIndex())) {
                throw new InvalidReplicaAssignmentException("Found multiple manual partition assignments for partition "
                        + assignment.partitionIndex());
            }
            validateReplicas(assignment.brokerIds(), replicationFactor, registeredBrokers());
            replicationFactor = assignment.brokerIds().size();
        }
        for (int partition = 0; partition < seen.size(); partition++) {
            if (!seen.contains(partition)) {
                throw new InvalidReplicaAssignmentException("partitions should be a consecutive 0-based integer sequence");
            }
        }
        return replicationFactor;
    }

    /** The brokers a manual assignment may name: the registered ones of a cluster, or this one. */
    private Set<Integer> registeredBrokers() {
        if (!topics.store().clustered()) {
            return Set.of(brokerId);
        }
        Set<Integer> ids = new HashSet<>();
        topics.store().liveBrokers().forEach(b -> ids.add(b.id()));
        return ids;
    }

    /** One partition's replica list: non-empty, only registered brokers, none twice, {@code expectedSize} long (-1: any). */
    private void validateReplicas(List<Integer> replicas, int expectedSize, Set<Integer> registered) {
        if (replicas.isEmpty()) {
            throw new InvalidReplicaAssignmentException("The manual partition assignment includes an empty replica list.");
        }
        List<Integer> sorted = new ArrayList<>(replicas);
        sorted.sort(Integer::compare);
        Integer previous = null;
        for (Integer broker : sorted) {
            if (!registered.contains(broker)) {
                throw new InvalidReplicaAssignmentException("The manual partition assignment includes broker " + broker
                        + ", but no such broker is registered.");
            }
            if (broker.equals(previous)) {
                throw new InvalidReplicaAssignmentException("The manual partition assignment includes the broker "
                        + broker + " more than once.");
            }
            previous = broker;
        }
        if (expectedSize >= 0 && sorted.size() != expectedSize) {
            throw new InvalidReplicaAssignmentException("The manual partition assignment includes a partition with "
                    + sorted.size() + " replica(s), but this is not consistent with previous partitions, which have "
                    + expectedSize + " replica(s).");
        }
    }

    private List<CreatableTopicConfigs> describe(Map<String, String> overrides) {
        // the topic defaults as they are now, dynamic broker configs included
        List<ConfigEntry> entries = TopicConfigs.describe(topics.brokerConfig(), overrides);
        List<CreatableTopicConfigs> configs = new ArrayList<>(entries.size());
        for (ConfigEntry entry : entries) {
            configs.add(new CreatableTopicConfigs().setName(entry.name())
                    .setValue(entry.sensitive() ? null : entry.value())
                    .setReadOnly(entry.readOnly())
                    .setConfigSource(entry.source().id())
                    .setIsSensitive(entry.sensitive()));
        }
        return configs;
    }

    // ------------------------------------------------------------------------------------ DeleteTopics

    DeleteTopicsResponseData deleteTopics(DeleteTopicsRequestData request, short version) {
        return deleteTopics(request, version, ANY_TOPIC);
    }

    DeleteTopicsResponseData deleteTopics(DeleteTopicsRequestData request, short version,
                                          BiPredicate<AclOperation, String> access) {
        List<DeleteTopicState> requested = new ArrayList<>();
        for (String name : request.topicNames()) {
            requested.add(new DeleteTopicState().setName(name).setTopicId(Uuid.ZERO_UUID));
        }
        requested.addAll(request.topics());
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        if (!config.deleteTopicEnable()) {
            // Before v3 clients did not know TOPIC_DELETION_DISABLED; Kafka answers them INVALID_REQUEST.
            ApiException error = version < 3 ? new InvalidRequestException("Topic deletion is disabled.")
                    : new TopicDeletionDisabledException("Topic deletion is disabled.");
            for (DeleteTopicState topic : requested) {
                response.responses().add(deletionResult(topic.name(), topic.topicId(), error));
            }
            return response;
        }

        Map<String, Integer> nameCounts = new HashMap<>();
        Map<Uuid, Integer> idCounts = new HashMap<>();
        for (DeleteTopicState topic : requested) {
            if (topic.name() != null && topic.topicId().equals(Uuid.ZERO_UUID)) {
                nameCounts.merge(topic.name(), 1, Integer::sum);
            } else if (topic.name() == null && !topic.topicId().equals(Uuid.ZERO_UUID)) {
                idCounts.merge(topic.topicId(), 1, Integer::sum);
            }
        }
        // Resolve every well-formed reference first, so that a topic named and also given by id is caught;
        // answers keep the request's order.
        DeletableTopicResult[] results = new DeletableTopicResult[requested.size()];
        TopicMetadata[] targets = new TopicMetadata[requested.size()];
        Map<Uuid, Integer> targetCounts = new HashMap<>();
        Set<String> reportedDuplicates = new HashSet<>();
        Set<Uuid> reportedDuplicateIds = new HashSet<>();
        for (int i = 0; i < requested.size(); i++) {
            String name = requested.get(i).name();
            Uuid id = requested.get(i).topicId();
            boolean byId = !id.equals(Uuid.ZERO_UUID);
            if (name == null && !byId) {
                results[i] = deletionResult(null, Uuid.ZERO_UUID,
                        new InvalidRequestException("Neither topic name nor id were specified."));
            } else if (name != null && byId) {
                results[i] = deletionResult(name, id, new InvalidRequestException("You may not specify both topic name and topic id."));
            } else if (name != null && nameCounts.get(name) > 1) {
                if (reportedDuplicates.add(name)) {
                    results[i] = deletionResult(name, Uuid.ZERO_UUID, new InvalidRequestException("Duplicate topic name."));
                }
            } else if (byId && idCounts.get(id) > 1) {
                if (reportedDuplicateIds.add(id)) {
                    results[i] = deletionResult(null, id, new InvalidRequestException("Duplicate topic id."));
                }
            } else if (!byId && !access.test(AclOperation.DELETE, name)) {
                // refused before the lookup: whether the topic exists is not revealed
                results[i] = new DeletableTopicResult().setName(name).setTopicId(id)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
            } else {
                Optional<TopicMetadata> found = byId ? topics.topic(id) : topics.topic(name);
                if (byId && found.isPresent() && !access.test(AclOperation.DESCRIBE, found.get().name())) {
                    // a topic the client may not describe is not revealed by its id either
                    found = Optional.empty();
                }
                if (found.isPresent() && byId && !access.test(AclOperation.DELETE, found.get().name())) {
                    results[i] = new DeletableTopicResult().setName(null).setTopicId(id)
                            .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (found.isEmpty()) {
                    results[i] = new DeletableTopicResult().setName(name).setTopicId(id)
                            .setErrorCode((byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                } else {
                    targets[i] = found.get();
                    targetCounts.merge(found.get().topicId(), 1, Integer::sum);
                }
            }
        }
        for (int i = 0; i < requested.size(); i++) {
            TopicMetadata topic = targets[i];
            if (topic == null) {
                continue;
            }
            if (targetCounts.get(topic.topicId()) > 1) {
                results[i] = deletionResult(topic.name(), topic.topicId(),
                        new InvalidRequestException("The provided topic name maps to an ID that was already supplied."));
                continue;
            }
            results[i] = new DeletableTopicResult().setName(topic.name()).setTopicId(topic.topicId());
            try {
                topics.delete(topic.name());
                results[i].setErrorCode(Errors.NONE.code());
            } catch (RuntimeException e) {
                Errors error = errorOf(e, "delete topic " + topic.name());
                results[i].setErrorCode(error.code()).setErrorMessage(messageOf(e, error));
            }
        }
        for (DeletableTopicResult result : results) {
            if (result != null) {
                response.responses().add(result);
            }
        }
        return response;
    }

    private static DeletableTopicResult deletionResult(String name, Uuid id, ApiException error) {
        return new DeletableTopicResult().setName(name).setTopicId(id)
                .setErrorCode(Errors.forException(error).code()).setErrorMessage(error.getMessage());
    }

    // ------------------------------------------------------------------------------------ CreatePartitions

    CreatePartitionsResponseData createPartitions(CreatePartitionsRequestData request) {
        return createPartitions(request, ANY_TOPIC);
    }

    CreatePartitionsResponseData createPartitions(CreatePartitionsRequestData request,
                                                  BiPredicate<AclOperation, String> access) {
        Set<String> duplicates = duplicates(request.topics().stream().map(CreatePartitionsTopic::name).toList());
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        for (CreatePartitionsTopic topic : request.topics()) {
            if (duplicates.contains(topic.name())) {
                continue;
            }
            CreatePartitionsTopicResult result = new CreatePartitionsTopicResult().setName(topic.name());
            if (!access.test(AclOperation.ALTER, topic.name())) {
                response.results().add(result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage(Errors.TOPIC_AUTHORIZATION_FAILED.message()));
                continue;
            }
            try {
                addPartitions(topic, request.validateOnly());
                result.setErrorCode(Errors.NONE.code()).setErrorMessage(null);
            } catch (RuntimeException e) {
                Errors error = errorOf(e, "add partitions to " + topic.name());
                result.setErrorCode(error.code()).setErrorMessage(messageOf(e, error));
            }
            response.results().add(result);
        }
        for (String name : duplicates) {
            response.results().add(new CreatePartitionsTopicResult().setName(name)
                    .setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Duplicate topic name."));
        }
        return response;
    }

    private void addPartitions(CreatePartitionsTopic topic, boolean validateOnly) {
        TopicMetadata existing = topics.topic(topic.name())
                .orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + topic.name() + "' does not exist."));
        int additional = topic.count() - existing.partitionCount();
        // A null list asks the broker to place the new partitions; only the new partitions are listed otherwise.
        if (topic.assignments() != null && additional > 0) {
            if (topic.assignments().size() != additional) {
                throw new InvalidReplicaAssignmentException("Attempted to add " + additional
                        + " additional partition(s), but only " + topic.assignments().size() + " assignment(s) were specified.");
            }
            for (CreatePartitionsAssignment assignment : topic.assignments()) {
                // new partitions are placed by the broker, so only this one can be named for them
                validateReplicas(assignment.brokerIds(), EXISTING_REPLICATION_FACTOR, Set.of(brokerId));
            }
        }
        topics.addPartitions(topic.name(), topic.count(), validateOnly);
    }

    // ------------------------------------------------------------------------------------ helpers

    private static Set<String> duplicates(List<String> names) {
        Set<String> seen = new HashSet<>();
        Set<String> duplicates = new LinkedHashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                duplicates.add(name);
            }
        }
        return duplicates;
    }

    private static void setError(CreatableTopicResult result, RuntimeException e, String action) {
        Errors error = errorOf(e, action);
        result.setErrorCode(error.code()).setErrorMessage(messageOf(e, error));
    }

    /** Kafka's error for an exception; anything not an ApiException is a bug or an I/O failure and is logged. */
    static Errors errorOf(RuntimeException e, String action) {
        Errors error = Errors.forException(e);
        if (error == Errors.UNKNOWN_SERVER_ERROR) {
            log.error("Failed to {}", action, e);
        } else {
            log.debug("Refused to {}: {}", action, e.getMessage());
        }
        return error;
    }

    /** The message to send: the exception's own, but nothing of an internal failure's details. */
    static String messageOf(RuntimeException e, Errors error) {
        return error == Errors.UNKNOWN_SERVER_ERROR ? null : e.getMessage();
    }
}
