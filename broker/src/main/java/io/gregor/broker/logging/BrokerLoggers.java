package io.gregor.broker.logging;

import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The log levels of this JVM's loggers, as Kafka's BROKER_LOGGER resource shows and changes them
 * ({@code kafka-configs --entity-type broker-loggers}). Levels belong to the JVM's logging backend, so
 * brokers sharing a JVM share them, as Kafka's log4j levels are. Only Gregor's own backend
 * ({@link ConsoleLoggingProvider}, what {@code gregor-server-start} runs) can change them; an embedding
 * application's backend is left alone.
 */
public final class BrokerLoggers {
    /** Kafka's name of the root logger. */
    public static final String ROOT_LOGGER = "root";

    private final ConsoleLoggerFactory factory;

    private BrokerLoggers(ConsoleLoggerFactory factory) {
        this.factory = factory;
    }

    /** The levels of the backend SLF4J bound in this JVM. */
    public static BrokerLoggers ofThisJvm() {
        ILoggerFactory bound = LoggerFactory.getILoggerFactory();
        return new BrokerLoggers(bound instanceof ConsoleLoggerFactory c ? c : null);
    }

    /** False when another logging backend than Gregor's is bound: levels can then neither be listed nor changed. */
    public boolean controllable() {
        return factory != null;
    }

    /** The backend, for the message that says levels cannot be changed. */
    public String backend() {
        return LoggerFactory.getILoggerFactory().getClass().getName();
    }

    /** "root" first, then every logger created so far and every name given a level, with the level each logs at. */
    public Map<String, String> levels() {
        Map<String, String> out = new LinkedHashMap<>();
        if (factory == null) {
            return out;
        }
        out.put(ROOT_LOGGER, levelName(factory.rootThreshold()));
        factory.thresholds().forEach((name, threshold) -> out.put(name, levelName(threshold)));
        return out;
    }

    /** The root, a logger created so far, a name given a level, or a package of created loggers. */
    public boolean exists(String name) {
        return factory != null && (name.equals(ROOT_LOGGER) || factory.exists(name));
    }

    /** Sets a level Kafka accepts (FATAL, ERROR, WARN, INFO, DEBUG, TRACE); FATAL logs as ERROR. */
    public void setLevel(String name, String level) {
        String upper = level.toUpperCase(Locale.ROOT);
        int threshold = upper.equals("FATAL") ? Level.ERROR.toInt() : Level.valueOf(upper).toInt();
        factory.threshold(name, threshold);
    }

    /** The logger inherits its parent's level again. */
    public void unsetLevel(String name) {
        factory.threshold(name, null);
    }

    private static String levelName(int threshold) {
        if (threshold == LogLevels.OFF) {
            return "OFF";
        }
        for (Level level : Level.values()) {
            if (level.toInt() == threshold) {
                return level.name();
            }
        }
        return Integer.toString(threshold);
    }
}
