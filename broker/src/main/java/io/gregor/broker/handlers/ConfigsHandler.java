package io.gregor.broker.handlers;

import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.dynconfig.DynamicBrokerConfig;
import io.gregor.broker.groupconfig.GroupConfigManager;
import io.gregor.broker.logging.BrokerLoggers;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigEntry;
import io.gregor.config.ConfigException;
import io.gregor.config.ConfigSource;
import io.gregor.config.ConfigSynonym;
import io.gregor.config.ConfigType;
import io.gregor.config.GroupConfigs;
import io.gregor.config.TopicConfigs;
import io.gregor.wire.ApiRegistry;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.LogLevelConfig;
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
import org.apache.kafka.common.message.ListConfigResourcesRequestData;
import org.apache.kafka.common.message.ListConfigResourcesResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics, groups, this broker and its loggers. Topic
 * overrides are changed through {@link Topics#setConfigs}, which persists them and reconfigures the logs;
 * group configs through {@link GroupConfigManager}; dynamic broker configs through {@link DynamicBrokerConfig},
 * which persists and applies them; log levels through {@link BrokerLoggers}.
 */
public final class ConfigsHandler {
    private static final Logger log = LoggerFactory.getLogger(ConfigsHandler.class);

    private final Topics topics;
    private final DynamicBrokerConfig dynamicConfig;
    private final BrokerLoggers loggers;
    private final GroupConfigManager groupConfigs;
    private final int brokerId;
    /** Topic keys whose values are lists: the only ones APPEND and SUBTRACT apply to. */
    private final Set<String> listTopicKeys = new HashSet<>();

    /** A handler with its own view of the dynamic broker configs, for tests of the wire format. */
    public ConfigsHandler(Topics topics, BrokerConfig config) {
        this(topics, new DynamicBrokerConfig(config, config.brokerId() < 0 ? 0 : config.brokerId(), topics.store()),
                BrokerLoggers.ofThisJvm());
    }

    public ConfigsHandler(Topics topics, DynamicBrokerConfig dynamicConfig, BrokerLoggers loggers) {
        this(topics, dynamicConfig, loggers, new GroupConfigManager(topics.store(), dynamicConfig::current));
    }

    public ConfigsHandler(Topics topics, DynamicBrokerConfig dynamicConfig, BrokerLoggers loggers,
                          GroupConfigManager groupConfigs) {
        this.groupConfigs = groupConfigs;
        this.topics = topics;
        this.dynamicConfig = dynamicConfig;
        this.loggers = loggers;
        BrokerConfig config = dynamicConfig.current();
        // An unset broker.id (-1) is served as broker 0, as Metadata reports it.
        this.brokerId = config.brokerId() < 0 ? 0 : config.brokerId();
        for (ConfigEntry entry : TopicConfigs.describe(config, Map.of())) {
            if (entry.type() == ConfigType.LIST) {
                listTopicKeys.add(entry.name());
            }
        }
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.DESCRIBE_CONFIGS, (short) 1, (short) 4,
                request -> CompletableFuture.completedFuture(describeConfigs(request.body(), access(request))));
        registry.register(ApiKeys.ALTER_CONFIGS, (short) 0, (short) 2,
                request -> CompletableFuture.completedFuture(alterConfigs(request.body(), access(request))));
        registry.register(ApiKeys.INCREMENTAL_ALTER_CONFIGS, (short) 0, (short) 1,
                request -> CompletableFuture.completedFuture(incrementalAlterConfigs(request.body(), access(request))));
        registry.register(ApiKeys.LIST_CONFIG_RESOURCES, (short) 0, (short) 1,
                request -> CompletableFuture.completedFuture(listConfigResources(request.body(), request.apiVersion(),
                        !request.authorizerEnabled() || request.authorizeCluster(AclOperation.DESCRIBE_CONFIGS))));
    }

    /** Refuses a config operation on a resource by throwing Kafka's authorization exception for it. */
    @FunctionalInterface
    interface ConfigAccess {
        ConfigAccess ANY = (operation, resourceType, name) -> {
        };

        void check(AclOperation operation, byte resourceType, String name);
    }

    /** A topic's configs need DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, a group's on the group; a broker's, on the cluster. */
    private static ConfigAccess access(KafkaRequest request) {
        if (!request.authorizerEnabled()) {
            return ConfigAccess.ANY;
        }
        return (operation, resourceType, name) -> {
            if (resourceType == ConfigResource.Type.TOPIC.id()) {
                if (!request.authorize(operation, ResourceType.TOPIC, name)) {
                    throw new TopicAuthorizationException(Errors.TOPIC_AUTHORIZATION_FAILED.message());
                }
            } else if (resourceType == ConfigResource.Type.GROUP.id()) {
                if (!request.authorize(operation, ResourceType.GROUP, name)) {
                    throw new GroupAuthorizationException(Errors.GROUP_AUTHORIZATION_FAILED.message());
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
                yield TopicConfigs.describe(dynamicConfig.current(), existingTopic(name).configs());
            }
            case BROKER -> {
                checkBrokerName(name, true);
                // "" asks for the cluster-wide dynamic defaults alone
                yield name.isEmpty() ? dynamicConfig.current().describeClusterDefaults() : dynamicConfig.current().describe();
            }
            case BROKER_LOGGER -> {
                checkBrokerName(name, false);
                List<ConfigEntry> entries = new ArrayList<>();
                // Kafka's logger entries: the level as value, no synonyms, no type or documentation
                loggers.levels().forEach((logger, level) -> entries.add(new ConfigEntry(logger, level,
                        ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG, false, false, ConfigType.UNKNOWN, null, List.of())));
                yield entries;
            }
            case GROUP -> groupConfigs.describe(name);
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

    // ------------------------------------------------------------------------------------ ListConfigResources

    /**
     * Kafka's ListConfigResources: v0 lists client-metrics subscriptions (none here), v1 also topics, brokers,
     * broker loggers and the groups that have configs; a type outside the version's set is UNSUPPORTED_VERSION.
     */
    ListConfigResourcesResponseData listConfigResources(ListConfigResourcesRequestData request, short version,
                                                        boolean authorized) {
        ListConfigResourcesResponseData response = new ListConfigResourcesResponseData();
        if (!authorized) {
            return response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        }
        List<Byte> supported = version == 0 ? List.of(ConfigResource.Type.CLIENT_METRICS.id())
                : List.of(ConfigResource.Type.TOPIC.id(), ConfigResource.Type.BROKER.id(),
                        ConfigResource.Type.BROKER_LOGGER.id(), ConfigResource.Type.CLIENT_METRICS.id(),
                        ConfigResource.Type.GROUP.id());
        List<Byte> types = request.resourceTypes().isEmpty() ? supported : request.resourceTypes();
        for (byte type : types) {
            if (!supported.contains(type)) {
                return response.setErrorCode(Errors.UNSUPPORTED_VERSION.code());
            }
        }
        List<ListConfigResourcesResponseData.ConfigResource> resources = new ArrayList<>();
        if (types.contains(ConfigResource.Type.GROUP.id())) {
            groupConfigs.groupsWithConfigs().forEach(g -> resources.add(new ListConfigResourcesResponseData.ConfigResource()
                    .setResourceName(g).setResourceType(ConfigResource.Type.GROUP.id())));
        }
        for (ConfigResource.Type brokerType : List.of(ConfigResource.Type.BROKER_LOGGER, ConfigResource.Type.BROKER)) {
            if (types.contains(brokerType.id())) {
                Collection<Integer> ids = topics.store().liveBrokers().stream()
                        .map(io.gregor.broker.metadata.BrokerInfo::id).toList();
                for (int id : ids.isEmpty() ? List.of(brokerId) : ids) {
                    resources.add(new ListConfigResourcesResponseData.ConfigResource()
                            .setResourceName(Integer.toString(id)).setResourceType(brokerType.id()));
                }
            }
        }
        if (types.contains(ConfigResource.Type.TOPIC.id())) {
            topics.all().forEach(t -> resources.add(new ListConfigResourcesResponseData.ConfigResource()
                    .setResourceName(t.name()).setResourceType(ConfigResource.Type.TOPIC.id())));
        }
        return response.setConfigResources(resources);
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

    /** AlterConfigs' full replacement of a resource's configs; null values are refused, named in one exception. */
    private static Map<String, String> replacement(AlterConfigsRequestData.AlterConfigsResource resource,
                                                   Function<List<String>, RuntimeException> nullValuesRefused) {
        Map<String, String> replacement = new HashMap<>();
        List<String> nullValues = new ArrayList<>();
        for (AlterConfigsRequestData.AlterableConfig config : resource.configs()) {
            if (config.value() == null) {
                nullValues.add(config.name());
            } else {
                replacement.put(config.name(), config.value());
            }
        }
        if (!nullValues.isEmpty()) {
            throw nullValuesRefused.apply(nullValues);
        }
        return replacement;
    }

    private void replaceConfigs(AlterConfigsRequestData.AlterConfigsResource resource, boolean validateOnly) {
        String name = resource.resourceName();
        switch (ConfigResource.Type.forId(resource.resourceType())) {
            case TOPIC -> {
                Map<String, String> overrides = replacement(resource, names -> new InvalidRequestException(
                        "Null value not supported for : " + String.join(", ", names)));
                existingTopic(name);
                topics.setConfigs(name, overrides, validateOnly);
            }
            case BROKER -> {
                checkBrokerName(name, true);
                Map<String, String> replacement = replacement(resource, names -> new InvalidRequestException(
                        "Null value not supported for : " + String.join(", ", names)));
                alterBroker(name, stored -> replacement, validateOnly);
            }
            case GROUP -> {
                Map<String, String> replacement = replacement(resource, names -> new InvalidConfigurationException(
                        "Null value not supported for group configs: " + String.join(",", names)));
                groupConfigs.alter(name, stored -> replacement, validateOnly);
            }
            default -> throw new InvalidRequestException("Unsupported resource type: " + resource.resourceType());
        }
    }

    /** Kafka answers a refused dynamic broker config change INVALID_REQUEST with the validation's message. */
    private void alterBroker(String name, java.util.function.UnaryOperator<Map<String, String>> change,
                             boolean validateOnly) {
        try {
            dynamicConfig.alter(!name.isEmpty(), change, validateOnly);
        } catch (ConfigException e) {
            log.info("Refused to alter the dynamic configs of broker '{}': {}", name, e.getMessage());
            throw new InvalidRequestException(e.getMessage());
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
                topics.setConfigs(name, applyTopicOperations(topic.configs(), resource.configs()), validateOnly);
            }
            case BROKER -> {
                checkBrokerName(name, true);
                alterBroker(name, stored -> applyBrokerOperations(stored, resource.configs()), validateOnly);
            }
            case BROKER_LOGGER -> {
                checkBrokerName(name, false);
                alterLoggers(resource.configs(), validateOnly);
            }
            case GROUP -> groupConfigs.alter(name, stored -> applyGroupOperations(stored, resource.configs()),
                    validateOnly);
            default -> throw new InvalidRequestException("Unsupported resource type: " + resource.resourceType());
        }
    }

    /** A broker entity's dynamic configs after the operations, as Kafka's ConfigAdminManager.prepareIncrementalConfigs. */
    private static Map<String, String> applyBrokerOperations(Map<String, String> stored, Iterable<AlterableConfig> operations) {
        return applyOperations(new TreeMap<>(stored), operations, (type, key, configs) -> {
            String defaultValue = BrokerConfig.listDefault(key);
            if (defaultValue == null) {
                throw new InvalidConfigurationException("Config value " + (type == OpType.APPEND ? "append" : "subtract")
                        + " is not allowed for config key: " + key);
            }
            return configs.getOrDefault(key, defaultValue);
        });
    }

    /** A group's configs after the operations; APPEND and SUBTRACT apply to its LIST keys only, as Kafka's controller. */
    private Map<String, String> applyGroupOperations(Map<String, String> stored, Iterable<AlterableConfig> operations) {
        return applyOperations(new TreeMap<>(stored), operations, (type, key, configs) -> {
            if (!GroupConfigs.isList(key)) {
                throw new InvalidConfigurationException("Can't " + type + " to key " + key + " because its type is not LIST.");
            }
            return configs.get(key);
        });
    }

    /** Kafka's checks of every operation first (ConfigAdminManager.validateLogLevelConfigs), then the changes. */
    private void alterLoggers(Iterable<AlterableConfig> operations, boolean validateOnly) {
        if (!loggers.controllable()) {
            throw new InvalidRequestException("Log levels cannot be changed at runtime: this broker logs through "
                    + loggers.backend() + ", not Gregor's logging (gregor-server-start)");
        }
        for (AlterableConfig op : operations) {
            String name = op.name();
            switch (OpType.forId(op.configOperation())) {
                case SET -> {
                    requireLogger(name);
                    if (!LogLevelConfig.VALID_LOG_LEVELS.contains(op.value())) {
                        throw new InvalidConfigurationException("Cannot set the log level of " + name + " to "
                                + op.value() + " as it is not a supported log level. Valid log levels are "
                                + String.join(", ", LogLevelConfig.VALID_LOG_LEVELS));
                    }
                }
                case DELETE -> {
                    requireLogger(name);
                    if (name.equals(BrokerLoggers.ROOT_LOGGER)) {
                        throw new InvalidRequestException("Removing the log level of the " + BrokerLoggers.ROOT_LOGGER
                                + " logger is not allowed");
                    }
                }
                case APPEND, SUBTRACT -> throw new InvalidRequestException(OpType.forId(op.configOperation())
                        + " operation is not allowed for the " + ConfigResource.Type.BROKER_LOGGER + " resource");
            }
        }
        if (validateOnly) {
            return;
        }
        for (AlterableConfig op : operations) {
            if (OpType.forId(op.configOperation()) == OpType.SET) {
                loggers.setLevel(op.name(), op.value());
                log.info("Log level of {} set to {}", op.name(), op.value());
            } else {
                loggers.unsetLevel(op.name());
                log.info("Log level of {} unset", op.name());
            }
        }
    }

    private void requireLogger(String name) {
        if (!loggers.exists(name)) {
            throw new InvalidConfigurationException("Logger " + name + " does not exist!");
        }
    }

    /** The topic's overrides after the operations; validation of the result is left to Topics.setConfigs. */
    private Map<String, String> applyTopicOperations(Map<String, String> current, Iterable<AlterableConfig> operations) {
        return applyOperations(new HashMap<>(current), operations, (type, key, overrides) -> {
            if (!listTopicKeys.contains(key)) {
                throw new InvalidConfigurationException("Can't " + type + " to key " + key + " because its type is not LIST.");
            }
            // Without an override the list starts from the value the topic has now (broker or Kafka default).
            return overrides.containsKey(key) ? overrides.get(key)
                    : TopicConfigs.resolve(dynamicConfig.current(), Map.of()).get(key);
        });
    }

    /** Where APPEND and SUBTRACT start: the list a key holds now; throws when the key takes no list operation. */
    @FunctionalInterface
    private interface ListOperand {
        String current(OpType type, String key, Map<String, String> configs);
    }

    /** IncrementalAlterConfigs' operations applied in order to configs, which are changed and returned. */
    private static Map<String, String> applyOperations(Map<String, String> configs, Iterable<AlterableConfig> operations,
                                                       ListOperand listOperand) {
        for (AlterableConfig op : operations) {
            OpType type = OpType.forId(op.configOperation());
            switch (type) {
                case SET -> configs.put(op.name(), op.value());
                case DELETE -> configs.remove(op.name());
                case APPEND, SUBTRACT -> {
                    List<String> values = splitList(listOperand.current(type, op.name(), configs));
                    appendOrSubtract(values, type, op.value());
                    configs.put(op.name(), String.join(",", values));
                }
            }
        }
        return configs;
    }

    /** APPEND adds each value not yet in the list; SUBTRACT removes each value, as Kafka's list operations. */
    private static void appendOrSubtract(List<String> values, OpType type, String operand) {
        for (String value : splitList(operand)) {
            if (type == OpType.APPEND && !values.contains(value)) {
                values.add(value);
            } else if (type == OpType.SUBTRACT) {
                values.remove(value);
            }
        }
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
