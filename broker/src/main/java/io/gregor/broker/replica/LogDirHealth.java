package io.gregor.broker.replica;

import io.gregor.storage.TopicPartition;
import io.gregor.storage.errors.KafkaStorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Which log dirs cannot be written right now (a full disk, a read-only mount), so the operator hears of
 * it once per dir at ERROR when appends start failing, and once at INFO when they succeed again, instead
 * of one line per refused produce request (those get KAFKA_STORAGE_ERROR).
 */
public final class LogDirHealth {
    private final Function<TopicPartition, Path> dirOf;
    private final Logger log;
    /** The dirs whose last append failed, with what it failed with. */
    private final Map<Path, String> failing = new ConcurrentHashMap<>();

    public LogDirHealth(Function<TopicPartition, Path> dirOf) {
        this(dirOf, LoggerFactory.getLogger(LogDirHealth.class));
    }

    LogDirHealth(Function<TopicPartition, Path> dirOf, Logger log) {
        this.dirOf = dirOf;
        this.log = log;
    }

    /**
     * An append to {@code tp} failed with {@code error}; a storage error caused by I/O (not, say, a log
     * deleted meanwhile) marks its dir as failing.
     */
    public void appendFailed(TopicPartition tp, Throwable error) {
        Throwable root = rootCause(error);
        if (!(error instanceof KafkaStorageException) || !(root instanceof IOException)) {
            return;
        }
        Path dir = dirOf.apply(tp);
        if (dir == null) {
            return; // the log is gone
        }
        String cause = root.toString();
        if (failing.putIfAbsent(dir, cause) == null) {
            log.error("Log dir {} cannot be written ({}; first seen appending to {}): appends to its partitions get "
                    + "KAFKA_STORAGE_ERROR until it can", dir, cause, tp);
        }
    }

    /** An append to {@code tp} succeeded: its dir, if it was failing, has recovered. */
    public void appendSucceeded(TopicPartition tp) {
        if (failing.isEmpty()) {
            return; // the usual case: no lookup on the produce path
        }
        Path dir = dirOf.apply(tp);
        String cause = dir == null ? null : failing.remove(dir);
        if (cause != null) {
            log.info("Log dir {} can be written again (it failed with {}); appends to its partitions succeed", dir, cause);
        }
    }

    public boolean isFailing(Path dir) {
        return failing.containsKey(dir);
    }

    /** Whether the partition's log dir is failing appends now (its replica is offline, in Kafka's terms). */
    public boolean isFailing(TopicPartition tp) {
        if (failing.isEmpty()) {
            return false;
        }
        Path dir = dirOf.apply(tp);
        return dir != null && failing.containsKey(dir);
    }

    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }
}
