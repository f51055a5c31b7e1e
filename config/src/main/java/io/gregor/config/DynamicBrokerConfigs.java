package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
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
    static final Set<String> THREAD_COUNT_KEYS = Set.of("num.io.threads");

    /** Every broker key Gregor lets change at runtime. */
    static final Set<String> DYNAMIC_KEYS;

    static {
        Set<String> keys = new TreeSet<>(TopicConfigs.brokerSynonymKeys());
        keys.retainAll(BrokerConfigDef.DEF.names());
        keys.addAll(CLEANER_KEYS);
        keys.addAll(THREAD_COUNT_KEYS);
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

    /**
     * Checks a dynamic entity's complete new configs as Kafka's DynamicBrokerConfig.validateConfigs does:
     * broker keys that cannot change at runtime first, then the values' types and ranges. Keys Kafka does
     * not know are allowed (custom configs for plugins), as in Kafka.
     *
     * @throws ConfigException with Kafka's message
     */
    public static void validateKeysAndValues(Map<String, String> props) {
        Set<String> nonDynamic = new TreeSet<>();
        for (String key : props.keySet()) {
            if (!isDynamic(key) && (BrokerConfigDef.DEF.names().contains(key) || key.startsWith(BrokerConfig.LISTENER_PREFIX))) {
                nonDynamic.add(key);
            }
        }
        if (!nonDynamic.isEmpty()) {
            throw new ConfigException(nonDynamic.iterator().next(),
                    "Cannot update these configs dynamically: " + scalaSet(nonDynamic));
        }
        for (Map.Entry<String, String> prop : props.entrySet()) {
            ConfigKey key = BrokerConfigDef.DEF.configKeys().get(prop.getKey());
            if (key == null) {
                key = quotaKey(prop.getKey());
            }
            if (key != null) {
                ConfigParsing.parseOne(key, prop.getValue());
            }
        }
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
        for (String key : THREAD_COUNT_KEYS) {
            int now = Integer.parseInt(current.get(key));
            int value = Integer.parseInt(next.get(key));
            if (value != now) {
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
            }
        }
        return null;
    }

    /** Kafka's messages print Scala sets: {@code Set(a, b)}. */
    static String scalaSet(Collection<String> names) {
        return names.stream().collect(Collectors.joining(", ", "Set(", ")"));
    }

}
