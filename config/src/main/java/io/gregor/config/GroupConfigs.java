package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.apache.kafka.common.config.ConfigDef.Importance.LOW;
import static org.apache.kafka.common.config.ConfigDef.Importance.MEDIUM;
import static org.apache.kafka.common.config.ConfigDef.Range.atLeast;
import static org.apache.kafka.common.config.ConfigDef.Type.BOOLEAN;
import static org.apache.kafka.common.config.ConfigDef.Type.INT;
import static org.apache.kafka.common.config.ConfigDef.Type.LIST;
import static org.apache.kafka.common.config.ConfigDef.Type.LONG;
import static org.apache.kafka.common.config.ConfigDef.Type.STRING;

/**
 * Group-level configs (Kafka 4.4's GROUP config resource, KIP-848/KIP-932): the keys of Kafka's GroupConfig with
 * their types, defaults and broker synonyms, validated against the broker's {@code group.consumer.*},
 * {@code group.share.*} and {@code group.streams.*} bounds. A group's effective value is its override, else the
 * value of the broker synonym, else Kafka's default.
 */
public final class GroupConfigs {
    public static final String CONSUMER_SESSION_TIMEOUT_MS = "consumer.session.timeout.ms";
    public static final String CONSUMER_HEARTBEAT_INTERVAL_MS = "consumer.heartbeat.interval.ms";
    public static final String SHARE_SESSION_TIMEOUT_MS = "share.session.timeout.ms";
    public static final String SHARE_HEARTBEAT_INTERVAL_MS = "share.heartbeat.interval.ms";
    public static final String SHARE_RECORD_LOCK_DURATION_MS = "share.record.lock.duration.ms";
    public static final String SHARE_DELIVERY_COUNT_LIMIT = "share.delivery.count.limit";
    public static final String SHARE_PARTITION_MAX_RECORD_LOCKS = "share.partition.max.record.locks";
    public static final String SHARE_AUTO_OFFSET_RESET = "share.auto.offset.reset";
    public static final String SHARE_ISOLATION_LEVEL = "share.isolation.level";
    public static final String SHARE_RENEW_ACKNOWLEDGE_ENABLE = "share.renew.acknowledge.enable";

    private static final ConfigDef DEF = new ConfigDef();
    /** Group key to the broker key whose value is the group default (Kafka's GroupConfig synonyms). */
    private static final Map<String, String> BROKER_SYNONYM = new HashMap<>();
    /** Keys Kafka defines as internal: described only when set. */
    private static final Set<String> INTERNAL = new HashSet<>();
    /**
     * Kafka's defaults of the broker keys Gregor's broker does not define (streams groups, assignment intervals,
     * assignor offload): the group defaults and bounds they stand for.
     */
    private static final Map<String, Object> UNDEFINED_BROKER_DEFAULTS = Map.ofEntries(
            Map.entry("group.consumer.assignment.interval.ms", 1000),
            Map.entry("group.consumer.min.assignment.interval.ms", 0),
            Map.entry("group.consumer.max.assignment.interval.ms", 15000),
            Map.entry("group.consumer.assignor.offload.enable", true),
            Map.entry("group.share.assignment.interval.ms", 1000),
            Map.entry("group.share.min.assignment.interval.ms", 0),
            Map.entry("group.share.max.assignment.interval.ms", 15000),
            Map.entry("group.share.assignor.offload.enable", true),
            Map.entry("group.streams.session.timeout.ms", 45000),
            Map.entry("group.streams.min.session.timeout.ms", 45000),
            Map.entry("group.streams.max.session.timeout.ms", 60000),
            Map.entry("group.streams.heartbeat.interval.ms", 5000),
            Map.entry("group.streams.min.heartbeat.interval.ms", 5000),
            Map.entry("group.streams.max.heartbeat.interval.ms", 15000),
            Map.entry("group.streams.num.standby.replicas", 0),
            Map.entry("group.streams.max.standby.replicas", 2),
            Map.entry("group.streams.initial.rebalance.delay.ms", 3000),
            Map.entry("group.streams.assignment.interval.ms", 1000),
            Map.entry("group.streams.min.assignment.interval.ms", 0),
            Map.entry("group.streams.max.assignment.interval.ms", 15000),
            Map.entry("group.streams.assignor.offload.enable", true),
            Map.entry("group.streams.task.offset.interval.ms", 60000),
            Map.entry("group.streams.min.task.offset.interval.ms", 15000),
            Map.entry("group.streams.num.warmup.replicas", 2),
            Map.entry("group.streams.max.warmup.replicas", 20),
            Map.entry("group.streams.rack.aware.assignment.tags", ""),
            Map.entry("group.streams.acceptable.recovery.lag", 10000L),
            Map.entry("group.streams.assignors", "sticky"));
    private static final Set<String> NAMES;
    /** Group key to the broker keys of its bounds (min, max), for the keys Kafka clamps when the bounds change. */
    private static final Map<String, String[]> BOUNDS = Map.of(
            CONSUMER_SESSION_TIMEOUT_MS, bounds("group.consumer", "session.timeout.ms"),
            CONSUMER_HEARTBEAT_INTERVAL_MS, bounds("group.consumer", "heartbeat.interval.ms"),
            SHARE_SESSION_TIMEOUT_MS, bounds("group.share", "session.timeout.ms"),
            SHARE_HEARTBEAT_INTERVAL_MS, bounds("group.share", "heartbeat.interval.ms"),
            SHARE_RECORD_LOCK_DURATION_MS, bounds("group.share", "record.lock.duration.ms"),
            SHARE_DELIVERY_COUNT_LIMIT, bounds("group.share", "delivery.count.limit"),
            SHARE_PARTITION_MAX_RECORD_LOCKS, bounds("group.share", "partition.max.record.locks"));

