package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.apache.kafka.common.config.ConfigDef.Importance.MEDIUM;
import static org.apache.kafka.common.config.ConfigDef.Range.atLeast;
import static org.apache.kafka.common.config.ConfigDef.Type.LONG;

/**
 * Kafka's rules for dynamic broker configs (KIP-226): which keys may change at runtime, per broker
 * ({@code /config/brokers/<id>}) or as the cluster default ({@code /config/brokers/<default>}), and how
 * a change is validated. Gregor allows the keys of Kafka's dynamic set that it applies without a restart.
 */
public final class DynamicBrokerConfigs {
    private DynamicBrokerConfigs() {
    }

    /** The entity name of the cluster-wide default, as in Kafka's znode {@code /config/brokers/<default>}. */
    public static final String DEFAULT_ENTITY = "<default>";

    /** Kafka's broker quota configs: dynamic only, they have no static form. */
    static final ConfigDef QUOTA_DEF = new ConfigDef()
            .define("leader.replication.throttled.rate", LONG, Long.MAX_VALUE, atLeast(0), MEDIUM,
                    "Upper bound on leader replication traffic of throttled replicas, in bytes per second.")
            .define("follower.replication.throttled.rate", LONG, Long.MAX_VALUE, atLeast(0), MEDIUM,
                    "Upper bound on follower replication traffic of throttled replicas, in bytes per second.")
            .define("replica.alter.log.dirs.io.max.bytes.per.second", LONG, Long.MAX_VALUE, atLeast(0), MEDIUM,
                    "Upper bound on disk I/O of moving replicas between log dirs, in bytes per second.");

    /** Log cleaner keys: the cleaner restarts with the new settings (Kafka's LogCleaner.ReconfigurableConfigs). */
    public static final Set<String> CLEANER_KEYS = Set.of("log.cleaner.threads", "log.cleaner.dedupe.buffer.size",
            "log.cleaner.io.buffer.load.factor", "log.cleaner.io.buffer.size", "log.cleaner.io.max.bytes.per.second",
            "log.cleaner.backoff.ms");

    /** Thread counts Kafka resizes within half and double the current value (DynamicThreadPool). */
    static final Set<String> THREAD_COUNT_KEYS = Set.of("num.io.threads", "num.replica.fetchers");

    /** num.network.threads: per listener (listener.name.x. prefix or the base key), within half and double. */
    public static final String NETWORK_THREADS = "num.network.threads";

    /**
     * A listener's TLS stores (Kafka's SslConfigs.RECONFIGURABLE_CONFIGS): per broker and per listener only,
     * applied through Kafka's SslFactory.reconfigure.
     */
    public static final Set<String> LISTENER_SECURITY_KEYS = Set.copyOf(SslConfigs.RECONFIGURABLE_CONFIGS);

    /** Listener keys Kafka lets the cluster default set (DynamicBrokerConfig.ClusterLevelListenerConfigs). */
    private static final Set<String> CLUSTER_LEVEL_LISTENER_KEYS = Set.of("max.connections",
            "max.connection.creation.rate", NETWORK_THREADS);

    /** Kafka's dynamic password keys (stored per broker only): a listener-prefixed key ending in one is sensitive. */
    private static final Set<String> PASSWORD_KEYS = Set.of(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG,
            SslConfigs.SSL_KEY_PASSWORD_CONFIG, SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG,
            SslConfigs.SSL_KEYSTORE_KEY_CONFIG, SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG,
            SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, SaslConfigs.SASL_JAAS_CONFIG);

    /**
     * Keys Kafka 4.4 changes at runtime (DynamicBrokerConfig.AllDynamicConfigs) that Gregor applies only at a
     * restart: refused with Kafka's "Cannot update these configs dynamically" and a word on why.
     */
    static final Set<String> KAFKA_DYNAMIC_NOT_IN_GREGOR = Set.of("listeners", "advertised.listeners",
            "listener.security.protocol.map", "metric.reporters", "max.connections", "max.connections.per.ip",
            "max.connections.per.ip.overrides", "max.connection.creation.rate", "num.recovery.threads.per.data.dir", "background.threads",
            "transaction.partition.verification.enable", "principal.builder.class", "sasl.enabled.mechanisms",
            "sasl.mechanism.inter.broker.protocol", "sasl.kerberos.principal.to.local.rules",
            "ssl.principal.mapping.rules", "ssl.client.auth", "remote.log.index.file.cache.total.size.bytes",
            "remote.fetch.max.wait.ms", "remote.log.manager.copy.max.bytes.per.second",
            "remote.log.manager.fetch.max.bytes.per.second", "remote.list.offsets.request.timeout.ms");

