package io.gregor.wire.security;

import java.util.concurrent.atomic.LongAdder;

/** A listener's re-authentication counts (KIP-368), for Kafka's socket-server-metrics of the same names. */
public final class ReauthStats {
    final LongAdder successful = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder expiredConnectionsKilled = new LongAdder();
    final LongAdder latencyNanos = new LongAdder();

    /** successful-reauthentication-total */
    public long successful() {
        return successful.sum();
    }

    /** failed-reauthentication-total */
    public long failed() {
        return failed.sum();
    }

    /** expired-connections-killed-count */
    public long expiredConnectionsKilled() {
        return expiredConnectionsKilled.sum();
    }

    /** reauthentication-latency-avg, in ms (0 before the first) */
    public double averageLatencyMs() {
        long n = successful.sum();
        return n == 0 ? 0 : latencyNanos.sum() / 1e6 / n;
    }
}