    static {
        group(CONSUMER_SESSION_TIMEOUT_MS, INT, 45000, atLeast(1), false,
                "The timeout to detect client failures when using the consumer group protocol.",
                "group.consumer.session.timeout.ms");
        group(CONSUMER_HEARTBEAT_INTERVAL_MS, INT, 5000, atLeast(1), false,
                "The heartbeat interval given to the members of a consumer group.", "group.consumer.heartbeat.interval.ms");
        group("consumer.assignment.interval.ms", INT, 1000, atLeast(0), false,
                "The interval between assignment updates for a consumer group.", "group.consumer.assignment.interval.ms");
        group("consumer.assignor.offload.enable", BOOLEAN, true, null, true,
                "Whether to offload consumer group assignment to a group coordinator background thread.",
                "group.consumer.assignor.offload.enable");
        group(SHARE_SESSION_TIMEOUT_MS, INT, 45000, atLeast(1), false,
                "The timeout to detect client failures when using the share group protocol.",
                "group.share.session.timeout.ms");
        group(SHARE_HEARTBEAT_INTERVAL_MS, INT, 5000, atLeast(1), false,
                "The heartbeat interval given to the members of a share group.", "group.share.heartbeat.interval.ms");
        group(SHARE_RECORD_LOCK_DURATION_MS, INT, 30000, atLeast(1000), false,
                "The record acquisition lock duration in milliseconds for share groups.",
                "group.share.record.lock.duration.ms");
        group(SHARE_DELIVERY_COUNT_LIMIT, INT, 5, atLeast(2), false,
                "The maximum number of delivery attempts for a record delivered to a share group.",
                "group.share.delivery.count.limit");
        group(SHARE_PARTITION_MAX_RECORD_LOCKS, INT, 2000, atLeast(100), false,
                "Share-group record lock limit per share-partition.", "group.share.partition.max.record.locks");
        group(SHARE_AUTO_OFFSET_RESET, STRING, "latest", autoOffsetReset(), false,
                "The strategy to initialize the share-partition start offset: earliest, latest or "
                        + "by_duration:<ISO-8601 duration> (from the current timestamp, not negative).", null);
        group(SHARE_ISOLATION_LEVEL, STRING, "read_uncommitted",
                ConfigDef.ValidString.in("read_committed", "read_uncommitted"), false,
                "Controls how to read records written transactionally. If set to \"read_committed\", the share group "
                        + "will only deliver transactional records which have been committed. If set to "
                        + "\"read_uncommitted\", the share group will return all messages, even transactional messages "
                        + "which have been aborted. Non-transactional records will be returned unconditionally in "
                        + "either mode.", null);
        group(SHARE_RENEW_ACKNOWLEDGE_ENABLE, BOOLEAN, true, null, false,
                "Whether the renew acknowledge type is enabled for the share group.", null);
        group("share.assignment.interval.ms", INT, 1000, atLeast(0), false,
                "The interval between assignment updates for a share group.", "group.share.assignment.interval.ms");
        group("share.assignor.offload.enable", BOOLEAN, true, null, true,
                "Whether to offload share group assignment to a group coordinator background thread.",
                "group.share.assignor.offload.enable");
        group("streams.session.timeout.ms", INT, 45000, atLeast(1), false,
                "The timeout to detect client failures when using the streams group protocol.",
                "group.streams.session.timeout.ms");
        group("streams.heartbeat.interval.ms", INT, 5000, atLeast(1), false,
                "The heartbeat interval given to the members.", "group.streams.heartbeat.interval.ms");
        group("streams.num.standby.replicas", INT, 0, atLeast(0), false,
                "The number of standby replicas for each task.", "group.streams.num.standby.replicas");
        group("streams.initial.rebalance.delay.ms", INT, 3000, atLeast(0), false,
                "The amount of time the group coordinator will wait for more streams clients to join a new group "
                        + "before performing the first rebalance.", "group.streams.initial.rebalance.delay.ms");
        group("streams.assignment.interval.ms", INT, 1000, atLeast(0), false,
                "The interval between assignment updates for a streams group.", "group.streams.assignment.interval.ms");
        group("streams.assignor.offload.enable", BOOLEAN, true, null, true,
                "Whether to offload streams group assignment to a group coordinator background thread.",
                "group.streams.assignor.offload.enable");
        group("streams.task.offset.interval.ms", INT, 60000, atLeast(1), true,
                "The interval in which the warmup task changelog offsets on a client are updated on the broker.",
                "group.streams.task.offset.interval.ms");
        group("streams.num.warmup.replicas", INT, 2, atLeast(0), true,
                "The maximum number of warmup task replicas.", "group.streams.num.warmup.replicas");
        DEF.define("streams.rack.aware.assignment.tags", LIST, "", ConfigDef.ValidList.anyNonDuplicateValues(true, false),
                LOW, "List of client tag keys used to distribute standby replicas across Kafka Streams instances.");
        BROKER_SYNONYM.put("streams.rack.aware.assignment.tags", "group.streams.rack.aware.assignment.tags");
        group("streams.acceptable.recovery.lag", LONG, 10000L, atLeast(0), true,
                "The maximum acceptable lag (number of offsets to catch up) for a client to be considered caught-up "
                        + "enough to receive an active task assignment.", "group.streams.acceptable.recovery.lag");
        group("streams.assignor.name", STRING, null, null, false,
                "The task assignor to use for this streams group, selected by short name from the assignors "
                        + "registered via the broker configuration group.streams.assignors.", "group.streams.assignors");
        group("errors.deadletterqueue.topic.name", STRING, "", null, false,
                "The name of the topic to be used as the dead-letter queue (DLQ) topic for this share group. If blank "
                        + "(the default), the group does not have a DLQ topic.", null);
        group("errors.deadletterqueue.copy.record.enable", BOOLEAN, false, null, false,
                "When writing onto the dead-letter queue topic, whether to copy the original record onto the DLQ "
                        + "topic, or just write a record containing the context information headers.", null);
        NAMES = Set.copyOf(DEF.names());
    }

