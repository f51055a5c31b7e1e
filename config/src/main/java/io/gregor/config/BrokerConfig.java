package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Broker configuration, read from a Kafka-style {@code server.properties} with Kafka's key names,
 * defaults and validation, with the dynamic configs (per broker, then the cluster default) layered over
 * the static ones by {@link #withDynamic}. Immutable: a dynamic change makes a new instance.
 */
public final class BrokerConfig {
    private static final Logger log = LoggerFactory.getLogger(BrokerConfig.class);
    private static final long MS_PER_MINUTE = 60_000L;
    private static final long MS_PER_HOUR = 60 * MS_PER_MINUTE;

    private final Map<String, String> originals;
    /** originals plus the broker.id/node.id mirror, i.e. everything counted as statically configured. */
    private final Map<String, String> supplied;
    private final Map<String, Object> values;
    private final Set<String> unknownKeys;
    private final List<Endpoint> listeners;
    private final List<Endpoint> advertisedListeners;
    private final List<Path> logDirs;
    private final Endpoint interBrokerListener;
    /** Dynamic configs of this broker (/config/brokers/<id>) and the cluster default (/config/brokers/<default>). */
    private final Map<String, String> dynamicBroker;
    private final Map<String, String> dynamicDefault;

    /** Kafka's per-listener override prefix: {@code listener.name.<lower-cased name>.<key>}. */
    public static final String LISTENER_PREFIX = "listener.name.";

    private final ShareGroupSettings shareGroups;

    private BrokerConfig(Map<String, String> props) {
        this(props, Map.of(), Map.of());
    }

    private BrokerConfig(Map<String, String> props, Map<String, String> dynamicDefault, Map<String, String> dynamicBroker) {
        this.originals = Collections.unmodifiableMap(new TreeMap<>(props));
        Map<String, String> withIds = new TreeMap<>(props);
        mirrorIds(withIds);
        this.supplied = Collections.unmodifiableMap(withIds);
        this.dynamicDefault = Collections.unmodifiableMap(new TreeMap<>(dynamicDefault));
        this.dynamicBroker = Collections.unmodifiableMap(new TreeMap<>(dynamicBroker));
        // Kafka's precedence: per-broker dynamic, then cluster-default dynamic, then static
        Map<String, String> effective = new TreeMap<>(supplied);
        effective.putAll(this.dynamicDefault);
        effective.putAll(this.dynamicBroker);
        this.values = ConfigParsing.parse(BrokerConfigDef.DEF, effective);

        Set<String> unknown = new TreeSet<>(originals.keySet());
        unknown.removeAll(BrokerConfigDef.DEF.names());
        unknown.removeIf(k -> k.startsWith(LISTENER_PREFIX));
        this.unknownKeys = Collections.unmodifiableSet(unknown);

        Map<String, String> protocolMap = Listeners.parseProtocolMap("listener.security.protocol.map",
                (String) values.get("listener.security.protocol.map"));
        this.listeners = Listeners.parse("listeners", list("listeners"), protocolMap);
        if (listeners.isEmpty()) {
            throw new ConfigException("listeners", "", "at least one listener is required");
        }
        List<String> advertised = list("advertised.listeners");
        this.advertisedListeners = advertised == null ? listeners
                : Listeners.parse("advertised.listeners", advertised, protocolMap);
        validateAdvertised();
        this.interBrokerListener = resolveInterBrokerListener();
        this.logDirs = parseLogDirs();
        if (replicaFetchWaitMaxMs() > replicaLagTimeMaxMs()) {
            // Kafka's rule: a follower's long poll must not outlast the time that drops it from the ISR
            throw new ConfigException("replica.fetch.wait.max.ms", replicaFetchWaitMaxMs(),
                    "must be at most replica.lag.time.max.ms (" + replicaLagTimeMaxMs() + ")");
        }
        this.shareGroups = ShareGroupSettings.from(key -> value(key));
        validateConsumerGroupTimeouts();
        for (String assignor : groupConsumerAssignors()) {
            String name = assignor.trim().toLowerCase(java.util.Locale.ROOT);
            if (!List.of("uniform", "range", "org.apache.kafka.coordinator.group.assignor.uniformassignor",
                    "org.apache.kafka.coordinator.group.assignor.rangeassignor").contains(name)) {
                throw new ConfigException("group.consumer.assignors", String.join(",", groupConsumerAssignors()),
                        "unknown assignor " + assignor + " (Gregor offers uniform and range)");
            }
        }
        if (groupConsumerAssignors().isEmpty()) {
            throw new ConfigException("group.consumer.assignors", "", "at least one assignor is required");
        }
        if (!unknownKeys.isEmpty() && dynamicBroker.isEmpty() && dynamicDefault.isEmpty()) {
            log.warn("These configurations '{}' were supplied but are not used by Gregor.", unknownKeys);
        }
    }

    /**
     * Reads the file, then applies overrides given as "key=value" strings (as {@code --override key=value}).
     * Unknown keys are kept (originals) and logged once as unused, like Kafka; invalid values or
     * missing required keys throw ConfigException naming the key and the bad value.
     */
    public static BrokerConfig load(Path propertiesFile, List<String> overrides) {
        Properties properties = new Properties();
        // Properties.load(InputStream) reads ISO-8859-1 with \\u escapes, exactly as Kafka reads server.properties.
        try (InputStream in = Files.newInputStream(propertiesFile)) {
            properties.load(in);
        } catch (IOException e) {
            throw new ConfigException(null, "Cannot read broker config file " + propertiesFile + ": " + e);
        }
        Map<String, String> props = new TreeMap<>();
        for (String name : properties.stringPropertyNames()) {
            props.put(name, properties.getProperty(name));
        }
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(override, "Invalid override '" + override + "': expected key=value");
            }
            props.put(override.substring(0, eq).trim(), override.substring(eq + 1));
        }
        return new BrokerConfig(props);
    }

    public static BrokerConfig of(Map<String, String> props) {
        return new BrokerConfig(props);
    }

    /**
     * These static configs under the given dynamic ones (keys Kafka does not know are kept as custom configs).
     * Validates like the constructor: an invalid value throws ConfigException naming the key.
     */
    public BrokerConfig withDynamic(Map<String, String> perBroker, Map<String, String> clusterDefault) {
        return new BrokerConfig(originals, clusterDefault, perBroker);
    }

    /** The dynamic configs of this broker ({@code /config/brokers/<id>}). */
    public Map<String, String> dynamicBrokerConfigs() {
        return dynamicBroker;
    }

    /** The cluster-wide dynamic defaults ({@code /config/brokers/<default>}). */
    public Map<String, String> dynamicDefaultConfigs() {
        return dynamicDefault;
    }

    /** A replication throttle (leader.replication.throttled.rate or follower...), a dynamic-only key. */
    public long replicationThrottledRate(boolean leader) {
        return dynamicLong(leader ? "leader.replication.throttled.rate" : "follower.replication.throttled.rate");
    }

    private long dynamicLong(String key) {
        String raw = dynamicBroker.containsKey(key) ? dynamicBroker.get(key) : dynamicDefault.get(key);
        ConfigKey def = DynamicBrokerConfigs.quotaKey(key);
        return raw == null ? (Long) def.defaultValue : (Long) ConfigParsing.parseOne(def, raw);
    }

    /** Exactly the supplied properties, known or not. */
    public Map<String, String> originals() {
        return originals;
    }

    /** Supplied keys Gregor does not know; they are kept in originals() and otherwise ignored. */
    public Set<String> unknownKeys() {
        return unknownKeys;
    }

    // ---------------------------------------------------------------- identity and networking

    /** node.id, else broker.id; -1 if neither is set (Kafka's default). */
    public int brokerId() {
        return intValue("broker.id");
    }

    public Optional<String> rack() {
        return Optional.ofNullable((String) values.get("broker.rack"));
    }

    public List<Endpoint> listeners() {
        return listeners;
    }

    /** advertised.listeners, defaulting to listeners. A listener with an empty host still needs a host to advertise. */
    public List<Endpoint> advertisedListeners() {
        return advertisedListeners;
    }

    /**
     * The advertised listener other brokers use: inter.broker.listener.name, else the listener named after
     * security.inter.broker.protocol (PLAINTEXT by default), as Kafka resolves it.
     */
    public Endpoint interBrokerListener() {
        return interBrokerListener;
    }

    /**
     * The security settings one listener sees, as Kafka hands them to its channel builder: every supplied
     * key, then {@code listener.name.<name>.<key>} overrides with the prefix stripped (so
     * {@code listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config} becomes {@code scram-sha-256.sasl.jaas.config}).
     */
    public Map<String, String> listenerConfigs(String listenerName) {
        String prefix = LISTENER_PREFIX + listenerName.toLowerCase(java.util.Locale.ROOT) + ".";
        Map<String, String> out = new TreeMap<>();
        supplied.forEach((k, v) -> {
            if (!k.startsWith(LISTENER_PREFIX)) {
                out.put(k, v);
            }
        });
        // the listener's own keys: static, then the cluster default's, then this broker's dynamic ones (a new keystore)
        for (Map<String, String> layer : List.of(supplied, dynamicDefault, dynamicBroker)) {
            layer.forEach((k, v) -> {
                if (k.startsWith(prefix) && k.length() > prefix.length()) {
                    out.put(k.substring(prefix.length()), v);
                }
            });
        }
        return out;
    }

    public int numNetworkThreads() {
        return intValue("num.network.threads");
    }

    /** A listener's network threads: {@code listener.name.<name>.num.network.threads}, else num.network.threads. */
    public int networkThreads(String listenerName) {
        String key = LISTENER_PREFIX + listenerName.toLowerCase(java.util.Locale.ROOT) + ".num.network.threads";
        String own = dynamicBroker.getOrDefault(key, dynamicDefault.getOrDefault(key, supplied.get(key)));
        if (own == null) {
            return numNetworkThreads();
        }
        return (Integer) ConfigParsing.parseOne(BrokerConfigDef.DEF.configKeys().get("num.network.threads"), own);
    }

    public int numIoThreads() {
        return intValue("num.io.threads");
    }

    public int backgroundThreads() {
        return intValue("background.threads");
    }

    public int queuedMaxRequests() {
        return intValue("queued.max.requests");
    }

    public long queuedMaxRequestBytes() {
        return longValue("queued.max.request.bytes");
    }

    public int socketSendBufferBytes() {
        return intValue("socket.send.buffer.bytes");
    }

    public int socketReceiveBufferBytes() {
        return intValue("socket.receive.buffer.bytes");
    }

    public int socketRequestMaxBytes() {
        return intValue("socket.request.max.bytes");
    }

    public int socketListenBacklogSize() {
        return intValue("socket.listen.backlog.size");
    }

    public long connectionsMaxIdleMs() {
        return longValue("connections.max.idle.ms");
    }

    /** quota.window.num: samples a client quota's rate is measured over. */
    public int quotaWindowNum() {
        return intValue("quota.window.num");
    }

    /** quota.window.size.seconds: each sample's span. */
    public int quotaWindowSizeSeconds() {
        return intValue("quota.window.size.seconds");
    }

    public int maxConnections() {
        return intValue("max.connections");
    }

    public int maxConnectionsPerIp() {
        return intValue("max.connections.per.ip");
    }

    public int requestTimeoutMs() {
        return intValue("request.timeout.ms");
    }

    public int fetchMaxBytes() {
        return intValue("fetch.max.bytes");
    }

    public int maxIncrementalFetchSessionCacheSlots() {
        return intValue("max.incremental.fetch.session.cache.slots");
    }

    // ---------------------------------------------------------------- topics

    public boolean autoCreateTopicsEnable() {
        return boolValue("auto.create.topics.enable");
    }

    public boolean deleteTopicEnable() {
        return boolValue("delete.topic.enable");
    }

    public int numPartitions() {
        return intValue("num.partitions");
    }

    public short defaultReplicationFactor() {
        return (short) intValue("default.replication.factor");
    }

    public int minInsyncReplicas() {
        return intValue("min.insync.replicas");
    }

    public boolean uncleanLeaderElectionEnable() {
        return boolValue("unclean.leader.election.enable");
    }

    public String compressionType() {
        return (String) values.get("compression.type");
    }

    public int messageMaxBytes() {
        return intValue("message.max.bytes");
    }

    // ---------------------------------------------------------------- logs

    /** log.dirs, else log.dir. */
    public List<Path> logDirs() {
        return logDirs;
    }

    public int logSegmentBytes() {
        return intValue("log.segment.bytes");
    }

    /** log.roll.ms, else log.roll.hours. */
    public long logRollMs() {
        Long ms = (Long) values.get("log.roll.ms");
        return ms != null ? ms : intValue("log.roll.hours") * MS_PER_HOUR;
    }

    /** log.roll.jitter.ms, else log.roll.jitter.hours. */
    public long logRollJitterMs() {
        Long ms = (Long) values.get("log.roll.jitter.ms");
        return ms != null ? ms : intValue("log.roll.jitter.hours") * MS_PER_HOUR;
    }

    /** log.retention.ms, else minutes, else hours; any negative result means "forever" and is returned as -1. */
    public long logRetentionMs() {
        Long ms = (Long) values.get("log.retention.ms");
        Integer minutes = (Integer) values.get("log.retention.minutes");
        long millis = ms != null ? ms
                : minutes != null ? minutes * MS_PER_MINUTE
                : intValue("log.retention.hours") * MS_PER_HOUR;
        return millis < 0 ? -1 : millis;
    }

    public long logRetentionBytes() {
        return longValue("log.retention.bytes");
    }

    public long logRetentionCheckIntervalMs() {
        return longValue("log.retention.check.interval.ms");
    }

    public int logIndexSizeMaxBytes() {
        return intValue("log.index.size.max.bytes");
    }

    public int logIndexIntervalBytes() {
        return intValue("log.index.interval.bytes");
    }

    public long logFlushIntervalMessages() {
        return longValue("log.flush.interval.messages");
    }

    /** log.flush.interval.ms, else log.flush.scheduler.interval.ms (Kafka's fallback). */
    public long logFlushIntervalMs() {
        Long ms = (Long) values.get("log.flush.interval.ms");
        return ms != null ? ms : logFlushSchedulerIntervalMs();
    }

    public long logFlushSchedulerIntervalMs() {
        return longValue("log.flush.scheduler.interval.ms");
    }

    public long logFlushOffsetCheckpointIntervalMs() {
        return intValue("log.flush.offset.checkpoint.interval.ms");
    }

    public long logFlushStartOffsetCheckpointIntervalMs() {
        return intValue("log.flush.start.offset.checkpoint.interval.ms");
    }

    public long logSegmentDeleteDelayMs() {
        return longValue("log.segment.delete.delay.ms");
    }

    public List<String> logCleanupPolicy() {
        return list("log.cleanup.policy");
    }

    public boolean logCleanerEnable() {
        return boolValue("log.cleaner.enable");
    }

    public int logCleanerThreads() {
        return intValue("log.cleaner.threads");
    }

    public long logCleanerBackoffMs() {
        return longValue("log.cleaner.backoff.ms");
    }

    public long logCleanerDedupeBufferSize() {
        return longValue("log.cleaner.dedupe.buffer.size");
    }

    public int logCleanerIoBufferSize() {
        return intValue("log.cleaner.io.buffer.size");
    }

    public double logCleanerMinCleanableRatio() {
        return (Double) values.get("log.cleaner.min.cleanable.ratio");
    }

    public long logCleanerDeleteRetentionMs() {
        return longValue("log.cleaner.delete.retention.ms");
    }

    public boolean logPreallocate() {
        return boolValue("log.preallocate");
    }

    public String logMessageTimestampType() {
        return (String) values.get("log.message.timestamp.type");
    }

    public long logInitialTaskDelayMs() {
        return longValue("log.initial.task.delay.ms");
    }

    public int numRecoveryThreadsPerDataDir() {
        return intValue("num.recovery.threads.per.data.dir");
    }

    // ---------------------------------------------------------------- groups and offsets

    public long groupInitialRebalanceDelayMs() {
        return intValue("group.initial.rebalance.delay.ms");
    }

    public int groupMinSessionTimeoutMs() {
        return intValue("group.min.session.timeout.ms");
    }

    public int groupMaxSessionTimeoutMs() {
        return intValue("group.max.session.timeout.ms");
    }

    public int groupMaxSize() {
        return intValue("group.max.size");
    }

    /** Kafka's rules for the consumer-protocol timeouts: each default within its bounds, heartbeats inside the session. */
    private void validateConsumerGroupTimeouts() {
        within("group.consumer.session.timeout.ms", "group.consumer.min.session.timeout.ms",
                "group.consumer.max.session.timeout.ms");
        within("group.consumer.heartbeat.interval.ms", "group.consumer.min.heartbeat.interval.ms",
                "group.consumer.max.heartbeat.interval.ms");
        if (groupConsumerHeartbeatIntervalMs() >= groupConsumerSessionTimeoutMs()) {
            throw new ConfigException("group.consumer.heartbeat.interval.ms", groupConsumerHeartbeatIntervalMs(),
                    "must be less than group.consumer.session.timeout.ms (" + groupConsumerSessionTimeoutMs() + ")");
        }
    }

    private void within(String key, String minKey, String maxKey) {
        int value = intValue(key);
        int min = intValue(minKey);
        int max = intValue(maxKey);
        if (max < min) {
            throw new ConfigException(maxKey, max, "must be greater than or equal to " + minKey + " (" + min + ")");
        }
        if (value < min) {
            throw new ConfigException(key, value, "must be greater than or equal to " + minKey + " (" + min + ")");
        }
        if (value > max) {
            throw new ConfigException(key, value, "must be less than or equal to " + maxKey + " (" + max + ")");
        }
    }

    public List<String> groupCoordinatorRebalanceProtocols() {
        return list("group.coordinator.rebalance.protocols");
    }

    public int groupCoordinatorThreads() {
        return intValue("group.coordinator.threads");
    }

    public int groupCoordinatorBackgroundThreads() {
        return intValue("group.coordinator.background.threads");
    }

    public int groupCoordinatorAppendLingerMs() {
        return intValue("group.coordinator.append.linger.ms");
    }

    public int groupConsumerSessionTimeoutMs() {
        return intValue("group.consumer.session.timeout.ms");
    }

    public int groupConsumerMinSessionTimeoutMs() {
        return intValue("group.consumer.min.session.timeout.ms");
    }

    public int groupConsumerMaxSessionTimeoutMs() {
        return intValue("group.consumer.max.session.timeout.ms");
    }

    public int groupConsumerHeartbeatIntervalMs() {
        return intValue("group.consumer.heartbeat.interval.ms");
    }

    public int groupConsumerMinHeartbeatIntervalMs() {
        return intValue("group.consumer.min.heartbeat.interval.ms");
    }

    public int groupConsumerMaxHeartbeatIntervalMs() {
        return intValue("group.consumer.max.heartbeat.interval.ms");
    }

    public int groupConsumerMaxSize() {
        return intValue("group.consumer.max.size");
    }

    public List<String> groupConsumerAssignors() {
        return list("group.consumer.assignors");
    }

    public String groupConsumerMigrationPolicy() {
        return (String) values.get("group.consumer.migration.policy");
    }

    public int groupConsumerRegexRefreshIntervalMs() {
        return intValue("group.consumer.regex.refresh.interval.ms");
    }

    public int offsetMetadataMaxBytes() {
        return intValue("offset.metadata.max.bytes");
    }

    public int offsetsLoadBufferSize() {
        return intValue("offsets.load.buffer.size");
    }

    public int offsetsTopicNumPartitions() {
        return intValue("offsets.topic.num.partitions");
    }

    public short offsetsTopicReplicationFactor() {
        return (Short) values.get("offsets.topic.replication.factor");
    }

    public int offsetsTopicSegmentBytes() {
        return intValue("offsets.topic.segment.bytes");
    }

    public int offsetsTopicCompressionCodec() {
        return intValue("offsets.topic.compression.codec");
    }

    public int offsetsRetentionMinutes() {
        return intValue("offsets.retention.minutes");
    }

    /** offsets.retention.minutes in milliseconds. */
    public long offsetsRetentionMs() {
        return offsetsRetentionMinutes() * MS_PER_MINUTE;
    }

    public long offsetsRetentionCheckIntervalMs() {
        return longValue("offsets.retention.check.interval.ms");
    }

    public int offsetsCommitTimeoutMs() {
        return intValue("offsets.commit.timeout.ms");
    }

    // ---------------------------------------------------------------- transactions and producer ids

    public boolean transactionPartitionVerificationEnable() {
        return boolValue("transaction.partition.verification.enable");
    }

    public int transactionalIdExpirationMs() {
        return intValue("transactional.id.expiration.ms");
    }

    public int transactionMaxTimeoutMs() {
        return intValue("transaction.max.timeout.ms");
    }

    public int transactionStateLogNumPartitions() {
        return intValue("transaction.state.log.num.partitions");
    }

    public short transactionStateLogReplicationFactor() {
        return (Short) values.get("transaction.state.log.replication.factor");
    }

    public int transactionStateLogSegmentBytes() {
        return intValue("transaction.state.log.segment.bytes");
    }

    public int transactionStateLogMinIsr() {
        return intValue("transaction.state.log.min.isr");
    }

    public int transactionAbortTimedOutTransactionCleanupIntervalMs() {
        return intValue("transaction.abort.timed.out.transaction.cleanup.interval.ms");
    }

    public int transactionRemoveExpiredTransactionCleanupIntervalMs() {
        return intValue("transaction.remove.expired.transaction.cleanup.interval.ms");
    }

    public int producerIdExpirationMs() {
        return intValue("producer.id.expiration.ms");
    }

    public int producerIdExpirationCheckIntervalMs() {
        return intValue("producer.id.expiration.check.interval.ms");
    }

    // ---------------------------------------------------------------- replication

    public long replicaLagTimeMaxMs() {
        return longValue("replica.lag.time.max.ms");
    }

    public int replicaFetchWaitMaxMs() {
        return intValue("replica.fetch.wait.max.ms");
    }

    public int replicaFetchMinBytes() {
        return intValue("replica.fetch.min.bytes");
    }

    public int replicaFetchMaxBytes() {
        return intValue("replica.fetch.max.bytes");
    }

    public int replicaFetchResponseMaxBytes() {
        return intValue("replica.fetch.response.max.bytes");
    }

    public int replicaFetchBackoffMs() {
        return intValue("replica.fetch.backoff.ms");
    }

    public int replicaSocketTimeoutMs() {
        return intValue("replica.socket.timeout.ms");
    }

    public int replicaSocketReceiveBufferBytes() {
        return intValue("replica.socket.receive.buffer.bytes");
    }

    public int numReplicaFetchers() {
        return intValue("num.replica.fetchers");
    }

    public long replicaHighWatermarkCheckpointIntervalMs() {
        return longValue("replica.high.watermark.checkpoint.interval.ms");
    }

    public boolean controlledShutdownEnable() {
        return boolValue("controlled.shutdown.enable");
    }

    public int controlledShutdownMaxRetries() {
        return intValue("controlled.shutdown.max.retries");
    }

    public long controlledShutdownRetryBackoffMs() {
        return longValue("controlled.shutdown.retry.backoff.ms");
    }

    public boolean autoLeaderRebalanceEnable() {
        return boolValue("auto.leader.rebalance.enable");
    }

    public int leaderImbalancePerBrokerPercentage() {
        return intValue("leader.imbalance.per.broker.percentage");
    }

    public long leaderImbalanceCheckIntervalSeconds() {
        return longValue("leader.imbalance.check.interval.seconds");
    }

    // ---------------------------------------------------------------- ZooKeeper

    public Optional<String> zookeeperConnect() {
        String connect = (String) values.get("zookeeper.connect");
        return connect == null || connect.isEmpty() ? Optional.empty() : Optional.of(connect);
    }

    public int zookeeperSessionTimeoutMs() {
        return intValue("zookeeper.session.timeout.ms");
    }

    /** zookeeper.connection.timeout.ms, else the session timeout (Kafka's fallback). */
    public int zookeeperConnectionTimeoutMs() {
        Integer timeout = (Integer) values.get("zookeeper.connection.timeout.ms");
        return timeout != null ? timeout : zookeeperSessionTimeoutMs();
    }

    // ---------------------------------------------------------------- authorization

    /** Whether authorizer.class.name names an authorizer (all accepted names mean the built-in ACL authorizer). */
    public boolean authorizerEnabled() {
        String className = (String) values.get("authorizer.class.name");
        return className != null && !className.isBlank();
    }

    /** super.users: principals such as {@code User:admin}, separated by semicolons. */
    public Set<String> superUsers() {
        String raw = (String) values.get("super.users");
        Set<String> users = new TreeSet<>();
        if (raw != null) {
            for (String user : raw.split(";")) {
                if (!user.isBlank()) {
                    String principal = user.trim();
                    if (principal.indexOf(':') <= 0) {
                        throw new ConfigException("super.users", raw, "expected principals as Type:name, e.g. User:admin");
                    }
                    users.add(principal);
                }
            }
        }
        return users;
    }

    public boolean allowEveryoneIfNoAclFound() {
        return boolValue("allow.everyone.if.no.acl.found");
    }

    // ---------------------------------------------------------------- Gregor's test-harness settings

    /** gregor.wire.trace.enable: log every answer through the logger io.gregor.trace. */
    public boolean wireTraceEnable() {
        return (Boolean) values.get("gregor.wire.trace.enable");
    }

    /** gregor.http.listener: HOST:PORT of the fault and trace endpoint, if any. */
    public Optional<String> httpListener() {
        String listener = (String) values.get("gregor.http.listener");
        return listener == null || listener.isBlank() ? Optional.empty() : Optional.of(listener.trim());
    }

    // ---------------------------------------------------------------- generic access

    /** Effective value of any known key as a string; null if unset without a default, or the key is unknown. */
    public String get(String key) {
        ConfigKey configKey = BrokerConfigDef.DEF.configKeys().get(key);
        return configKey == null ? null : ConfigParsing.asString(values.get(key), configKey.type);
    }

    /**
     * Every known broker key with its effective value and source, then the dynamic keys Kafka does not
     * define statically (quotas, custom configs): DescribeConfigs of this broker.
     */
    public List<ConfigEntry> describe() {
        Map<String, ConfigKey> keys = BrokerConfigDef.DEF.configKeys();
        List<ConfigEntry> entries = new ArrayList<>(keys.size());
        for (String name : new TreeSet<>(keys.keySet())) {
            ConfigKey key = keys.get(name);
            boolean sensitive = key.type == ConfigDef.Type.PASSWORD;
            List<ConfigSynonym> synonyms = dropUntil(name, synonymsOf(name, sensitive));
            ConfigSource source = synonyms.isEmpty() ? ConfigSource.DEFAULT_CONFIG : synonyms.get(0).source();
            entries.add(new ConfigEntry(name, sensitive ? null : get(name), source, sensitive,
                    !DynamicBrokerConfigs.isDynamic(name), ConfigType.of(key.type), key.documentation, synonyms));
        }
        Set<String> dynamicOnly = new TreeSet<>(dynamicDefault.keySet());
        dynamicOnly.addAll(dynamicBroker.keySet());
        dynamicOnly.removeAll(keys.keySet());
        for (String name : dynamicOnly) {
            entries.add(dynamicOnlyEntry(name, true));
        }
        return entries;
    }

    /** The cluster-wide dynamic defaults alone, as Kafka describes the BROKER resource named "". */
    public List<ConfigEntry> describeClusterDefaults() {
        Map<String, ConfigKey> keys = BrokerConfigDef.DEF.configKeys();
        List<ConfigEntry> entries = new ArrayList<>();
        for (String name : dynamicDefault.keySet()) {
            ConfigKey key = keys.get(name);
            if (key == null) {
                entries.add(dynamicOnlyEntry(name, false));
                continue;
            }
            boolean sensitive = key.type == ConfigDef.Type.PASSWORD;
            // Kafka lists only the cluster-default synonyms here
            List<ConfigSynonym> synonyms = dropUntil(name, synonymsOf(name, sensitive).stream()
                    .filter(s -> s.source() == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG).toList());
            entries.add(new ConfigEntry(name, sensitive ? null : dynamicDefault.get(name),
                    ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, sensitive, !DynamicBrokerConfigs.isDynamic(name),
                    ConfigType.of(key.type), key.documentation, synonyms));
        }
        return entries;
    }

    private ConfigEntry dynamicOnlyEntry(String name, boolean perBroker) {
        ConfigKey quota = DynamicBrokerConfigs.quotaKey(name);
        List<ConfigSynonym> synonyms = new ArrayList<>(2);
        if (perBroker && dynamicBroker.containsKey(name)) {
            synonyms.add(new ConfigSynonym(name, dynamicBroker.get(name), ConfigSource.DYNAMIC_BROKER_CONFIG));
        }
        if (dynamicDefault.containsKey(name)) {
            synonyms.add(new ConfigSynonym(name, dynamicDefault.get(name), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
        }
        boolean sensitive = DynamicBrokerConfigs.isSensitive(name);
        if (sensitive) {
            synonyms.replaceAll(s -> new ConfigSynonym(s.name(), null, s.source()));
        }
        return new ConfigEntry(name, synonyms.get(0).value(), synonyms.get(0).source(), sensitive, false,
                sensitive ? ConfigType.PASSWORD : quota == null ? ConfigType.UNKNOWN : ConfigType.of(quota.type),
                quota == null ? null : quota.documentation, synonyms);
    }

    /** Kafka drops the synonyms ahead of the described key itself (log.retention.ms when log.retention.hours is asked). */
    private static List<ConfigSynonym> dropUntil(String name, List<ConfigSynonym> synonyms) {
        for (int i = 0; i < synonyms.size(); i++) {
            if (synonyms.get(i).name().equals(name)) {
                return synonyms.subList(i, synonyms.size());
            }
        }
        return List.of();
    }

    /**
     * Kafka's synonym order for a broker key (DynamicBrokerConfig.configSynonyms): the group's per-broker
     * dynamic keys, then its cluster-default dynamic keys, then its statically supplied keys, then its
     * non-null defaults.
     */
    List<ConfigSynonym> synonymsOf(String brokerKey, boolean sensitive) {
        List<String> group = BrokerConfigDef.SYNONYM_GROUPS.getOrDefault(brokerKey, List.of(brokerKey));
        List<ConfigSynonym> synonyms = new ArrayList<>(group.size());
        addSynonyms(synonyms, group, dynamicBroker, ConfigSource.DYNAMIC_BROKER_CONFIG, sensitive);
        addSynonyms(synonyms, group, dynamicDefault, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, sensitive);
        addSynonyms(synonyms, group, supplied, ConfigSource.STATIC_BROKER_CONFIG, sensitive);
        Map<String, ConfigKey> keys = BrokerConfigDef.DEF.configKeys();
        for (String name : group) {
            ConfigKey key = keys.get(name);
            if (key.defaultValue != null) {
                synonyms.add(new ConfigSynonym(name, sensitive ? null : ConfigParsing.asString(key.defaultValue, key.type),
                        ConfigSource.DEFAULT_CONFIG));
            }
        }
        return synonyms;
    }

    private static void addSynonyms(List<ConfigSynonym> synonyms, List<String> group, Map<String, String> layer,
                                    ConfigSource source, boolean sensitive) {
        for (String name : group) {
            String raw = layer.get(name);
            if (raw != null) {
                synonyms.add(new ConfigSynonym(name, sensitive ? null : raw.trim(), source));
            }
        }
    }

    /**
     * Where APPEND and SUBTRACT start for a broker key without a dynamic value: its default as a list
     * ("" when it has none); null when the key is not a known LIST key.
     */
    public static String listDefault(String key) {
        ConfigKey configKey = BrokerConfigDef.DEF.configKeys().get(key);
        if (configKey == null || configKey.type != ConfigDef.Type.LIST) {
            return null;
        }
        return configKey.defaultValue == null ? "" : ConfigParsing.asString(configKey.defaultValue, ConfigDef.Type.LIST);
    }

    /** The parsed value of a known key (null when unset without default). */
    Object value(String key) {
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException("Unknown broker config " + key);
        }
        return values.get(key);
    }

    @Override
    public String toString() {
        return "BrokerConfig" + originals;
    }

    // ---------------------------------------------------------------- helpers

    /** Like Kafka, node.id and broker.id stand for each other; if both are given they must agree. */
    private static void mirrorIds(Map<String, String> props) {
        String nodeId = props.get("node.id");
        String brokerId = props.get("broker.id");
        if (nodeId != null && brokerId == null) {
            props.put("broker.id", nodeId);
        } else if (brokerId != null && nodeId == null && !brokerId.trim().equals("-1")) {
            props.put("node.id", brokerId);
        } else if (nodeId != null && !nodeId.trim().equals(brokerId.trim())) {
            throw new ConfigException("node.id", "Invalid value " + nodeId + " for configuration node.id: "
                    + "it must equal broker.id (" + brokerId + ") when both are set");
        }
    }

    private void validateAdvertised() {
        Set<String> listenerNames = new TreeSet<>();
        listeners.forEach(l -> listenerNames.add(l.listenerName()));
        for (Endpoint endpoint : advertisedListeners) {
            if (endpoint.host().equals("0.0.0.0")) {
                throw new ConfigException("advertised.listeners", endpoint.connectionString(),
                        "cannot advertise the non-routable meta-address 0.0.0.0");
            }
            if (!listenerNames.contains(endpoint.listenerName())) {
                throw new ConfigException("advertised.listeners", endpoint.connectionString(),
                        "listener " + endpoint.listenerName() + " is not in listeners " + listenerNames);
            }
        }
    }

    private Endpoint resolveInterBrokerListener() {
        String name = (String) values.get("inter.broker.listener.name");
        String protocol = (String) values.get("security.inter.broker.protocol");
        if (name != null && protocol != null) {
            throw new ConfigException("inter.broker.listener.name", name,
                    "only one of inter.broker.listener.name and security.inter.broker.protocol should be set");
        }
        String key = name != null ? "inter.broker.listener.name" : "security.inter.broker.protocol";
        String listenerName = (name != null ? name : protocol != null ? protocol : Listeners.PLAINTEXT)
                .trim().toUpperCase(java.util.Locale.ROOT);
        return advertisedListeners.stream().filter(e -> e.listenerName().equals(listenerName)).findFirst()
                .orElseThrow(() -> new ConfigException(key, listenerName,
                        "the inter-broker listener must be a listener name defined in advertised.listeners "
                                + advertisedListeners.stream().map(Endpoint::listenerName).toList()
                                + "; set inter.broker.listener.name"));
    }

    private List<Path> parseLogDirs() {
        List<String> dirs = list("log.dirs");
        String key = "log.dirs";
        if (dirs == null) {
            dirs = list("log.dir");
            key = "log.dir";
        }
        if (dirs.isEmpty()) {
            throw new ConfigException(key, "", "at least one log directory is required");
        }
        List<Path> paths = new ArrayList<>(dirs.size());
        for (String dir : dirs) {
            Path path;
            try {
                path = Path.of(dir);
            } catch (RuntimeException e) {
                throw new ConfigException(key, dir, e.getMessage());
            }
            if (paths.contains(path)) {
                throw new ConfigException(key, String.join(",", dirs), "duplicate log directory " + dir);
            }
            paths.add(path);
        }
        return List.copyOf(paths);
    }

    /** The share-group (KIP-932) settings, checked at start. */
    public ShareGroupSettings shareGroups() {
        return shareGroups;
    }

    private int intValue(String key) {
        return (Integer) value(key);
    }

    private long longValue(String key) {
        return (Long) value(key);
    }

    private boolean boolValue(String key) {
        return (Boolean) value(key);
    }

    @SuppressWarnings("unchecked")
    private List<String> list(String key) {
        List<String> list = (List<String>) value(key);
        return list == null ? null : List.copyOf(list);
    }
}