    /** Every broker key Gregor lets change at runtime. */
    static final Set<String> DYNAMIC_KEYS;

    static {
        Set<String> keys = new TreeSet<>(TopicConfigs.brokerSynonymKeys());
        keys.retainAll(BrokerConfigDef.DEF.names());
        keys.addAll(CLEANER_KEYS);
        keys.addAll(THREAD_COUNT_KEYS);
        keys.add(NETWORK_THREADS);
        keys.addAll(LISTENER_SECURITY_KEYS); // dynamic with a listener prefix (Kafka describes them as not read-only)
        keys.add("producer.id.expiration.ms");
        keys.addAll(QUOTA_DEF.names());
        DYNAMIC_KEYS = Set.copyOf(keys);
    }

    public static boolean isDynamic(String key) {
        return DYNAMIC_KEYS.contains(key);
    }

    /** The definition of a dynamic-only key (the quotas), or null. */
    static ConfigKey quotaKey(String key) {
        return QUOTA_DEF.configKeys().get(key);
    }

    /** The checks of {@link #validateKeysAndValues(Map, boolean)} for this broker's own configs. */
    public static void validateKeysAndValues(Map<String, String> props) {
        validateKeysAndValues(props, true);
    }

    /**
     * Checks a dynamic entity's complete new configs as Kafka's DynamicBrokerConfig.validateConfigs does:
     * broker keys that cannot change at runtime first, then TLS store keys without a listener prefix, then
     * the values' types and ranges, then (for the cluster default) the keys Kafka takes per broker only. Keys
     * Kafka does not know are allowed (custom configs for plugins), as in Kafka.
     *
     * @param perBroker false for the cluster default ({@code <default>})
     * @throws ConfigException with Kafka's message
     */
    public static void validateKeysAndValues(Map<String, String> props, boolean perBroker) {
        Set<String> nonDynamic = new TreeSet<>();
        for (String key : props.keySet()) {
            if (!isDynamic(key) && (BrokerConfigDef.DEF.names().contains(key) || KAFKA_DYNAMIC_NOT_IN_GREGOR.contains(key))) {
                nonDynamic.add(key);
            }
        }
        if (!nonDynamic.isEmpty()) {
            Set<String> kafkaOnly = new TreeSet<>(nonDynamic);
            kafkaOnly.retainAll(KAFKA_DYNAMIC_NOT_IN_GREGOR);
            throw new ConfigException(nonDynamic.iterator().next(),
                    "Cannot update these configs dynamically: " + scalaSet(nonDynamic) + (kafkaOnly.isEmpty() ? ""
                            : " (Gregor applies " + String.join(", ", kafkaOnly) + " only at a restart)"));
        }
        Set<String> unprefixedSecurity = new TreeSet<>(props.keySet());
        unprefixedSecurity.retainAll(LISTENER_SECURITY_KEYS);
        if (!unprefixedSecurity.isEmpty()) {
            throw new ConfigException(unprefixedSecurity.iterator().next(),
                    "These security configs can be dynamically updated only per-listener using the listener prefix: "
                            + scalaSet(unprefixedSecurity));
        }
        for (Map.Entry<String, String> prop : props.entrySet()) {
            String base = listenerBaseKey(prop.getKey());
            ConfigKey key = BrokerConfigDef.DEF.configKeys().get(base == null ? prop.getKey() : base);
            if (key == null) {
                key = quotaKey(prop.getKey());
            }
            if (key != null) {
                ConfigParsing.parseOne(key, prop.getValue());
            }
        }
        if (!perBroker) {
            Set<String> perBrokerOnly = new TreeSet<>();
            for (String key : props.keySet()) {
                String base = listenerBaseKey(key);
                if (base != null ? !CLUSTER_LEVEL_LISTENER_KEYS.contains(base) : LISTENER_SECURITY_KEYS.contains(key)) {
                    perBrokerOnly.add(key);
                }
            }
            if (!perBrokerOnly.isEmpty()) {
                throw new ConfigException(perBrokerOnly.iterator().next(),
                        "Cannot update these configs at default cluster level, broker id must be specified: "
                                + scalaSet(perBrokerOnly));
            }
        }
    }