    private GroupConfigs() {
    }

    private static String[] bounds(String prefix, String rest) {
        return new String[] {prefix + ".min." + rest, prefix + ".max." + rest};
    }

    private static void group(String name, ConfigDef.Type type, Object defaultValue, ConfigDef.Validator validator,
                              boolean internal, String doc, String brokerSynonym) {
        if (internal) {
            DEF.defineInternal(name, type, defaultValue, validator, MEDIUM, doc);
            INTERNAL.add(name);
        } else {
            DEF.define(name, type, defaultValue, validator, MEDIUM, doc);
        }
        if (brokerSynonym != null) {
            BROKER_SYNONYM.put(name, brokerSynonym);
        }
    }

    public static Set<String> names() {
        return NAMES;
    }

    /** True for the keys APPEND and SUBTRACT apply to. */
    public static boolean isList(String name) {
        ConfigKey key = DEF.configKeys().get(name);
        return key != null && key.type == LIST;
    }

    /**
     * Kafka's checks of a group's complete overrides (GroupConfig.validate): unknown key, unparsable value, a value
     * outside the broker's bounds, a session timeout not above the heartbeat interval -> ConfigException naming the
     * key, which the broker answers INVALID_CONFIG.
     */
    public static void validate(BrokerConfig broker, Map<String, String> overrides) {
        for (String name : overrides.keySet()) {
            if (!NAMES.contains(name)) {
                throw new ConfigException(name, "Unknown group config name: " + name);
            }
        }
        Map<String, Object> parsed = parse(overrides);
        range(parsed, broker, CONSUMER_HEARTBEAT_INTERVAL_MS, "group.consumer.min.heartbeat.interval.ms",
                "group.consumer.max.heartbeat.interval.ms");
        range(parsed, broker, CONSUMER_SESSION_TIMEOUT_MS, "group.consumer.min.session.timeout.ms",
                "group.consumer.max.session.timeout.ms");
        range(parsed, broker, "consumer.assignment.interval.ms", "group.consumer.min.assignment.interval.ms",
                "group.consumer.max.assignment.interval.ms");
        range(parsed, broker, SHARE_HEARTBEAT_INTERVAL_MS, "group.share.min.heartbeat.interval.ms",
                "group.share.max.heartbeat.interval.ms");
        range(parsed, broker, SHARE_SESSION_TIMEOUT_MS, "group.share.min.session.timeout.ms",
                "group.share.max.session.timeout.ms");
        range(parsed, broker, SHARE_RECORD_LOCK_DURATION_MS, "group.share.min.record.lock.duration.ms",
                "group.share.max.record.lock.duration.ms");
        range(parsed, broker, SHARE_DELIVERY_COUNT_LIMIT, "group.share.min.delivery.count.limit",
                "group.share.max.delivery.count.limit");
        range(parsed, broker, SHARE_PARTITION_MAX_RECORD_LOCKS, "group.share.min.partition.max.record.locks",
                "group.share.max.partition.max.record.locks");
        range(parsed, broker, "share.assignment.interval.ms", "group.share.min.assignment.interval.ms",
                "group.share.max.assignment.interval.ms");
        range(parsed, broker, "streams.heartbeat.interval.ms", "group.streams.min.heartbeat.interval.ms",
                "group.streams.max.heartbeat.interval.ms");
        range(parsed, broker, "streams.session.timeout.ms", "group.streams.min.session.timeout.ms",
                "group.streams.max.session.timeout.ms");
        atMost(parsed, "streams.num.standby.replicas", brokerInt(broker, "group.streams.max.standby.replicas"));
        range(parsed, broker, "streams.assignment.interval.ms", "group.streams.min.assignment.interval.ms",
                "group.streams.max.assignment.interval.ms");
        if (parsed.containsKey("streams.task.offset.interval.ms")) {
            int min = brokerInt(broker, "group.streams.min.task.offset.interval.ms");
            if ((Integer) parsed.get("streams.task.offset.interval.ms") < min) {
                throw new ConfigException("streams.task.offset.interval.ms",
                        "streams.task.offset.interval.ms must be greater than or equal to " + min);
            }
        }
        atMost(parsed, "streams.num.warmup.replicas", brokerInt(broker, "group.streams.max.warmup.replicas"));
        if (parsed.containsKey("streams.assignor.name")) {
            List<String> registered = brokerStreamsAssignors(broker);
            Object name = parsed.get("streams.assignor.name");
            if (!registered.contains(name)) {
                throw new ConfigException("streams.assignor.name", "streams.assignor.name '" + name
                        + "' is not a registered task assignor. Registered assignors are: " + registered + ".");
            }
        }
        sessionAboveHeartbeat(parsed, broker, CONSUMER_SESSION_TIMEOUT_MS, CONSUMER_HEARTBEAT_INTERVAL_MS);
        sessionAboveHeartbeat(parsed, broker, SHARE_SESSION_TIMEOUT_MS, SHARE_HEARTBEAT_INTERVAL_MS);
        sessionAboveHeartbeat(parsed, broker, "streams.session.timeout.ms", "streams.heartbeat.interval.ms");
        Object dlq = parsed.get("errors.deadletterqueue.topic.name");
        if (dlq instanceof String topic && topic.startsWith("__")) {
            throw new ConfigException("errors.deadletterqueue.topic.name",
                    "errors.deadletterqueue.topic.name: DLQ topic name must not start with '__'");
        }
    }

