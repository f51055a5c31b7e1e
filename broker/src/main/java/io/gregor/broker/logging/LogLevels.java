package io.gregor.broker.logging;

import org.slf4j.event.Level;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Which levels each logger logs: the threshold set for the longest dotted prefix of its name, else the
 * root's. Thresholds are SLF4J's level numbers (TRACE 0 ... ERROR 40); OFF is above them all.
 */
final class LogLevels {
    static final String PROPERTY = "gregor.log.level";
    static final int OFF = Integer.MAX_VALUE;

    private final int root;
    private final Map<String, Integer> byPrefix;

    LogLevels(int root, Map<String, Integer> byPrefix) {
        this.root = root;
        this.byPrefix = Map.copyOf(byPrefix);
    }

    static LogLevels fromSystemProperties() {
        return from(System.getProperties());
    }

    /** INFO, Netty and the Kafka client library at WARN, then the valid {@code gregor.log.level[.NAME]} entries. */
    static LogLevels from(Properties properties) {
        Map<String, Integer> prefixes = new HashMap<>();
        // the client library's INFO lines are about its own connections and would drown the broker's
        prefixes.put("io.netty", Level.WARN.toInt());
        prefixes.put("org.apache.kafka", Level.WARN.toInt());
        int root = Level.INFO.toInt();
        for (String key : properties.stringPropertyNames()) {
            if (!key.equals(PROPERTY) && !key.startsWith(PROPERTY + ".")) {
                continue;
            }
            Integer threshold = parse(key, properties.getProperty(key));
            if (threshold == null) {
                continue;
            }
            if (key.equals(PROPERTY)) {
                root = threshold;
            } else {
                prefixes.put(key.substring(PROPERTY.length() + 1), threshold);
            }
        }
        return new LogLevels(root, prefixes);
    }

    int root() {
        return root;
    }

    /** Names given their own threshold (by -Dgregor.log.level.NAME or at runtime). */
    Map<String, Integer> byPrefix() {
        return byPrefix;
    }

    /** These levels with {@code name} (or the root, for "root") at {@code threshold}; null threshold unsets a name. */
    LogLevels with(String name, Integer threshold) {
        if (name.equals(BrokerLoggers.ROOT_LOGGER)) {
            return new LogLevels(threshold, byPrefix);
        }
        Map<String, Integer> next = new HashMap<>(byPrefix);
        if (threshold == null) {
            next.remove(name);
        } else {
            next.put(name, threshold);
        }
        return new LogLevels(root, next);
    }

    /** The smallest level number {@code loggerName} logs. */
    int thresholdOf(String loggerName) {
        String name = loggerName;
        while (true) {
            Integer threshold = byPrefix.get(name);
            if (threshold != null) {
                return threshold;
            }
            int dot = name.lastIndexOf('.');
            if (dot < 0) {
                return root;
            }
            name = name.substring(0, dot);
        }
    }

    /** A level name or "off"; anything else is null, and said on stderr (logging cannot log it yet). */
    static Integer parse(String key, String value) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        if (v.equals("OFF")) {
            return OFF;
        }
        for (Level level : Level.values()) {
            if (level.name().equals(v)) {
                return level.toInt();
            }
        }
        System.err.println("Invalid value " + value + " for " + key
                + " (expected trace, debug, info, warn, error or off); it is ignored");
        return null;
    }
}
