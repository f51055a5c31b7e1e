package io.gregor.broker.handlers;

import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.ReplicationThrottles;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigEntry;
import io.gregor.config.ConfigSynonym;
import io.gregor.config.ConfigType;
import io.gregor.config.ResolvedTopicConfig;
import io.gregor.config.TopicConfigs;
import io.gregor.wire.ApiRegistry;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics and this broker. Topic overrides
 * are changed through {@link Topics#setConfigs}, which persists them and reconfigures the logs. Broker
 * configs are static (server.properties), so altering them is refused with INVALID_REQUEST.
 */
public final class ConfigsHandler {
    private static final String BROKER_CONFIGS_STATIC = "Gregor does not support dynamic broker configs: "
            + "set them in server.properties and restart the broker.";
    private static final String BROKER_LOGGERS_STATIC = "Gregor does not support changing log levels at runtime: "
            + "start the broker with -Dgregor.log.level[.LOGGER]=LEVEL (GREGOR_OPTS).";

    private final Topics topics;
    private final BrokerConfig config;
    private final int brokerId;
    /** Topic keys whose values are lists: the only ones APPEND and SUBTRACT apply to. */
    private final Set<String> listTopicKeys = new HashSet<>();
    /** Each topic key's value without an override, where APPEND and SUBTRACT start from. */
    private final ResolvedTopicConfig topicDefaults;

    public ConfigsHandler(Topics topics, BrokerConfig config) {
        this.topics = topics;
        this.config = config;
        // An unset broker.id (-1) is served as broker 0, as Metadata reports it.
        this.brokerId = config.brokerId() < 0 ? 0 : config.brokerId();
        for (ConfigEntry entry : TopicConfigs.describe(config, Map.of())) {
            if (entry.type() == ConfigType.LIST) {
                listTopicKeys.add(entry.name());
            }
        }
        this.topicDefaults = TopicConfigs.resolve(config, Map.of());
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.DESCRIBE_CONFIGS, (short) 1, (short) 4,
                request -> CompletableFuture.completedFuture(describeConfigs(request.body(), access(request))));
        registry.register(ApiKeys.ALTER_CONFIGS, (short) 0, (short) 2,
                request -> CompletableFuture.completedFuture(alterConfigs(request.body(), access(request))));
        registry.register(ApiKeys.INCREMENTAL_ALTER_CONFIGS, (short) 0, (short) 1,
                request -> CompletableFuture.completedFuture(incrementalAlterConfigs(request.body(), access(request))));
    }

    /** Refuses a config operation on a resource by throwing Kafka's authorization exception for it. */
    @FunctionalInterface
    interface ConfigAccess {
        ConfigAccess ANY = (operation, resourceType, name) -> {
        };

        void check(AclOperation operation, byte resourceType, String name);
    }

    /** A topic's configs need DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic; a broker's, on the cluster. */
    private static ConfigAccess access(KafkaRequest request) {
        if (!request.authorizerEnabled()) {
            return ConfigAccess.ANY;
        }
        return (operation, resourceType, name) -> {
            if (resourceType == ConfigResource.Type.TOPIC.id()) {
                if (!request.authorize(operation, ResourceType.TOPIC, name)) {
                    throw new TopicAuthorizationException(Errors.TOPIC_AUTHORIZATION_FAILED.message());
                }
            } else if (!request.authorizeCluster(operation)) {
                throw new ClusterAuthorizationException(Errors.CLUSTER_AUTHORIZATION_FAILED.message());
            }
        };
    }

    // ------------------------------------------------------------------------------------ DescribeConfigs

    DescribeConfigsResponseData describeConfigs(DescribeConfigsRequestData request) {
        return describeConfigs(request, ConfigAccess.ANY);
    }

    DescribeConfigsResponseData describeConfigs(DescribeConfigsRequestData request, ConfigAccess access) {
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsResource resource : request.resources()) {
            DescribeConfigsResult result = new DescribeConfigsResult()
                    .setResourceType(resource.resourceType()).setResourceName(resource.resourceName());
            try {
                access.check(AclOperation.DESCRIBE_CONFIGS, resource.resourceType(), resource.resourceName());
                List<String> keys = resource.configurationKeys();
                for (ConfigEntry entry : entriesOf(resource)) {
                    if (keys == null || keys.contains(entry.name())) {
                        result.configs().add(toResult(entry, request.includeSynonyms(), request.includeDocumentation()));
                    }
                }
                result.setErrorCode(Errors.NONE.code()).setErrorMessage(null);
            } catch (RuntimeException e) {
                Errors error = TopicAdminHandler.errorOf(e, "describe configs of " + resource.resourceName());
                result.setErrorCode(error.code()).setErrorMessage(TopicAdminHandler.messageOf(e, error))
                        .setConfigs(new ArrayList<>());
            }
            response.results().add(result);
        }
        return response;
    }

    private List<ConfigEntry> entriesOf(DescribeConfigsResource resource) {
        String name = resource.resourceName();
        return switch (ConfigResource.Type.forId(resource.resourceType())) {
            case TOPIC -> {
                Topic.validate(name);
                yield TopicConfigs.describe(config, existingTopic(name).configs());
            }
            case BROKER -> {
                checkBrokerName(name, true);
                // "" asks for the cluster-wide dynamic defaults: only replication throttles can be set there
                List<ConfigEntry> entries = new ArrayList<>(name.isEmpty() ? List.of() : config.describe());
                entries.addAll(throttleEntries(name.isEmpty()));
                yield entries;
            }
            // Log levels are not exposed; an empty list lets tools that list loggers carry on.
            case BROKER_LOGGER -> {
                checkBrokerName(name, false);
                yield List.of();
            }
            default -> throw new InvalidRequestException("Unsupported resource type: " + resource.resourceType());
        };
    }

    private static DescribeConfigsResourceResult toResult(ConfigEntry entry, boolean includeSynonyms,
                                                          boolean includeDocumentation) {
        DescribeConfigsResourceResult result = new DescribeConfigsResourceResult()
                .setName(entry.name())
                .setValue(entry.sensitive() ? null : entry.value())
                .setReadOnly(entry.readOnly())
                .setConfigSource(entry.source().id())
                .setIsSensitive(entry.sensitive())
                .setConfigType(entry.type().id())
                .setDocumentation(includeDocumentation ? entry.documentation() : null);
        if (includeSynonyms) {
            for (ConfigSynonym synonym : entry.synonyms()) {
                result.synonyms().add(new DescribeConfigsSynonym().setName(synonym.name())
                        .setValue(entry.sensitive() ? null : synonym.value()).setSource(synonym.source().id()));
            }
        }
        return result;
    }

    // ------------------------------------------------------------------------------------ AlterConfigs

    /** The legacy API: a topic's given configs replace all of its overrides. */
    AlterConfigsResponseData alterConfigs(AlterConfigsRequestData request) {
        return alterConfigs(request, ConfigAccess.ANY);
    }

    AlterConfigsResponseData alterConfigs(AlterConfigsRequestData request, ConfigAccess access) {
        return new AlterConfigsResponseData().setResponses(alterEach(request.resources(),
                r -> new ResourceKey(r.resourceType(), r.resourceName()),
                r -> {
                    access.check(AclOperation.ALTER_CONFIGS, r.resourceType(), r.resourceName());
                    replaceConfigs(r, request.validateOnly());
                },
                (key, error, message) -> new AlterConfigsResourceResponse()
                        .setResourceType(key.type()).setResourceName(key.name())
                        .setErrorCode(error.code()).setErrorMessage(message),
                "Duplicate resource."));
    }

    private void replaceConfigs(AlterConfigsRequestData.AlterConfigsResource resource, boolean validateOnly) {
        String name = resource.resourceName();
        switch (ConfigResource.Type.forId(resource.resourceType())) {
            case TOPIC -> {
                Map<String, String> overrides = new HashMap<>();
                List<String> nullValues = new ArrayList<>();
                for (AlterConfigsRequestData.AlterableConfig config : resource.configs()) {
                    if (config.value() == null) {
                        nullValues.add(config.name());
                    } else {
                        overrides.put(config.name(), config.value());
                    }
                }
                if (!nullValues.isEmpty()) {
                    throw new InvalidRequestException("Null value not supported for : " + String.join(", ", nullValues));
                }
                existingTopic(name);
                topics.setConfigs(name, overrides, validateOnly);
            }
            case BROKER -> {
                checkBrokerName(name, true);
                throw new InvalidRequestException(BROKER_CONFIGS_STATIC);
            }
            default -> throw new InvalidRequestException("Unsupported resource type: " + resource.resourceType());
        }
    }

    // ------------------------------------------------------------------------------------ IncrementalAlterConfigs

    IncrementalAlterConfigsResponseData incrementalAlterConfigs(IncrementalAlterConfigsRequestData request) {
        return incrementalAlterConfigs(request, ConfigAccess.ANY);
    }

    IncrementalAlterConfigsResponseData incrementalAlterConfigs(IncrementalAlterConfigsRequestData request,
                                                                ConfigAccess access) {
        return new IncrementalAlterConfigsResponseData().setResponses(alterEach(request.resources(),
                r -> new ResourceKey(r.resourceType(), r.resourceName()),
                r -> {
                    access.check(AclOperation.ALTER_CONFIGS, r.resourceType(), r.resourceName());
                    alterIncrementally(r, request.validateOnly());
                },
                (key, error, message) -> new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                        .setResourceType(key.type()).setResourceName(key.name())
                        .setErrorCode(error.code()).setErrorMessage(message),
                "Each resource must appear at most once."));
    }

    private void alterIncrementally(IncrementalAlterConfigsRequestData.AlterConfigsResource resource, boolean validateOnly) {
        Set<String> keys = new HashSet<>();
        List<String> nullValues = new ArrayList<>();
        for (AlterableConfig op : resource.configs()) {
            if (!keys.add(op.name())) {
                throw new InvalidRequestException("Error due to duplicate config keys");
            }
            if (OpType.forId(op.configOperation()) == null) {
                throw new InvalidRequestException("Unknown config operation type " + op.configOperation()
                        + " for key " + op.name());
            }
            if (op.configOperation() != OpType.DELETE.id() && op.value() == null) {
                nullValues.add(op.name());
            }
        }
        if (!nullValues.isEmpty()) {
            throw new InvalidRequestException("Null value not supported for : " + String.join(", ", nullValues));
        }
        String name = resource.resourceName();
        switch (ConfigResource.Type.forId(resource.resourceType())) {
            case TOPIC -> {
                TopicMetadata topic = existingTopic(name);
                topics.setConfigs(name, applyOperations(topic.configs(), resource.configs()), validateOnly);
            }
            case BROKER -> {
                checkBrokerName(name, true);
                alterReplicationThrottles(resource, name.isEmpty(), validateOnly);
            }
            case BROKER_LOGGER -> {
                checkBrokerName(name, false);
                throw new InvalidRequestException(BROKER_LOGGERS_STATIC);
            }
            default -> throw new InvalidRequestException("Unsupported resource type: " + resource.resourceType());
        }
    }

    /** The replication throttle rates set at runtime, as dynamic broker configs (per broker, or the cluster default). */
    private List<ConfigEntry> throttleEntries(boolean clusterDefault) {
        ReplicationThrottles throttles = topics.replicationThrottles();
        List<ConfigEntry> out = new ArrayList<>();
        for (String key : List.of(ReplicationThrottles.LEADER_RATE, ReplicationThrottles.FOLLOWER_RATE,
                ReplicationThrottles.LOG_DIR_RATE)) {
            Long own = throttles.value(key, clusterDefault);
            Long fallback = clusterDefault ? null : throttles.value(key, true);
            if (own == null && fallback == null) {
                continue;
            }
            List<ConfigSynonym> synonyms = new ArrayList<>();
            if (own != null) {
                synonyms.add(new ConfigSynonym(key, own.toString(), clusterDefault
                        ? io.gregor.config.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
                        : io.gregor.config.ConfigSource.DYNAMIC_BROKER_CONFIG));
            }
            if (fallback != null) {
                synonyms.add(new ConfigSynonym(key, fallback.toString(),
                        io.gregor.config.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
            }
            ConfigSynonym effective = synonyms.get(0);
            out.add(new ConfigEntry(key, effective.value(), effective.source(), false, false, ConfigType.LONG,
                    "A replication throttle in bytes/s (kafka-reassign-partitions --throttle).", synonyms));
        }
        return out;
    }

    /**
     * The replication throttle rates are the broker configs Gregor changes at runtime (kafka-reassign-partitions
     * sets and clears them); any other key keeps the broker's configs static.
     */
    private void alterReplicationThrottles(IncrementalAlterConfigsRequestData.AlterConfigsResource resource,
                                           boolean clusterDefault, boolean validateOnly) {
        ReplicationThrottles throttles = topics.replicationThrottles();
        for (AlterableConfig op : resource.configs()) {
            OpType type = OpType.forId(op.configOperation());
            if (!ReplicationThrottles.isThrottleKey(op.name()) || (type != OpType.SET && type != OpType.DELETE)) {
                throw new InvalidRequestException(BROKER_CONFIGS_STATIC);
            }
            if (type == OpType.SET) {
                ReplicationThrottles.parse(op.name(), op.value());
            }
        }
        if (validateOnly) {
            return;
        }
        for (AlterableConfig op : resource.configs()) {
            throttles.set(op.name(), OpType.forId(op.configOperation()) == OpType.SET ? op.value() : null, clusterDefault);
        }
    }

    /** The topic's overrides after the operations; validation of the result is left to Topics.setConfigs. */
    private Map<String, String> applyOperations(Map<String, String> current, Iterable<AlterableConfig> operations) {
        Map<String, String> overrides = new HashMap<>(current);
        for (AlterableConfig op : operations) {
            OpType type = OpType.forId(op.configOperation());
            switch (type) {
                case SET -> overrides.put(op.name(), op.value());
                case DELETE -> overrides.remove(op.name());
                case APPEND, SUBTRACT -> {
                    if (!listTopicKeys.contains(op.name())) {
                        throw new InvalidConfigurationException("Can't " + type + " to key " + op.name()
                                + " because its type is not LIST.");
                    }
                    // Without an override the list starts from the value the topic has now (broker or Kafka default).
                    String base = overrides.containsKey(op.name()) ? overrides.get(op.name()) : topicDefaults.get(op.name());
                    List<String> values = splitList(base);
                    for (String value : splitList(op.value())) {
                        if (type == OpType.APPEND && !values.contains(value)) {
                            values.add(value);
                        } else if (type == OpType.SUBTRACT) {
                            values.remove(value);
                        }
                    }
                    overrides.put(op.name(), String.join(",", values));
                }
            }
        }
        return overrides;
    }

    private static List<String> splitList(String value) {
        List<String> values = new ArrayList<>();
        if (value != null) {
            for (String part : value.split(",")) {
                String trimmed = part.trim();
                if (!trimmed.isEmpty()) {
                    values.add(trimmed);
                }
            }
        }
        return values;
    }

    // ------------------------------------------------------------------------------------ helpers

    private TopicMetadata existingTopic(String name) {
        return topics.topic(name)
                .orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist."));
    }

    /** A BROKER (or BROKER_LOGGER) resource must name this broker; "" is the cluster default where allowed. */
    private void checkBrokerName(String name, boolean emptyAllowed) {
        if (name.isEmpty()) {
            if (emptyAllowed) {
                return;
            }
            throw new InvalidRequestException("Broker id must not be empty");
        }
        int id;
        try {
            id = Integer.parseInt(name);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("Broker id must be an integer, but it is: " + name);
        }
        if (id != brokerId) {
            throw new InvalidRequestException("Unexpected broker id, expected " + brokerId
                    + (emptyAllowed ? " or empty string," : "") + " but received " + name);
        }
    }

    /** Builds one resource's entry of an alter response. */
    private interface AlterResult<T> {
        T of(ResourceKey resource, Errors error, String message);
    }

    /**
     * Alters each resource named once, answering each with its own error; a resource named more than once
     * is left alone and answered INVALID_REQUEST with {@code duplicateMessage}, after the others, as Kafka does.
     */
    private static <R, T> List<T> alterEach(Collection<R> resources, Function<R, ResourceKey> keyOf,
                                            Consumer<R> alter, AlterResult<T> resultOf, String duplicateMessage) {
        Set<ResourceKey> duplicates = duplicates(resources.stream().map(keyOf).toList());
        List<T> results = new ArrayList<>();
        for (R resource : resources) {
            ResourceKey key = keyOf.apply(resource);
            if (duplicates.contains(key)) {
                continue;
            }
            try {
                alter.accept(resource);
                results.add(resultOf.of(key, Errors.NONE, null));
            } catch (RuntimeException e) {
                Errors error = TopicAdminHandler.errorOf(e, "alter configs of " + key.name());
                results.add(resultOf.of(key, error, TopicAdminHandler.messageOf(e, error)));
            }
        }
        for (ResourceKey duplicate : duplicates) {
            results.add(resultOf.of(duplicate, Errors.INVALID_REQUEST, duplicateMessage));
        }
        return results;
    }

    private static <T> Set<T> duplicates(List<T> keys) {
        Set<T> seen = new HashSet<>();
        Set<T> duplicates = new LinkedHashSet<>();
        for (T key : keys) {
            if (!seen.add(key)) {
                duplicates.add(key);
            }
        }
        return duplicates;
    }

    private record ResourceKey(byte type, String name) {
    }
}
