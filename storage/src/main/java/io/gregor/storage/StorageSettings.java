package io.gregor.storage;

import java.nio.file.Path;
import java.util.List;

/** Broker-level storage settings, with Kafka's names and defaults noted per field. */
public record StorageSettings(List<Path> logDirs, int brokerId,
        long retentionCheckIntervalMs,   // log.retention.check.interval.ms (300000)
        long flushSchedulerIntervalMs,   // log.flush.scheduler.interval.ms (Long.MAX_VALUE)
        long flushOffsetCheckpointIntervalMs, // log.flush.offset.checkpoint.interval.ms (60000)
        long flushStartOffsetCheckpointIntervalMs) { // log.flush.start.offset.checkpoint.interval.ms (60000)
}
