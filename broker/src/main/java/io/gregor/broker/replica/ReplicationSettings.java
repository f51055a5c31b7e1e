package io.gregor.broker.replica;

import io.gregor.config.BrokerConfig;

import java.util.Map;

/**
 * Kafka's replication settings with Kafka's defaults, read from the broker's properties (the config
 * module does not define them yet, so they arrive among the originals).
 */
public record ReplicationSettings(long replicaLagTimeMaxMs, int fetchWaitMaxMs, int fetchMaxBytes,
                                  int fetchResponseMaxBytes, long fetchBackoffMs, int socketTimeoutMs,
                                  boolean controlledShutdownEnable, long controlledShutdownTimeoutMs) {

    public static ReplicationSettings from(BrokerConfig config) {
        Map<String, String> p = config.originals();
        return new ReplicationSettings(
                Long.parseLong(p.getOrDefault("replica.lag.time.max.ms", "30000").trim()),
                Integer.parseInt(p.getOrDefault("replica.fetch.wait.max.ms", "500").trim()),
                Integer.parseInt(p.getOrDefault("replica.fetch.max.bytes", "1048576").trim()),
                Integer.parseInt(p.getOrDefault("replica.fetch.response.max.bytes", "10485760").trim()),
                Long.parseLong(p.getOrDefault("replica.fetch.backoff.ms", "1000").trim()),
                Integer.parseInt(p.getOrDefault("replica.socket.timeout.ms", "30000").trim()),
                Boolean.parseBoolean(p.getOrDefault("controlled.shutdown.enable", "true").trim()),
                // Kafka retries 3 times with 5 s backoff; one bounded wait is the same budget
                Long.parseLong(p.getOrDefault("controlled.shutdown.timeout.ms", "15000").trim()));
    }
}
