package io.gregor.broker.metrics;

import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.Partition;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.coordinator.GroupCoordinator;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Meter;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;
import java.util.function.ToIntFunction;

/**
 * The broker-wide metrics with Kafka's names whose values are read from the broker's state when read:
 * kafka.server:type=ReplicaManager, kafka.controller:type=KafkaController, kafka.server:type=KafkaServer
 * (BrokerState), and kafka.server:type=group-coordinator-metrics.
 */
public final class BrokerGauges {
    /** Kafka's BrokerState value of a running broker. */
    private static final int RUNNING = 3;

    private BrokerGauges() {
    }

    /** ReplicaManager's gauges and its ISR shrink and expand meters. */
    public static void replicaManager(BrokerMetrics m, ReplicaManager replicas, ToIntFunction<Partition> minInsyncReplicas) {
        String d = "kafka.server";
        String t = "ReplicaManager";
        m.gauge(d, t, "PartitionCount", Map.of(), () -> replicas.partitions().size());
        m.gauge(d, t, "LeaderCount", Map.of(), () -> count(replicas, p -> p.isLeader()));
        m.gauge(d, t, "UnderReplicatedPartitions", Map.of(),
                () -> count(replicas, p -> p.isLeader() && p.inSyncReplicaCount() < p.replicas().size()));
        m.gauge(d, t, "UnderMinIsrPartitionCount", Map.of(),
                () -> count(replicas, p -> p.isLeader() && p.inSyncReplicaCount() < minInsyncReplicas.applyAsInt(p)));
        m.gauge(d, t, "AtMinIsrPartitionCount", Map.of(),
                () -> count(replicas, p -> p.isLeader() && p.inSyncReplicaCount() == minInsyncReplicas.applyAsInt(p)));
        m.gauge(d, t, "OfflineReplicaCount", Map.of(),
                () -> count(replicas, p -> replicas.logDirHealth().isFailing(p.topicPartition())));
        com.yammer.metrics.core.Meter shrinks = m.meter(d, t, "IsrShrinksPerSec", "shrinks", Map.of());
        com.yammer.metrics.core.Meter expands = m.meter(d, t, "IsrExpandsPerSec", "expands", Map.of());
        replicas.isrChangeListener(shrink -> (shrink ? shrinks : expands).mark());
    }

    private static int count(ReplicaManager replicas, java.util.function.Predicate<Partition> which) {
        int n = 0;
        for (Partition p : replicas.partitions()) {
            if (which.test(p)) {
                n++;
            }
        }
        return n;
    }

    /**
     * KafkaController's gauges: 1 on the active controller (always a broker without ZooKeeper), and there the
     * partitions without a leader; 0 on the other brokers, as Kafka's.
     */
    public static void controller(BrokerMetrics m, MetadataStore store, IntSupplier controllerId, int brokerId) {
        String d = "kafka.controller";
        String t = "KafkaController";
        m.gauge(d, t, "ActiveControllerCount", Map.of(), () -> controllerId.getAsInt() == brokerId ? 1 : 0);
        m.gauge(d, t, "OfflinePartitionsCount", Map.of(), () -> {
            if (controllerId.getAsInt() != brokerId || !store.clustered()) {
                return 0;
            }
            int offline = 0;
            for (TopicMetadata topic : store.topics()) {
                for (int p = 0; p < topic.partitionCount(); p++) {
                    if (store.partitionState(topic.name(), p).map(PartitionState::leader).orElse(PartitionState.NO_LEADER)
                            == PartitionState.NO_LEADER) {
                        offline++;
                    }
                }
            }
            return offline;
        });
        m.gauge(d, t, "GlobalTopicCount", Map.of(), () -> controllerId.getAsInt() == brokerId ? store.topics().size() : 0);
        m.gauge(d, t, "GlobalPartitionCount", Map.of(), () -> controllerId.getAsInt() == brokerId
                ? store.topics().stream().mapToInt(TopicMetadata::partitionCount).sum() : 0);
        m.gauge("kafka.server", "KafkaServer", "BrokerState", Map.of(), () -> RUNNING);
    }