    /**
     * Every non-internal key (and each internal one the group sets) with value, source (GROUP_CONFIG, the broker
     * synonym's source, or DEFAULT_CONFIG) and synonyms in Kafka's order, for DescribeConfigs on a GROUP.
     */
    public static List<ConfigEntry> describe(BrokerConfig broker, Map<String, String> overrides) {
        Map<String, Object> parsed = parse(overrides);
        Map<String, ConfigKey> keys = DEF.configKeys();
        List<ConfigEntry> entries = new ArrayList<>(keys.size());
        for (String name : new TreeSet<>(NAMES)) {
            if (INTERNAL.contains(name) && !overrides.containsKey(name)) {
                continue;
            }
            ConfigKey key = keys.get(name);
            Object value = parsed.containsKey(name) ? parsed.get(name) : effectiveDefault(broker, name);
            String valueString = ConfigParsing.asString(value, key.type);
            List<ConfigSynonym> synonyms = new ArrayList<>();
            if (overrides.containsKey(name)) {
                synonyms.add(new ConfigSynonym(name, valueString, ConfigSource.GROUP_CONFIG));
            }
            String brokerKey = BROKER_SYNONYM.get(name);
            if (brokerKey == null) {
                if (key.defaultValue != null) {
                    synonyms.add(new ConfigSynonym(name, ConfigParsing.asString(key.defaultValue, key.type),
                            ConfigSource.DEFAULT_CONFIG));
                }
            } else if (BrokerConfigDef.DEF.configKeys().containsKey(brokerKey)) {
                synonyms.addAll(broker.synonymsOf(brokerKey, false));
            } else {
                synonyms.add(new ConfigSynonym(brokerKey, String.valueOf(UNDEFINED_BROKER_DEFAULTS.get(brokerKey)),
                        ConfigSource.DEFAULT_CONFIG));
            }
            ConfigSource source = synonyms.isEmpty() ? ConfigSource.DEFAULT_CONFIG : synonyms.get(0).source();
            entries.add(new ConfigEntry(name, valueString, source, false, false, ConfigType.of(key.type),
                    key.documentation, synonyms));
        }
        return entries;
    }

