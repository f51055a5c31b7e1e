package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.TopicConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.gregor.config.ConfigParsing.oneOf;
import static org.apache.kafka.common.config.ConfigDef.Importance.MEDIUM;
import static org.apache.kafka.common.config.ConfigDef.Range.atLeast;
import static org.apache.kafka.common.config.ConfigDef.Range.between;
import static org.apache.kafka.common.config.ConfigDef.Type.BOOLEAN;
import static org.apache.kafka.common.config.ConfigDef.Type.DOUBLE;
import static org.apache.kafka.common.config.ConfigDef.Type.INT;
import static org.apache.kafka.common.config.ConfigDef.Type.LIST;
import static org.apache.kafka.common.config.ConfigDef.Type.LONG;
import static org.apache.kafka.common.config.ConfigDef.Type.STRING;

/**
 * Topic-level configs: Kafka 4.4's topic keys with their defaults, validators and broker synonyms.
 * A topic's effective value is its override, else the broker's synonym value, else Kafka's default.
 */
public final class TopicConfigs {
    private TopicConfigs() {
    }

    private static final ConfigDef DEF = new ConfigDef();
    /** Topic key to the broker key whose value is the topic default (Kafka's primary synonym). */
    private static final Map<String, String> BROKER_SYNONYM = new HashMap<>();
    private static final Set<String> NAMES;

