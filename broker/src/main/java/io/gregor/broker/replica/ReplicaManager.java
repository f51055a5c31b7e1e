package io.gregor.broker.replica;

import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ResolvedTopicConfig;
import io.gregor.config.TopicConfigs;
import io.gregor.storage.LogConfig;
import io.gregor.storage.LogManager;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.TopicPartition;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The partitions this broker hosts, keyed by topic and partition, with their logs. Topic metadata
 * changes (create, delete, more partitions, config) arrive here and are applied to the logs. In a cluster
 * it also applies partition states (leader or follower), runs one replica fetcher per leader broker and
 * checks ISRs for lagging followers.
 */
public final class ReplicaManager {
    private static final Logger log = LoggerFactory.getLogger(ReplicaManager.class);
    /** One broker never changes leader, so every partition stays in its first leader epoch. */
    private static final int LEADER_EPOCH = 0;

    /** Replaced when dynamic broker configs change the topics' defaults. */
    private volatile BrokerConfig config;
    private final LogManager logs;
    private final FetchPurgatory purgatory;
    private final Time time;
    private final LogDirHealth logDirHealth;
    private final ReplicationThrottles throttles;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    /**
     * Partitions whose log is being moved to another log dir: not hosted meanwhile, so a state change racing
     * the move cannot host them again on the log being moved; the move re-applies the latest state after.
     */
    private final Set<TopicPartition> movingLogs = ConcurrentHashMap.newKeySet();
    /** A fetcher thread: which leader it copies from, and which of num.replica.fetchers per leader it is. */
    private record FetcherKey(int leader, int fetcherId) {
    }

    private final Map<FetcherKey, ReplicaFetcher> fetchers = new ConcurrentHashMap<>();
    /** Set once by shutdown(); guarded by {@code fetchers}. */
    private boolean fetchersStopped;
    /** num.replica.fetchers, also after a dynamic change; guarded by {@code fetchers}. */
    private int fetchersPerLeader;
    private volatile boolean clustered;
    private int brokerId;
    private IsrWriter isrWriter;
    private IntFunction<BrokerInfo> brokers;
    private ScheduledExecutorService scheduler;
    private ReplicationSettings settings;
    private io.gregor.broker.security.InterBrokerSecurity interBroker;
    /** Per topic, who follows this broker's leadership of its partitions (a coordinator, of its internal topic). */
    private final Map<String, LeadershipListener> leadershipListeners = new ConcurrentHashMap<>();

    /** Told when this broker starts or stops leading a partition of the topic it listens to. */
    private volatile Partition.IsrChangeListener isrChanges = shrink -> { };

    public interface LeadershipListener {
        void becameLeader(int partition);

        void stoppedLeading(int partition);
    }

    /** Set before any partition is hosted: partitions tell it of their ISR changes. */
    public void isrChangeListener(Partition.IsrChangeListener listener) {
        this.isrChanges = listener;
    }

    public ReplicaManager(BrokerConfig config, LogManager logs, FetchPurgatory purgatory, Time time) {
        this.time = time;
        this.config = config;
        this.logs = logs;
        this.purgatory = purgatory;
        this.logDirHealth = new LogDirHealth(logs::logDirOf);
        this.throttles = new ReplicationThrottles(time);
        this.fetchersPerLeader = config.numReplicaFetchers();
    }

    /** The leader and follower replication throttles of this broker. */
    public ReplicationThrottles replicationThrottles() {
        return throttles;
    }

    /** Which log dirs appends are failing in, for the one line an operator gets per failing dir. */
    public LogDirHealth logDirHealth() {
        return logDirHealth;
    }

    /** Switches to cluster mode: partitions follow the states applied to them, lagging followers leave ISRs. */
    public void enableReplication(int brokerId, IsrWriter isrWriter, IntFunction<BrokerInfo> brokers,
                                  ScheduledExecutorService scheduler, ReplicationSettings settings,
                                  io.gregor.broker.security.InterBrokerSecurity interBroker) {
        this.interBroker = interBroker;
        this.brokerId = brokerId;
        this.isrWriter = isrWriter;
        this.brokers = brokers;
        this.scheduler = scheduler;
        this.settings = settings;
        this.clustered = true;
        long period = Math.max(10, settings.replicaLagTimeMaxMs() / 2);
        scheduler.scheduleAtFixedRate(this::shrinkIsrs, period, period, TimeUnit.MILLISECONDS);
    }

    /** Registers the one listener of {@code topic}'s leadership changes (events of other topics are not its). */
    public void addLeadershipListener(String topic, LeadershipListener listener) {
        if (leadershipListeners.putIfAbsent(topic, listener) != null) {
            throw new IllegalStateException("Leadership of " + topic + " is already followed");
        }
    }

    private void becameLeader(TopicPartition tp) {
        LeadershipListener listener = leadershipListeners.get(tp.topic());
        if (listener != null) {
            listener.becameLeader(tp.partition());
        }
    }

    private void stoppedLeading(TopicPartition tp) {
        LeadershipListener listener = leadershipListeners.get(tp.topic());
        if (listener != null) {
            listener.stoppedLeading(tp.partition());
        }
    }