    /**
     * The group's value of an INT key: its (valid) override, else the broker's synonym, else Kafka's default. An
     * override the broker's bounds no longer allow (they changed after it was set) is clamped to them, as Kafka 4.4
     * evaluates group configs.
     */
    public static int intValue(BrokerConfig broker, Map<String, String> overrides, String name) {
        int value = (Integer) value(broker, overrides, name);
        String[] bounds = BOUNDS.get(name);
        if (bounds != null && overrides.containsKey(name)) {
            value = Math.max(brokerInt(broker, bounds[0]), Math.min(brokerInt(broker, bounds[1]), value));
        }
        return value;
    }

    /** The group's value of a key as a string (lists comma-joined). */
    public static String stringValue(BrokerConfig broker, Map<String, String> overrides, String name) {
        return ConfigParsing.asString(value(broker, overrides, name), DEF.configKeys().get(name).type);
    }

    private static Object value(BrokerConfig broker, Map<String, String> overrides, String name) {
        ConfigKey key = DEF.configKeys().get(name);
        String raw = overrides.get(name);
        if (raw != null) {
            try {
                return ConfigParsing.parseOne(key, raw);
            } catch (ConfigException e) {
                // stored before the bounds changed, or by another tool: the default serves, as an unset key would
            }
        }
        return effectiveDefault(broker, name);
    }

    private static Map<String, Object> parse(Map<String, String> overrides) {
        Map<String, ConfigKey> keys = DEF.configKeys();
        Map<String, Object> parsed = new HashMap<>();
        overrides.forEach((name, raw) -> {
            ConfigKey key = keys.get(name);
            if (key != null && raw != null) {
                parsed.put(name, ConfigParsing.parseOne(key, raw));
            }
        });
        return parsed;
    }