    static {
        topic(TopicConfig.CLEANUP_POLICY_CONFIG, LIST, "delete", ConfigDef.ValidList.in(BrokerConfigDef.CLEANUP_POLICIES),
                TopicConfig.CLEANUP_POLICY_DOC, "log.cleanup.policy");
        topic(TopicConfig.COMPRESSION_TYPE_CONFIG, STRING, "producer", oneOf(BrokerConfigDef.COMPRESSION_TYPES),
                TopicConfig.COMPRESSION_TYPE_DOC, "compression.type");
        topic(TopicConfig.COMPRESSION_GZIP_LEVEL_CONFIG, INT, -1, BrokerConfigDef.gzipLevel(),
                TopicConfig.COMPRESSION_GZIP_LEVEL_DOC, "compression.gzip.level");
        topic(TopicConfig.COMPRESSION_LZ4_LEVEL_CONFIG, INT, 9, between(1, 17),
                TopicConfig.COMPRESSION_LZ4_LEVEL_DOC, "compression.lz4.level");
        topic(TopicConfig.COMPRESSION_ZSTD_LEVEL_CONFIG, INT, 3, between(-131072, 22),
                TopicConfig.COMPRESSION_ZSTD_LEVEL_DOC, "compression.zstd.level");
        topic(TopicConfig.DELETE_RETENTION_MS_CONFIG, LONG, 86400000L, atLeast(0),
                TopicConfig.DELETE_RETENTION_MS_DOC, "log.cleaner.delete.retention.ms");
        topic("errors.deadletterqueue.group.enable", BOOLEAN, false, null,
                "Whether share groups may write undeliverable records of this topic to a dead letter queue.", null);
        topic(TopicConfig.FILE_DELETE_DELAY_MS_CONFIG, LONG, 60000L, atLeast(0),
                TopicConfig.FILE_DELETE_DELAY_MS_DOC, "log.segment.delete.delay.ms");
        topic(TopicConfig.FLUSH_MESSAGES_INTERVAL_CONFIG, LONG, Long.MAX_VALUE, atLeast(1),
                TopicConfig.FLUSH_MESSAGES_INTERVAL_DOC, "log.flush.interval.messages");
        topic(TopicConfig.FLUSH_MS_CONFIG, LONG, Long.MAX_VALUE, atLeast(0),
                TopicConfig.FLUSH_MS_DOC, "log.flush.interval.ms");
        topic("follower.replication.throttled.replicas", LIST, "", throttledReplicas(),
                "Replicas whose log replication is throttled on the follower side: partitionId:brokerId pairs, or *.", null);
        topic(TopicConfig.INDEX_INTERVAL_BYTES_CONFIG, INT, 4096, atLeast(0),
                TopicConfig.INDEX_INTERVAL_BYTES_DOC, "log.index.interval.bytes");
        topic("leader.replication.throttled.replicas", LIST, "", throttledReplicas(),
                "Replicas whose log replication is throttled on the leader side: partitionId:brokerId pairs, or *.", null);
        topic(TopicConfig.LOCAL_LOG_RETENTION_BYTES_CONFIG, LONG, -2L, atLeast(-2),
                TopicConfig.LOCAL_LOG_RETENTION_BYTES_DOC, "log.local.retention.bytes");
        topic(TopicConfig.LOCAL_LOG_RETENTION_MS_CONFIG, LONG, -2L, atLeast(-2),
                TopicConfig.LOCAL_LOG_RETENTION_MS_DOC, "log.local.retention.ms");
        topic(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, LONG, Long.MAX_VALUE, atLeast(1),
                TopicConfig.MAX_COMPACTION_LAG_MS_DOC, "log.cleaner.max.compaction.lag.ms");
        topic("max.decompressed.message.bytes", INT, 2147483639, between(1, 2147483639),
                "Largest size a record batch of this topic may have once decompressed.", "max.decompressed.message.bytes");
        topic(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, INT, 1048588, atLeast(0),
                TopicConfig.MAX_MESSAGE_BYTES_DOC, "message.max.bytes");
        topic(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, LONG, 3600000L, atLeast(0),
                TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_DOC, "log.message.timestamp.after.max.ms");
        topic(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, LONG, Long.MAX_VALUE, atLeast(0),
                TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_DOC, "log.message.timestamp.before.max.ms");
        topic(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, STRING, "CreateTime", oneOf(BrokerConfigDef.TIMESTAMP_TYPES),
                TopicConfig.MESSAGE_TIMESTAMP_TYPE_DOC, "log.message.timestamp.type");
        topic(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, DOUBLE, 0.5, between(0, 1),
                TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_DOC, "log.cleaner.min.cleanable.ratio");
        topic(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, LONG, 0L, atLeast(0),
                TopicConfig.MIN_COMPACTION_LAG_MS_DOC, "log.cleaner.min.compaction.lag.ms");
        topic(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, INT, 1, atLeast(1),
                TopicConfig.MIN_IN_SYNC_REPLICAS_DOC, "min.insync.replicas");
        topic(TopicConfig.PREALLOCATE_CONFIG, BOOLEAN, false, null, TopicConfig.PREALLOCATE_DOC, "log.preallocate");
        topic("remote.copy.lag.bytes", LONG, -1L, atLeast(-1),
                "How many bytes of a topic's log may wait before being copied to remote storage.", "log.remote.copy.lag.bytes");
        topic("remote.copy.lag.ms", LONG, 0L, atLeast(-1),
                "How long a closed segment may wait before being copied to remote storage.", "log.remote.copy.lag.ms");
        topic(TopicConfig.REMOTE_LOG_COPY_DISABLE_CONFIG, BOOLEAN, false, null, TopicConfig.REMOTE_LOG_COPY_DISABLE_DOC, null);
        topic(TopicConfig.REMOTE_LOG_DELETE_ON_DISABLE_CONFIG, BOOLEAN, false, null,
                TopicConfig.REMOTE_LOG_DELETE_ON_DISABLE_DOC, null);
        topic(TopicConfig.REMOTE_LOG_STORAGE_ENABLE_CONFIG, BOOLEAN, false, null, TopicConfig.REMOTE_LOG_STORAGE_ENABLE_DOC, null);
        topic(TopicConfig.RETENTION_BYTES_CONFIG, LONG, -1L, null, TopicConfig.RETENTION_BYTES_DOC, "log.retention.bytes");
        topic(TopicConfig.RETENTION_MS_CONFIG, LONG, 604800000L, atLeast(-1), TopicConfig.RETENTION_MS_DOC, "log.retention.ms");
        topic(TopicConfig.SEGMENT_BYTES_CONFIG, INT, 1073741824, atLeast(1048576),
                TopicConfig.SEGMENT_BYTES_DOC, "log.segment.bytes");
        topic(TopicConfig.SEGMENT_INDEX_BYTES_CONFIG, INT, 10485760, atLeast(4),
                TopicConfig.SEGMENT_INDEX_BYTES_DOC, "log.index.size.max.bytes");
        topic(TopicConfig.SEGMENT_JITTER_MS_CONFIG, LONG, 0L, atLeast(0), TopicConfig.SEGMENT_JITTER_MS_DOC, "log.roll.jitter.ms");
        topic(TopicConfig.SEGMENT_MS_CONFIG, LONG, 604800000L, atLeast(1), TopicConfig.SEGMENT_MS_DOC, "log.roll.ms");
        topic(TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG, BOOLEAN, false, null,
                TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_DOC, "unclean.leader.election.enable");
        NAMES = Set.copyOf(DEF.names());
    }

    private static void topic(String name, ConfigDef.Type type, Object defaultValue, ConfigDef.Validator validator,
                              String doc, String brokerSynonym) {
        DEF.define(name, type, defaultValue, validator, MEDIUM, doc);
        if (brokerSynonym != null) {
            BROKER_SYNONYM.put(name, brokerSynonym);
        }
    }

    public static Set<String> names() {
        return NAMES;
    }

    /** The broker keys standing in for topic keys (Kafka's ServerTopicConfigSynonyms), which Kafka lets change at runtime. */
    static Set<String> brokerSynonymKeys() {
        return Set.copyOf(BROKER_SYNONYM.values());
    }

    /**
     * Validates topic overrides (CreateTopics / AlterConfigs): unknown key or invalid value ->
     * ConfigException naming the key (the broker answers INVALID_CONFIG with that message).
     * A null value means "remove the override" and is accepted.
     */
    public static void validate(Map<String, String> overrides) {
        parseOverrides(overrides);
    }

