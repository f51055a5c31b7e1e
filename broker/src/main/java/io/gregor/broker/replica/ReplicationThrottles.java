package io.gregor.broker.replica;

import org.apache.kafka.common.utils.Time;

import java.util.function.BiFunction;

/**
 * Kafka's replication throttles, which {@code kafka-reassign-partitions --throttle} sets: the broker's
 * {@code leader.replication.throttled.rate} and {@code follower.replication.throttled.rate} (bytes/s, dynamic
 * broker configs, per broker or as the cluster default) limit the replication of the replicas a topic lists in
 * {@code leader.replication.throttled.replicas} / {@code follower.replication.throttled.replicas}
 * ({@code partition:broker} pairs or {@code *}). The rates come from the dynamic broker configs. Replicas in the ISR are never throttled, as in Kafka. The leader
 * answers a throttled follower's fetch without records while its rate is exceeded; the follower leaves a
 * throttled partition out of its fetches while its own is.
 */
public final class ReplicationThrottles {
    private static final String LEADER_REPLICAS = "leader.replication.throttled.replicas";
    private static final String FOLLOWER_REPLICAS = "follower.replication.throttled.replicas";

    private final Time time;
    private final Quota leader;
    private final Quota follower;
    /** (topic, key) to the topic's override, null without one. */
    private volatile BiFunction<String, String, String> topicConfig = (t, k) -> null;

    public ReplicationThrottles(Time time) {
        this.time = time;
        this.leader = new Quota();
        this.follower = new Quota();
    }

    /** Where topic overrides are read. */
    public void topicConfigs(BiFunction<String, String, String> lookup) {
        this.topicConfig = lookup;
    }

    /**
     * The rates this broker runs with, in bytes/s (Long.MAX_VALUE: unthrottled): its dynamic
     * {@code leader.replication.throttled.rate} / {@code follower.replication.throttled.rate}, else the cluster default's.
     */
    public void rates(long leaderBytesPerSec, long followerBytesPerSec) {
        leader.limit = leaderBytesPerSec;
        follower.limit = followerBytesPerSec;
    }

    /** Leader side: should this fetch by {@code followerId} get no records now? */
    public boolean leaderShouldThrottle(Partition p, int followerId, int localBrokerId) {
        return leader.limited() && !p.isr().contains(followerId)
                && listed(p, LEADER_REPLICAS, localBrokerId) && leader.exceeded(time.milliseconds());
    }

    /** Leader side: bytes sent to a follower of a throttled replica. */
    public void recordLeader(Partition p, int followerId, int localBrokerId, long bytes) {
        if (bytes > 0 && leader.limited() && !p.isr().contains(followerId) && listed(p, LEADER_REPLICAS, localBrokerId)) {
            leader.record(bytes, time.milliseconds());
        }
    }

    /** Follower side: leave this partition out of the next fetch? */
    boolean followerShouldThrottle(Partition p, int localBrokerId) {
        return follower.limited() && !p.isr().contains(localBrokerId)
                && listed(p, FOLLOWER_REPLICAS, localBrokerId) && follower.exceeded(time.milliseconds());
    }

    void recordFollower(Partition p, int localBrokerId, long bytes) {
        if (bytes > 0 && follower.limited() && !p.isr().contains(localBrokerId)
                && listed(p, FOLLOWER_REPLICAS, localBrokerId)) {
            follower.record(bytes, time.milliseconds());
        }
    }

    private boolean listed(Partition p, String key, int brokerId) {
        String list = topicConfig.apply(p.topicPartition().topic(), key);
        if (list == null || list.isBlank()) {
            return false;
        }
        if (list.trim().equals("*")) {
            return true;
        }
        String wanted = p.topicPartition().partition() + ":" + brokerId;
        for (String entry : list.split(",")) {
            if (entry.trim().equals(wanted)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A byte rate over Kafka's replication quota window: 11 samples of one second
     * ({@code replication.quota.window.num}, {@code replication.quota.window.size.seconds}).
     */
    private static final class Quota {
        private static final int SAMPLES = 11;
        private static final long SAMPLE_MS = 1000;
        volatile long limit = Long.MAX_VALUE;
        private final long[] bytes = new long[SAMPLES];
        private final long[] second = new long[SAMPLES];

        boolean limited() {
            return limit != Long.MAX_VALUE;
        }

        synchronized void record(long n, long nowMs) {
            long s = nowMs / SAMPLE_MS;
            int i = (int) (s % SAMPLES);
            if (second[i] != s) {
                second[i] = s;
                bytes[i] = 0;
            }
            bytes[i] += n;
        }

        synchronized boolean exceeded(long nowMs) {
            long s = nowMs / SAMPLE_MS;
            long total = 0;
            long oldest = s;
            for (int i = 0; i < SAMPLES; i++) {
                if (bytes[i] > 0 && s - second[i] < SAMPLES) {
                    total += bytes[i];
                    oldest = Math.min(oldest, second[i]);
                }
            }
            // as Kafka's Rate: the elapsed time counts at least the window less one sample
            long elapsedMs = Math.max(nowMs - oldest * SAMPLE_MS, (SAMPLES - 1) * SAMPLE_MS);
            return total * 1000.0 / elapsedMs > limit;
        }
    }
}