    /** The value a group gets without an override: the broker synonym's (the first streams assignor), else Kafka's default. */
    private static Object effectiveDefault(BrokerConfig broker, String name) {
        String brokerKey = BROKER_SYNONYM.get(name);
        if (brokerKey == null) {
            return DEF.configKeys().get(name).defaultValue;
        }
        if (name.equals("streams.assignor.name")) {
            return brokerStreamsAssignors(broker).get(0);
        }
        if (BrokerConfigDef.DEF.configKeys().containsKey(brokerKey)) {
            return broker.value(brokerKey);
        }
        Object kafkaDefault = UNDEFINED_BROKER_DEFAULTS.get(brokerKey);
        return DEF.configKeys().get(name).type == LIST ? List.of() : kafkaDefault;
    }

    private static int brokerInt(BrokerConfig broker, String brokerKey) {
        if (BrokerConfigDef.DEF.configKeys().containsKey(brokerKey)) {
            return (Integer) broker.value(brokerKey);
        }
        return (Integer) UNDEFINED_BROKER_DEFAULTS.get(brokerKey);
    }

    @SuppressWarnings("unchecked")
    private static List<String> brokerStreamsAssignors(BrokerConfig broker) {
        if (BrokerConfigDef.DEF.configKeys().containsKey("group.streams.assignors")) {
            return (List<String>) broker.value("group.streams.assignors");
        }
        return List.of((String) UNDEFINED_BROKER_DEFAULTS.get("group.streams.assignors"));
    }

    private static void range(Map<String, Object> parsed, BrokerConfig broker, String key, String minKey, String maxKey) {
        if (parsed.containsKey(key)) {
            int value = (Integer) parsed.get(key);
            int min = brokerInt(broker, minKey);
            int max = brokerInt(broker, maxKey);
            if (value < min || value > max) {
                throw new ConfigException(key, key + " must be in the range " + min + " to " + max + " inclusive.");
            }
        }
    }

    private static void atMost(Map<String, Object> parsed, String key, int max) {
        if (parsed.containsKey(key) && (Integer) parsed.get(key) > max) {
            throw new ConfigException(key, key + " must be less than or equal to " + max);
        }
    }

    private static void sessionAboveHeartbeat(Map<String, Object> parsed, BrokerConfig broker, String sessionKey,
                                              String heartbeatKey) {
        if (parsed.containsKey(sessionKey) || parsed.containsKey(heartbeatKey)) {
            int session = parsed.containsKey(sessionKey) ? (Integer) parsed.get(sessionKey)
                    : (Integer) effectiveDefault(broker, sessionKey);
            int heartbeat = parsed.containsKey(heartbeatKey) ? (Integer) parsed.get(heartbeatKey)
                    : (Integer) effectiveDefault(broker, heartbeatKey);
            if (session <= heartbeat) {
                throw new ConfigException(sessionKey, sessionKey + " must be greater than " + heartbeatKey);
            }
        }
    }

    /** earliest, latest, or by_duration:&lt;ISO-8601 duration&gt;, not negative (Kafka's ShareGroupAutoOffsetResetStrategy). */
    private static ConfigDef.Validator autoOffsetReset() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                if (parseReset((String) value) == null && !"earliest".equalsIgnoreCase(((String) value).trim())) {
                    throw new org.apache.kafka.common.config.ConfigException(name, value,
                            "Invalid value `" + value + "` for configuration " + name
                                    + ". The value must be either 'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS.>'.");
                }
            }

            @Override
            public String toString() {
                return "[earliest, latest, by_duration:PnDTnHnMn.nS]";
            }
        };
    }

    /**
     * How far back from now a share partition starts: null for earliest (and for an invalid value), zero for
     * latest, the duration for by_duration:&lt;duration&gt;.
     */
    public static Duration parseReset(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("latest")) {
            return Duration.ZERO;
        }
        if (v.startsWith("by_duration:")) {
            try {
                Duration d = Duration.parse(value.trim().substring("by_duration:".length()));
                if (!d.isNegative()) {
                    return d;
                }
            } catch (RuntimeException e) {
                return null;
            }
        }
        return null;
    }
}
