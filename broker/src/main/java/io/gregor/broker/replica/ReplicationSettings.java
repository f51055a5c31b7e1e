package io.gregor.broker.replica;

import io.gregor.config.BrokerConfig;

/** The replication settings a cluster broker uses, taken from the broker config (Kafka's keys and defaults). */
public record ReplicationSettings(long replicaLagTimeMaxMs, int fetchWaitMaxMs, int fetchMaxBytes,
                                  int fetchResponseMaxBytes, long fetchBackoffMs, int socketTimeoutMs,
                                  boolean controlledShutdownEnable, long controlledShutdownTimeoutMs) {

    public static ReplicationSettings from(BrokerConfig config) {
        return new ReplicationSettings(config.replicaLagTimeMaxMs(), config.replicaFetchWaitMaxMs(),
                config.replicaFetchMaxBytes(), config.replicaFetchResponseMaxBytes(), config.replicaFetchBackoffMs(),
                config.replicaSocketTimeoutMs(), config.controlledShutdownEnable(),
                // Kafka retries max.retries times with retry.backoff.ms between; one bounded wait has the same budget
                (long) Math.max(1, config.controlledShutdownMaxRetries()) * config.controlledShutdownRetryBackoffMs());
    }
}