    public Optional<Partition> partition(String topic, int partition) {
        return Optional.ofNullable(partitions.get(new TopicPartition(topic, partition)));
    }

    public Collection<Partition> partitions() {
        return partitions.values();
    }

    /** Opens (or creates) the logs of every partition of the topic. */
    public void hostTopic(TopicMetadata topic) {
        hostTopic(topic, p -> List.of(brokerId));
    }

    /** In a cluster: opens the logs of the partitions this broker is a replica of. */
    public void hostTopic(TopicMetadata topic, IntFunction<List<Integer>> replicasOf) {
        LogConfig logConfig = logConfig(config, topic.configs());
        for (int p = 0; p < topic.partitionCount(); p++) {
            if (clustered && !replicasOf.apply(p).contains(brokerId)) {
                continue;
            }
            TopicPartition tp = new TopicPartition(topic.name(), p);
            partitions.computeIfAbsent(tp, k -> {
                if (movingLogs.contains(k)) {
                    return null; // hosted again, on the moved log, when the move is done
                }
                PartitionLog log = logs.getOrCreate(k, topic.topicId().toString(), logConfig);
                Partition created = clustered
                        ? new Partition(k, topic.topicId(), log, purgatory, brokerId, isrWriter, scheduler, time)
                        : new Partition(k, topic.topicId(), log, purgatory, LEADER_EPOCH);
                created.isrChangeListener(isrChanges);
                return created;
            });
        }
    }

    /** Applies a partition state from the cluster: lead it, or follow its leader. */
    public void applyState(TopicMetadata topic, int p, PartitionState state, List<Integer> replicas) {
        if (!replicas.contains(brokerId)) {
            if (replicas.isEmpty()) {
                return;
            }
            // reassigned away from this broker (Kafka's StopReplica with delete): stop and delete its copy
            removePartition(new TopicPartition(topic.name(), p), true);
            return;
        }
        // this partition only: the others of the topic have their own replicas (and their own state)
        hostTopic(topic, i -> i == p ? replicas : List.of());
        TopicPartition tp = new TopicPartition(topic.name(), p);
        Partition partition = partitions.get(tp);
        if (partition == null) {
            return;
        }
        if (state.leader() == brokerId) {
            stopFetching(tp);
            if (partition.isLeader() && partition.leaderEpoch() == state.leaderEpoch()) {
                partition.updateState(state);
            } else {
                boolean wasLeader = partition.isLeader();
                partition.makeLeader(state, replicas);
                if (!wasLeader) {
                    becameLeader(tp); // a new epoch of a leadership kept (a reassignment's) is no new leadership
                }
            }
        } else {
            boolean wasLeader = partition.isLeader();
            partition.makeFollower(state, replicas);
            if (wasLeader) {
                stoppedLeading(tp);
            }
            stopFetching(tp);
            if (state.leader() >= 0) {
                synchronized (fetchers) {
                    // a state change the cluster sends while this broker shuts down starts no fetcher
                    if (!fetchersStopped) {
                        follow(partition, state.leader());
                    }
                }
            }
        }
    }

    /** Hands the partition to its fetcher from {@code leader} (Kafka's hash of topic and partition); holds {@code fetchers}. */
    private void follow(Partition partition, int leader) {
        TopicPartition tp = partition.topicPartition();
        int fetcherId = Utils.abs(31 * tp.topic().hashCode() + tp.partition()) % fetchersPerLeader;
        fetchers.computeIfAbsent(new FetcherKey(leader, fetcherId), key -> {
            ReplicaFetcher f = new ReplicaFetcher(brokerId, key.fetcherId(), key.leader(), brokers, settings, interBroker,
                    time, throttles);
            f.start();
            return f;
        }).add(partition);
    }

    /**
     * num.replica.fetchers changed at runtime (Kafka's resizeThreadPool): every followed partition is handed
     * to its fetcher under the new count, where its copying goes on from its log end; fetchers left without
     * partitions stop.
     */
    public void resizeFetchers(int perLeader) {
        List<ReplicaFetcher> idle = new ArrayList<>();
        synchronized (fetchers) {
            if (perLeader == fetchersPerLeader || fetchersStopped) {
                fetchersPerLeader = perLeader;
                return;
            }
            log.info("Resizing the replica fetchers from {} to {} per leader (num.replica.fetchers)", fetchersPerLeader,
                    perLeader);
            fetchersPerLeader = perLeader;
            Map<Partition, Integer> moving = new java.util.LinkedHashMap<>();
            fetchers.forEach((key, fetcher) -> fetcher.removeAll().forEach(p -> moving.put(p, key.leader())));
            moving.forEach(this::follow);
            fetchers.values().removeIf(f -> {
                if (f.isIdle()) {
                    idle.add(f);
                    return true;
                }
                return false;
            });
        }
        idle.forEach(ReplicaFetcher::shutdown);
    }

    /** The running replica fetcher threads. */
    public List<Thread> fetcherThreads() {
        return new ArrayList<>(fetchers.values());
    }

    private void stopFetching(TopicPartition tp) {
        for (ReplicaFetcher f : fetchers.values()) {
            f.remove(tp);
        }
    }