    /**
     * kafka.server:type=group-coordinator-metrics through Kafka's metrics classes, as Kafka reports it: the
     * classic groups and offset commits. Returns what to tell of each OffsetCommit's committed offsets.
     */
    public static IntConsumer groupCoordinator(BrokerMetrics m, GroupCoordinator groups) {
        org.apache.kafka.common.metrics.Metrics metrics = m.kafkaMetrics();
        String group = "group-coordinator-metrics";
        metrics.addMetric(metrics.metricName("group-count", group, "The total number of groups using the classic rebalance protocol.",
                Map.of("protocol", "classic")), (org.apache.kafka.common.metrics.Gauge<Integer>) (config, now) -> groups.groupCount());
        Sensor commits = metrics.sensor("OffsetCommits");
        commits.add(new Meter(metrics.metricName("offset-commit-rate", group, "The rate of committed offsets"),
                metrics.metricName("offset-commit-count", group, "The total number of committed offsets")));
        return n -> {
            if (n > 0) {
                commits.record(n);
            }
        };
    }

    /**
     * A SASL listener's re-authentications (KIP-368) as Kafka's kafka.server:type=socket-server-metrics reports
     * them (tagged by listener only: Gregor's network threads share the connections).
     */
    public static void reauthentication(BrokerMetrics m, String listener, io.gregor.wire.security.ReauthStats stats) {
        org.apache.kafka.common.metrics.Metrics metrics = m.kafkaMetrics();
        String group = "socket-server-metrics";
        Map<String, String> tags = Map.of("listener", listener);
        metrics.addMetric(metrics.metricName("successful-reauthentication-total", group,
                "The total number of successful re-authentication of connections", tags),
                (org.apache.kafka.common.metrics.Gauge<Long>) (config, now) -> stats.successful());
        metrics.addMetric(metrics.metricName("failed-reauthentication-total", group,
                "The total number of failed re-authentication of connections", tags),
                (org.apache.kafka.common.metrics.Gauge<Long>) (config, now) -> stats.failed());
        metrics.addMetric(metrics.metricName("expired-connections-killed-count", group,
                "The total number of connections disconnected because their SASL session expired", tags),
                (org.apache.kafka.common.metrics.Gauge<Long>) (config, now) -> stats.expiredConnectionsKilled());
        metrics.addMetric(metrics.metricName("reauthentication-latency-avg", group,
                "The average latency observed due to re-authentication", tags),
                (org.apache.kafka.common.metrics.Gauge<Double>) (config, now) -> stats.averageLatencyMs());
    }

    /**
     * kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent: the share of time the network threads
     * (Netty's event loops) were not running, 0..1, averaged over them, since the previous reading at least a
     * second before. Kafka measures its selector's wait; an event loop off the CPU is waiting in the same way,
     * so its CPU time tells the busy share.
     */
    public static void socketServer(BrokerMetrics m, Supplier<List<Thread>> networkThreads, org.apache.kafka.common.utils.Time time) {
        NetworkIdle idle = new NetworkIdle(networkThreads, time);
        m.gauge("kafka.network", "SocketServer", "NetworkProcessorAvgIdlePercent", Map.of(), idle::read);
    }

    private static final class NetworkIdle {
        private final Supplier<List<Thread>> threads;
        private final org.apache.kafka.common.utils.Time time;
        private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        private long lastNanos;
        private long lastCpuNanos;
        private double idle = 1.0;

        NetworkIdle(Supplier<List<Thread>> threads, org.apache.kafka.common.utils.Time time) {
            this.threads = threads;
            this.time = time;
            this.lastNanos = time.nanoseconds();
            this.lastCpuNanos = cpuNanos();
        }

        private long cpuNanos() {
            long total = 0;
            if (!mx.isThreadCpuTimeSupported()) {
                return 0;
            }
            for (Thread t : threads.get()) {
                long cpu = mx.getThreadCpuTime(t.getId());
                if (cpu > 0) {
                    total += cpu;
                }
            }
            return total;
        }

        synchronized double read() {
            long now = time.nanoseconds();
            if (now - lastNanos >= 1_000_000_000L) {
                long cpu = cpuNanos();
                int n = Math.max(1, threads.get().size());
                double busy = (cpu - lastCpuNanos) / (double) ((now - lastNanos) * n);
                idle = Math.min(1.0, Math.max(0.0, 1.0 - busy));
                lastNanos = now;
                lastCpuNanos = cpu;
            }
            return idle;
        }
    }
}