    /** {@code ssl.keystore.location} of {@code listener.name.ssl.ssl.keystore.location}; null without the prefix. */
    public static String listenerBaseKey(String key) {
        if (!key.startsWith(BrokerConfig.LISTENER_PREFIX)) {
            return null;
        }
        int dot = key.indexOf('.', BrokerConfig.LISTENER_PREFIX.length());
        return dot < 0 ? null : key.substring(dot + 1);
    }

    /** Kafka hides these in DescribeConfigs: its dynamic password keys, also with a listener prefix. */
    public static boolean isSensitive(String key) {
        return PASSWORD_KEYS.stream().anyMatch(key::endsWith);
    }

    /**
     * Kafka's checks of a change against the running broker (LogCleaner and DynamicThreadPool
     * validateReconfiguration): thread counts may at most halve or double at once.
     *
     * @return null when the change is valid, else why not (Kafka answers "Invalid dynamic configuration")
     */
    public static String reconfigurationProblem(BrokerConfig current, BrokerConfig next) {
        int cleanerNow = current.logCleanerThreads();
        int cleanerNext = next.logCleanerThreads();
        if (cleanerNext != cleanerNow) {
            if (cleanerNext < 1) {
                return "Log cleaner threads should be at least 1";
            }
            if (cleanerNext < cleanerNow / 2) {
                return "Log cleaner threads cannot be reduced to less than half the current value " + cleanerNow;
            }
            if (cleanerNext > cleanerNow * 2) {
                return "Log cleaner threads cannot be increased to more than double the current value " + cleanerNow;
            }
        }
        for (String key : new TreeSet<>(THREAD_COUNT_KEYS)) {
            String problem = threadCountProblem(key, Integer.parseInt(current.get(key)), Integer.parseInt(next.get(key)));
            if (problem != null) {
                return problem;
            }
        }
        for (Endpoint listener : current.listeners()) {
            String name = listener.listenerName();
            String problem = threadCountProblem(NETWORK_THREADS, current.networkThreads(name), next.networkThreads(name));
            if (problem != null) {
                return problem;
            }
            String prefix = BrokerConfig.LISTENER_PREFIX + name.toLowerCase(Locale.ROOT) + ".";
            // Kafka's DynamicListenerConfig: an existing listener's other prefixed configs need a restart
            if (!immutableListenerConfigs(current, prefix).equals(immutableListenerConfigs(next, prefix))) {
                return "Configs cannot be updated dynamically for existing listener ListenerName("
                        + name.toUpperCase(Locale.ROOT) + "), restart broker or create a new listener for update";
            }
        }
        return null;
    }

    private static Map<String, String> immutableListenerConfigs(BrokerConfig config, String prefix) {
        Map<String, String> out = new TreeMap<>();
        List.of(config.originals(), config.dynamicDefaultConfigs(), config.dynamicBrokerConfigs()).forEach(layer ->
                layer.forEach((k, v) -> {
                    String base = listenerBaseKey(k);
                    if (k.startsWith(prefix) && base != null && !LISTENER_SECURITY_KEYS.contains(base)
                            && !base.equals(NETWORK_THREADS)) {
                        out.put(k, v);
                    }
                }));
        return out;
    }

    /** Kafka's DynamicThreadPool and DataPlaneAcceptor rule: at least 1, within half and double at once. */
    private static String threadCountProblem(String key, int now, int value) {
        if (value == now) {
            return null;
        }
        String error = "Dynamic thread count update validation failed for " + key + "=" + value;
        if (value <= 0) {
            return error + ", value should be at least 1";
        }
        if (value < now / 2) {
            return error + ", value should be at least half the current value " + now;
        }
        if (value > now * 2) {
            return error + ", value should not be greater than double the current value " + now;
        }
        return null;
    }

    /** Kafka's messages print Scala sets: {@code Set(a, b)}. */
    static String scalaSet(Collection<String> names) {
        return names.stream().collect(Collectors.joining(", ", "Set(", ")"));
    }

}
