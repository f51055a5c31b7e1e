package io.gregor.coordinator.share;

import org.apache.kafka.common.errors.InvalidConfigurationException;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each share group's own configs (Kafka's GROUP config resource: {@code share.auto.offset.reset},
 * {@code share.record.lock.duration.ms}, ...), checked against the broker's bounds; a group without an
 * override gets the broker default. Kept in memory on this broker.
 */
public final class ShareGroupConfigs {
    public static final String AUTO_OFFSET_RESET = "share.auto.offset.reset";
    public static final String RECORD_LOCK_DURATION_MS = "share.record.lock.duration.ms";
    public static final String DELIVERY_COUNT_LIMIT = "share.delivery.count.limit";
    public static final String PARTITION_MAX_RECORD_LOCKS = "share.partition.max.record.locks";
    public static final String SESSION_TIMEOUT_MS = "share.session.timeout.ms";
    public static final String HEARTBEAT_INTERVAL_MS = "share.heartbeat.interval.ms";
    public static final String ISOLATION_LEVEL = "share.isolation.level";
    public static final Set<String> KEYS = Set.of(AUTO_OFFSET_RESET, RECORD_LOCK_DURATION_MS, DELIVERY_COUNT_LIMIT,
            PARTITION_MAX_RECORD_LOCKS, SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, ISOLATION_LEVEL);

    private final ShareGroupConfig defaults;
    private final Map<String, Map<String, String>> overrides = new ConcurrentHashMap<>();

    public ShareGroupConfigs(ShareGroupConfig defaults) {
        this.defaults = defaults;
    }

    /** Every share key of {@code groupId} with its value: the group's override or the broker default. */
    public Map<String, String> describe(String groupId) {
        Map<String, String> out = new TreeMap<>();
        out.put(AUTO_OFFSET_RESET, autoOffsetReset(groupId));
        out.put(RECORD_LOCK_DURATION_MS, Integer.toString(recordLockDurationMs(groupId)));
        out.put(DELIVERY_COUNT_LIMIT, Integer.toString(deliveryCountLimit(groupId)));
        out.put(PARTITION_MAX_RECORD_LOCKS, Integer.toString(partitionMaxRecordLocks(groupId)));
        out.put(SESSION_TIMEOUT_MS, Integer.toString(sessionTimeoutMs(groupId)));
        out.put(HEARTBEAT_INTERVAL_MS, Integer.toString(heartbeatIntervalMs(groupId)));
        out.put(ISOLATION_LEVEL, value(groupId, ISOLATION_LEVEL, "read_uncommitted"));
        return out;
    }

    public Map<String, String> overrides(String groupId) {
        return Map.copyOf(overrides.getOrDefault(groupId, Map.of()));
    }

    /**
     * Replaces the group's overrides after checking every one (unknown key or value out of bounds:
     * INVALID_CONFIG naming the key); with {@code validateOnly} nothing changes.
     */
    public void set(String groupId, Map<String, String> configs, boolean validateOnly) {
        for (Map.Entry<String, String> e : configs.entrySet()) {
            validate(e.getKey(), e.getValue());
        }
        if (!validateOnly) {
            if (configs.isEmpty()) {
                overrides.remove(groupId);
            } else {
                overrides.put(groupId, Map.copyOf(configs));
            }
        }
    }

    public void forget(String groupId) {
        overrides.remove(groupId);
    }

    private void validate(String key, String value) {
        switch (key) {
            case AUTO_OFFSET_RESET -> parseReset(value);
            case RECORD_LOCK_DURATION_MS -> bounded(key, value, defaults.minRecordLockDurationMs(),
                    defaults.maxRecordLockDurationMs());
            case DELIVERY_COUNT_LIMIT -> bounded(key, value, defaults.minDeliveryCountLimit(),
                    defaults.maxDeliveryCountLimit());
            case PARTITION_MAX_RECORD_LOCKS -> bounded(key, value, defaults.minPartitionMaxRecordLocks(),
                    defaults.maxPartitionMaxRecordLocks());
            case SESSION_TIMEOUT_MS -> bounded(key, value, defaults.minSessionTimeoutMs(), defaults.maxSessionTimeoutMs());
            case HEARTBEAT_INTERVAL_MS -> bounded(key, value, defaults.minHeartbeatIntervalMs(),
                    defaults.maxHeartbeatIntervalMs());
            case ISOLATION_LEVEL -> {
                String v = value.toLowerCase(Locale.ROOT);
                if (!v.equals("read_uncommitted") && !v.equals("read_committed")) {
                    throw new InvalidConfigurationException("Invalid value " + value + " for configuration " + key
                            + ": String must be one of: read_committed, read_uncommitted");
                }
            }
            default -> throw new InvalidConfigurationException("Unknown group config name: " + key);
        }
    }

    private static void bounded(String key, String value, int min, int max) {
        int v;
        try {
            v = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidConfigurationException("Invalid value " + value + " for configuration " + key
                    + ": Not a number of type INT");
        }
        if (v < min || v > max) {
            throw new InvalidConfigurationException("Invalid value " + value + " for configuration " + key
                    + ": Value must be in the range [" + min + ", " + max + "]");
        }
    }

    /** earliest, latest, or by_duration:&lt;ISO-8601 duration&gt; (how far back from now to start). */
    public static Duration parseReset(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("earliest")) {
            return null;
        }
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
                // answered below
            }
        }
        throw new InvalidConfigurationException("Invalid value " + value + " for configuration " + AUTO_OFFSET_RESET
                + ": must be earliest, latest or by_duration:<ISO-8601 duration>");
    }

    private String value(String groupId, String key, String fallback) {
        return overrides.getOrDefault(groupId, Map.of()).getOrDefault(key, fallback);
    }

    private int intValue(String groupId, String key, int fallback) {
        String v = overrides.getOrDefault(groupId, Map.of()).get(key);
        return v == null ? fallback : Integer.parseInt(v.trim());
    }

    public String autoOffsetReset(String groupId) {
        return value(groupId, AUTO_OFFSET_RESET, "latest");
    }

    public int recordLockDurationMs(String groupId) {
        return intValue(groupId, RECORD_LOCK_DURATION_MS, defaults.recordLockDurationMs());
    }

    public int deliveryCountLimit(String groupId) {
        return intValue(groupId, DELIVERY_COUNT_LIMIT, defaults.deliveryCountLimit());
    }

    public int partitionMaxRecordLocks(String groupId) {
        return intValue(groupId, PARTITION_MAX_RECORD_LOCKS, defaults.partitionMaxRecordLocks());
    }

    public int sessionTimeoutMs(String groupId) {
        return intValue(groupId, SESSION_TIMEOUT_MS, defaults.sessionTimeoutMs());
    }

    public int heartbeatIntervalMs(String groupId) {
        return intValue(groupId, HEARTBEAT_INTERVAL_MS, defaults.heartbeatIntervalMs());
    }
}