    /** Effective topic config: override, else the broker's synonym value, else Kafka's default. */
    public static ResolvedTopicConfig resolve(BrokerConfig broker, Map<String, String> overrides) {
        Map<String, Object> parsed = parseOverrides(overrides);
        Map<String, Object> values = new HashMap<>();
        for (String name : NAMES) {
            Object value = parsed.containsKey(name) ? parsed.get(name) : brokerDefault(broker, name);
            values.put(name, value);
        }
        checkCompactionLags(values);
        return new ResolvedTopicConfig(values);
    }

    /**
     * All topic keys with value, source (TOPIC_CONFIG / STATIC_BROKER_CONFIG / DEFAULT_CONFIG) and
     * synonyms in Kafka's order (topic override, broker keys, default), for DescribeConfigs on a TOPIC.
     */
    public static List<ConfigEntry> describe(BrokerConfig broker, Map<String, String> overrides) {
        ResolvedTopicConfig resolved = resolve(broker, overrides);
        Map<String, ConfigKey> keys = DEF.configKeys();
        List<ConfigEntry> entries = new ArrayList<>(keys.size());
        for (String name : new TreeSet<>(NAMES)) {
            ConfigKey key = keys.get(name);
            String value = resolved.get(name);
            List<ConfigSynonym> synonyms = new ArrayList<>();
            if (overrides.get(name) != null) {
                synonyms.add(new ConfigSynonym(name, value, ConfigSource.TOPIC_CONFIG));
            }
            String brokerKey = BROKER_SYNONYM.get(name);
            if (brokerKey != null) {
                synonyms.addAll(broker.synonymsOf(brokerKey, false));
            }
            ConfigSource source = synonyms.isEmpty() ? ConfigSource.DEFAULT_CONFIG : synonyms.get(0).source();
            entries.add(new ConfigEntry(name, value, source, false, false, ConfigType.of(key.type),
                    key.documentation, synonyms));
        }
        return entries;
    }

    static ConfigDef.Type typeOf(String name) {
        return DEF.configKeys().get(name).type;
    }

    private static Map<String, Object> parseOverrides(Map<String, String> overrides) {
        Map<String, ConfigKey> keys = DEF.configKeys();
        Map<String, Object> parsed = new HashMap<>();
        for (Map.Entry<String, String> override : overrides.entrySet()) {
            ConfigKey key = keys.get(override.getKey());
            if (key == null) {
                throw new ConfigException(override.getKey(), "Unknown topic config name: " + override.getKey());
            }
            if (override.getValue() != null) {
                parsed.put(key.name, ConfigParsing.parseOne(key, override.getValue()));
            }
        }
        if (Boolean.TRUE.equals(parsed.get(TopicConfig.REMOTE_LOG_STORAGE_ENABLE_CONFIG))) {
            throw new ConfigException(TopicConfig.REMOTE_LOG_STORAGE_ENABLE_CONFIG, "true",
                    "tiered storage is not supported by this broker");
        }
        Map<String, Object> withDefaults = new HashMap<>(parsed);
        withDefaults.putIfAbsent(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, 0L);
        withDefaults.putIfAbsent(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, Long.MAX_VALUE);
        checkCompactionLags(withDefaults);
        return parsed;
    }

    private static void checkCompactionLags(Map<String, Object> values) {
        long min = (Long) values.get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG);
        long max = (Long) values.get(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG);
        if (min > max) {
            throw new ConfigException(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "conflict topic config setting "
                    + TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG + " (" + min + ") > "
                    + TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG + " (" + max + ")");
        }
    }

    /** The broker-level value standing in for a topic key, with Kafka's time-unit precedence applied. */
    private static Object brokerDefault(BrokerConfig broker, String topicKey) {
        String brokerKey = BROKER_SYNONYM.get(topicKey);
        if (brokerKey == null) {
            return DEF.configKeys().get(topicKey).defaultValue;
        }
        return switch (topicKey) {
            case TopicConfig.RETENTION_MS_CONFIG -> broker.logRetentionMs();
            case TopicConfig.SEGMENT_MS_CONFIG -> broker.logRollMs();
            case TopicConfig.SEGMENT_JITTER_MS_CONFIG -> broker.logRollJitterMs();
            case TopicConfig.FLUSH_MS_CONFIG -> broker.logFlushIntervalMs();
            default -> broker.value(brokerKey);
        };
    }

    /** Kafka's throttled-replica list: "*" or partitionId:brokerId pairs. */
    private static ConfigDef.Validator throttledReplicas() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                @SuppressWarnings("unchecked")
                List<String> entries = (List<String>) value;
                if (entries.size() == 1 && entries.get(0).trim().equals("*")) {
                    return;
                }
                for (String entry : entries) {
                    if (!entry.trim().matches("\\d+:\\d+")) {
                        throw new org.apache.kafka.common.config.ConfigException(name, value,
                                "must be * or a list of partitionId:brokerId pairs");
                    }
                }
            }

            @Override
            public String toString() {
                return "[partitionId]:[brokerId],[partitionId]:[brokerId],...";
            }
        };
    }
}
