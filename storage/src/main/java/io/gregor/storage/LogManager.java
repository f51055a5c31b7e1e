package io.gregor.storage;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;

/**
 * All partition logs under the broker's log dirs. Loads existing logs at start (recovering those not
 * cleanly shut down), creates and deletes logs, and runs background retention, roll, flush and
 * checkpoint work. The concrete class lives in this package: {@code FileLogManager}.
 */
public interface LogManager extends AutoCloseable {
    /** Logs found on disk at start. {@code configFor} gives each topic's resolved config. */
    Collection<PartitionLog> loadedLogs();

    Optional<PartitionLog> get(TopicPartition tp);

    /** Creates the log (in the log dir with the fewest partitions) or returns the existing one. */
    PartitionLog getOrCreate(TopicPartition tp, String topicId, LogConfig config);

    /** Removes the log: renamed to {@code <dir>.<uuid>-delete} at once, files removed in the background. */
    void delete(TopicPartition tp);

    /**
     * Moves the partition's log to another of the log dirs (AlterReplicaLogDirs); returns the log to use
     * from now on (the old object is closed).
     */
    PartitionLog moveLog(TopicPartition tp, Path targetDir);

    /** The log dir holding this partition. */
    Path logDirOf(TopicPartition tp);

    Collection<Path> logDirs();

    Collection<PartitionLog> all();

    /** Flushes, writes the checkpoints and the clean-shutdown marker, closes files. */
    @Override
    void close();

    /** The config each loaded topic should use; the broker supplies it before loading. */
    interface TopicConfigResolver extends Function<String, LogConfig> {
    }
}