    private void shrinkIsrs() {
        long now = time.milliseconds();
        for (Partition p : partitions.values()) {
            try {
                p.maybeShrinkIsr(now, settings.replicaLagTimeMaxMs());
            } catch (RuntimeException e) {
                log.warn("ISR check of {} failed", p.topicPartition(), e);
            }
        }
    }

    public void removeTopic(TopicMetadata topic) {
        for (int p = 0; p < topic.partitionCount(); p++) {
            removePartition(new TopicPartition(topic.name(), p), false);
        }
    }

    /** In a cluster: drops the hosted partitions of {@code topic} whose replicas no longer include this broker. */
    public void removeUnassigned(TopicMetadata topic, IntFunction<List<Integer>> replicasOf) {
        if (!clustered) {
            return;
        }
        for (int p = 0; p < topic.partitionCount(); p++) {
            List<Integer> assigned = replicasOf.apply(p);
            if (!assigned.isEmpty() && !assigned.contains(brokerId)) {
                removePartition(new TopicPartition(topic.name(), p), true);
            }
        }
    }

    private void removePartition(TopicPartition tp, boolean reassigned) {
        stopFetching(tp);
        Partition removed = partitions.remove(tp);
        if (removed != null) {
            boolean wasLeader = removed.isLeader();
            removed.makeFollower(new PartitionState(-1, removed.leaderEpoch(), List.of(), 0, -1), List.of());
            if (wasLeader) {
                stoppedLeading(tp);
            }
            logs.delete(tp);
            purgatory.wakeAll(tp);
            if (reassigned) {
                log.info("{}: no longer a replica here (reassigned); deleted its log", tp);
            }
        }
    }

    public void updateConfig(TopicMetadata topic) {
        LogConfig logConfig = logConfig(config, topic.configs());
        for (int p = 0; p < topic.partitionCount(); p++) {
            Partition partition = partitions.get(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(logConfig);
            }
        }
    }

    /**
     * AlterReplicaLogDirs: moves a hosted partition's log to another log dir. The partition is taken out
     * while its log is copied (clients get the not-hosted error and retry), then hosted again on the moved
     * log; in a cluster {@code reapplyState} then gives it its leader or follower role again.
     *
     * @throws org.apache.kafka.common.errors.ReplicaNotAvailableException if this broker does not host it
     */
    public synchronized void moveLog(TopicMetadata topic, int p, java.nio.file.Path targetDir, Runnable reapplyState) {
        TopicPartition tp = new TopicPartition(topic.name(), p);
        Partition current = partitions.get(tp);
        if (current == null) {
            throw new org.apache.kafka.common.errors.ReplicaNotAvailableException(
                    "The replica of " + topic.name() + "-" + p + " is not on this broker");
        }
        if (targetDir.equals(logs.logDirOf(tp))) {
            return;
        }
        movingLogs.add(tp);
        stopFetching(tp);
        partitions.remove(tp);
        boolean wasLeader = current.isLeader();
        if (wasLeader) {
            stoppedLeading(tp);
        }
        purgatory.wakeAll(tp);
        try {
            logs.moveLog(tp, targetDir);
        } finally {
            movingLogs.remove(tp);
            // hosted again in any case: on the moved log, or on the old one if the copy failed before the switch
            if (clustered) {
                reapplyState.run();
            } else {
                hostTopic(topic);
                if (wasLeader) {
                    becameLeader(tp);
                }
            }
        }
    }

    /** Stops the replica fetchers (before the logs close). */
    public void shutdown() {
        List<ReplicaFetcher> running;
        synchronized (fetchers) {
            fetchersStopped = true;
            running = new ArrayList<>(fetchers.values());
            fetchers.clear();
        }
        for (ReplicaFetcher f : running) {
            f.shutdown();
        }
        for (ReplicaFetcher f : running) {
            try {
                f.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** New broker defaults (dynamic broker configs): the logs of topics without their own overrides follow. */
    public void reconfigure(BrokerConfig next, java.util.Collection<TopicMetadata> topics) {
        this.config = next;
        for (TopicMetadata topic : topics) {
            updateConfig(topic);
        }
    }

    /** The log config of a topic: its overrides over the broker's defaults. */
    public static LogConfig logConfig(BrokerConfig config, Map<String, String> topicOverrides) {
        ResolvedTopicConfig t = TopicConfigs.resolve(config, topicOverrides);
        return new LogConfig(t.segmentBytes(), t.segmentMs(), t.retentionMs(), t.retentionBytes(),
                t.indexIntervalBytes(), t.segmentIndexBytes(), t.flushMessages(), t.flushMs(),
                t.maxMessageBytes(), t.logAppendTime(), t.fileDeleteDelayMs(),
                t.cleanupPolicy().contains("compact"), t.cleanupPolicy().contains("delete"),
                t.deleteRetentionMs(), t.minCleanableDirtyRatio(), t.minCompactionLagMs(), t.maxCompactionLagMs(),
                t.messageTimestampBeforeMaxMs(), t.messageTimestampAfterMaxMs());
    }
}
