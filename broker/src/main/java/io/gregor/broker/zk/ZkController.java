package io.gregor.broker.zk;

import io.gregor.broker.metadata.PartitionState;
import io.gregor.storage.TopicPartition;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The controller duties of Kafka's ZooKeeper mode, run by whichever broker holds the ephemeral
 * {@code /controller}: creates partition states for new partitions (leader = first live replica, ISR = live
 * replicas), elects a new leader from the ISR when a leader's registration disappears (never an out-of-sync
 * replica: unclean election is off), drops dead brokers from ISRs, and deletes topics marked in
 * {@code /admin/delete_topics}. Brokers learn every result from the state znodes they watch.
 * <p>
 * Every write is a ZooKeeper transaction that also checks the version of {@code /controller_epoch} this
 * controller wrote when it was elected, so a controller that lost its seat without noticing is fenced.
 * All methods run on the store's single event thread.
 */
final class ZkController {
    private static final Logger log = LoggerFactory.getLogger(ZkController.class);

    private final ZkMetadataStore store;
    private boolean active;
    private int epoch;
    private int epochZkVersion;

    ZkController(ZkMetadataStore store) {
        this.store = store;
    }

    /** Tries to become the controller: create the ephemeral /controller and bump the epoch, atomically. */
    void elect() {
        if (active) {
            return;
        }
        try {
            while (true) {
                if (store.zk.exists(ZkPaths.CONTROLLER, false) != null) {
                    return; // someone holds it; its deletion triggers another attempt
                }
                Stat stat = new Stat();
                int current;
                try {
                    current = Integer.parseInt(new String(store.zk.getData(ZkPaths.CONTROLLER_EPOCH, false, stat)).trim());
                } catch (KeeperException.NoNodeException e) {
                    try {
                        store.zk.create(ZkPaths.CONTROLLER_EPOCH, "0".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                CreateMode.PERSISTENT);
                    } catch (KeeperException.NodeExistsException raced) {
                        // another broker created it
                    }
                    continue;
                }
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("version", 1);
                json.put("brokerid", store.brokerId);
                json.put("timestamp", Long.toString(store.time.milliseconds()));
                try {
                    List<org.apache.zookeeper.OpResult> results = store.zk.multi(List.of(
                            Op.create(ZkPaths.CONTROLLER, Json.bytes(json), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                    CreateMode.EPHEMERAL),
                            Op.setData(ZkPaths.CONTROLLER_EPOCH, Integer.toString(current + 1).getBytes(),
                                    stat.getVersion())));
                    epoch = current + 1;
                    epochZkVersion = ((org.apache.zookeeper.OpResult.SetDataResult) results.get(1)).getStat().getVersion();
                    active = true;
                    log.info("Broker {} is now the controller (controller epoch {})", store.brokerId, epoch);
                    onBecomeController();
                    return;
                } catch (KeeperException.NodeExistsException e) {
                    return; // lost the race
                } catch (KeeperException.BadVersionException e) {
                    // the epoch moved under us: look again
                }
            }
        } catch (KeeperException e) {
            log.warn("Controller election failed: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void resign() {
        if (active) {
            log.info("Broker {} is no longer the controller", store.brokerId);
        }
        active = false;
    }

    void onControllerChanged(int controllerId) {
        if (active && controllerId != store.brokerId) {
            resign();
        }
    }

    private void onBecomeController() throws KeeperException, InterruptedException {
        store.loadAll();
        for (String topic : store.zk.getChildren(ZkPaths.DELETE_TOPICS, false)) {
            onDeleteRequested(topic);
        }
        for (String topic : new ArrayList<>(store.assignments.keySet())) {
            onTopicChanged(topic);
        }
        onBrokersChanged();
        for (String child : store.zk.getChildren(ZkPaths.ISR_CHANGES, false)) {
            onIsrChangeNotification(ZkPaths.ISR_CHANGES + "/" + child);
        }
        onElectionRequested(ZkPaths.PREFERRED_ELECTION, false);
        onElectionRequested(ZkPaths.UNCLEAN_ELECTION, true);
        scheduleRebalanceCheck();
    }

    /**
     * An election request znode ({"version":1,"partitions":[{"topic":..,"partition":..}]}): runs the
     * elections, then deletes the request, which tells the asking broker it was handled.
     */
    void onElectionRequested(String path, boolean unclean) throws KeeperException, InterruptedException {
        if (!active) {
            return;
        }
        byte[] data;
        try {
            data = store.zk.getData(path, false, null);
        } catch (KeeperException.NoNodeException e) {
            return;
        }
        Object parts = Json.object(data).get("partitions");
        if (parts instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> m && m.get("topic") != null && m.get("partition") != null) {
                    TopicPartition tp = new TopicPartition(m.get("topic").toString(),
                            Integer.parseInt(m.get("partition").toString()));
                    if (unclean) {
                        electUnclean(tp);
                    } else {
                        electPreferred(tp);
                    }
                }
            }
        }
        try {
            store.zk.delete(path, -1);
        } catch (KeeperException.NoNodeException ignored) {
            // handled already
        }
    }

    /** Unclean election: a partition without a leader takes any live assigned replica, in sync or not. */
    boolean electUnclean(TopicPartition tp) throws KeeperException, InterruptedException {
        if (!active) {
            return false;
        }
        PartitionState s = store.states.get(tp);
        if (s == null || (s.leader() != PartitionState.NO_LEADER && store.brokers.containsKey(s.leader()))) {
            return false;
        }
        int chosen = store.replicas(tp.topic(), tp.partition()).stream().filter(store.brokers::containsKey)
                .findFirst().orElse(PartitionState.NO_LEADER);
        if (chosen == PartitionState.NO_LEADER) {
            return false;
        }
        log.warn("{}: unclean election of {}, which may miss records the ISR had", tp, chosen);
        return writeState(tp, s, chosen, List.of(chosen));
    }

    private long rebalanceIntervalMs = -1;
    private int imbalancePercentage = 10;

    /** auto.leader.rebalance.enable: check every {@code intervalMs} while this broker is the controller. */
    void enableAutoRebalance(long intervalMs, int percentage) {
        rebalanceIntervalMs = intervalMs;
        imbalancePercentage = percentage;
        if (active) {
            scheduleRebalanceCheck();
        }
    }

    private int rebalanceGeneration;

    private void scheduleRebalanceCheck() {
        if (rebalanceIntervalMs <= 0) {
            return;
        }
        int generation = ++rebalanceGeneration; // one chain of checks per term as controller
        java.util.concurrent.CompletableFuture.delayedExecutor(rebalanceIntervalMs,
                java.util.concurrent.TimeUnit.MILLISECONDS, store.events).execute(() -> {
                    if (!active || generation != rebalanceGeneration) {
                        return;
                    }
                    try {
                        rebalanceLeaders();
                    } catch (KeeperException e) {
                        log.warn("Leader rebalance failed: {}", e.toString());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } catch (RuntimeException e) {
                        log.warn("Leader rebalance failed", e);
                    }
                    scheduleRebalanceCheck();
                });
    }

    /**
     * Kafka's check: a broker whose share of not-led preferred partitions exceeds
     * leader.imbalance.per.broker.percentage gets those leaderships back (where it is alive and in sync).
     */
    void rebalanceLeaders() throws KeeperException, InterruptedException {
        Map<Integer, List<TopicPartition>> preferredOf = new LinkedHashMap<>();
        Map<Integer, List<TopicPartition>> notLeading = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(store.states.entrySet())) {
            List<Integer> replicas = store.replicas(e.getKey().topic(), e.getKey().partition());
            if (replicas.isEmpty()) {
                continue;
            }
            int preferred = replicas.get(0);
            preferredOf.computeIfAbsent(preferred, k -> new ArrayList<>()).add(e.getKey());
            if (e.getValue().leader() != preferred) {
                notLeading.computeIfAbsent(preferred, k -> new ArrayList<>()).add(e.getKey());
            }
        }
        for (Map.Entry<Integer, List<TopicPartition>> e : notLeading.entrySet()) {
            double ratio = (double) e.getValue().size() / preferredOf.get(e.getKey()).size();
            if (ratio * 100 > imbalancePercentage && store.brokers.containsKey(e.getKey())) {
                log.info("Broker {} leads {} fewer of its preferred partitions than it should; electing it",
                        e.getKey(), e.getValue().size());
                for (TopicPartition tp : e.getValue()) {
                    electPreferred(tp);
                }
            }
        }
    }

    /** New topic or new partitions: give each partition without a state its first leader. */
    void onTopicChanged(String topic) throws KeeperException, InterruptedException {
        if (!active) {
            return;
        }
        Map<Integer, List<Integer>> assignment = store.assignments.get(topic);
        if (assignment == null) {
            return;
        }
        for (Map.Entry<Integer, List<Integer>> e : assignment.entrySet()) {
            TopicPartition tp = new TopicPartition(topic, e.getKey());
            if (store.states.containsKey(tp)) {
                continue;
            }
            List<Integer> live = e.getValue().stream().filter(store.brokers::containsKey).toList();
            if (live.isEmpty()) {
                continue; // stays without a state until one of its replicas registers
            }
            List<Op> ops = new ArrayList<>();
            ops.add(Op.check(ZkPaths.CONTROLLER_EPOCH, epochZkVersion));
            String partitions = ZkPaths.partitions(topic);
            if (store.zk.exists(partitions, false) == null) {
                ops.add(Op.create(partitions, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            }
            if (store.zk.exists(ZkPaths.partition(topic, e.getKey()), false) == null) {
                ops.add(Op.create(ZkPaths.partition(topic, e.getKey()), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
            }
            ops.add(Op.create(ZkPaths.state(topic, e.getKey()),
                    ZkMetadataStore.stateJson(live.get(0), 0, live, epoch), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT));
            if (!commit(ops, "create the state of " + tp)) {
                return;
            }
        }
    }

    /** Some broker came or went: move leaderships off dead brokers, drop them from ISRs, start orphans. */
    void onBrokersChanged() throws KeeperException, InterruptedException {
        if (!active) {
            return;
        }
        Set<Integer> live = new TreeSet<>(store.brokers.keySet());
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(store.states.entrySet())) {
            TopicPartition tp = e.getKey();
            PartitionState s = e.getValue();
            List<Integer> replicas = store.replicas(tp.topic(), tp.partition());
            List<Integer> liveIsr = s.isr().stream().filter(live::contains).toList();
            int leader = s.leader();
            List<Integer> isr = s.isr();
            if (leader == PartitionState.NO_LEADER || !live.contains(leader)) {
                // the new leader: first replica in assignment order that is alive and in sync
                int chosen = replicas.stream().filter(r -> live.contains(r) && s.isr().contains(r)).findFirst()
                        .orElse(PartitionState.NO_LEADER);
                if (chosen == PartitionState.NO_LEADER && leader == PartitionState.NO_LEADER) {
                    continue; // still nobody to lead it
                }
                leader = chosen;
                // with no live in-sync replica the ISR keeps its last member, as Kafka does
                isr = chosen == PartitionState.NO_LEADER ? s.isr() : liveIsr;
            } else if (liveIsr.size() != s.isr().size()) {
                isr = liveIsr;
            } else {
                continue;
            }
            writeState(tp, s, leader, isr);
        }
        for (String topic : new ArrayList<>(store.assignments.keySet())) {
            onTopicChanged(topic);
        }
    }

    /** Preferred leader election for one partition: the first assigned replica, if alive and in sync. */
    boolean electPreferred(TopicPartition tp) throws KeeperException, InterruptedException {
        if (!active) {
            return false;
        }
        PartitionState s = store.states.get(tp);
        List<Integer> replicas = store.replicas(tp.topic(), tp.partition());
        if (s == null || replicas.isEmpty()) {
            return false;
        }
        int preferred = replicas.get(0);
        if (s.leader() == preferred || !s.isr().contains(preferred) || !store.brokers.containsKey(preferred)) {
            return false;
        }
        return writeState(tp, s, preferred, s.isr());
    }

    private boolean writeState(TopicPartition tp, PartitionState s, int leader, List<Integer> isr)
            throws KeeperException, InterruptedException {
        boolean ok = commit(List.of(Op.check(ZkPaths.CONTROLLER_EPOCH, epochZkVersion),
                Op.setData(ZkPaths.state(tp.topic(), tp.partition()),
                        ZkMetadataStore.stateJson(leader, s.leaderEpoch() + 1, isr, epoch), s.zkVersion())),
                "elect a leader for " + tp);
        if (ok) {
            log.info("{}: leader {} -> {}, leader epoch {}, ISR {}", tp, s.leader(), leader, s.leaderEpoch() + 1, isr);
        }
        return ok;
    }

    /** Deletes the topic's znodes (states, partitions, assignment, config) and the deletion mark. */
    void onDeleteRequested(String topic) throws KeeperException, InterruptedException {
        if (!active) {
            return;
        }
        List<Op> ops = new ArrayList<>();
        ops.add(Op.check(ZkPaths.CONTROLLER_EPOCH, epochZkVersion));
        String partitions = ZkPaths.partitions(topic);
        if (store.zk.exists(partitions, false) != null) {
            for (String p : store.zk.getChildren(partitions, false)) {
                String partition = partitions + "/" + p;
                for (String child : store.zk.getChildren(partition, false)) {
                    ops.add(Op.delete(partition + "/" + child, -1));
                }
                ops.add(Op.delete(partition, -1));
            }
            ops.add(Op.delete(partitions, -1));
        }
        if (store.zk.exists(ZkPaths.topic(topic), false) != null) {
            ops.add(Op.delete(ZkPaths.topic(topic), -1));
        }
        if (store.zk.exists(ZkPaths.topicConfig(topic), false) != null) {
            ops.add(Op.delete(ZkPaths.topicConfig(topic), -1));
        }
        ops.add(Op.delete(ZkPaths.deleteTopic(topic), -1));
        if (commit(ops, "delete topic " + topic)) {
            log.info("Deleted topic {}", topic);
        }
    }

    /** Brokers learn ISR changes from the state znodes they watch; the notification only needs removing. */
    void onIsrChangeNotification(String path) throws InterruptedException {
        if (!active) {
            return;
        }
        try {
            store.zk.delete(path, -1);
        } catch (KeeperException e) {
            // gone already
        }
    }

    /** Runs a fenced transaction; false (and resigns) when another controller has taken over. */
    private boolean commit(List<Op> ops, String what) throws InterruptedException {
        try {
            store.zk.multi(ops);
            return true;
        } catch (KeeperException e) {
            List<org.apache.zookeeper.OpResult> results = e.getResults();
            boolean fenced = results != null && !results.isEmpty()
                    && results.get(0) instanceof org.apache.zookeeper.OpResult.ErrorResult err
                    && err.getErr() != 0;
            if (fenced) {
                log.warn("Controller epoch {} is stale; could not {}", epoch, what);
                resign();
            } else {
                // usually a leader's ISR write raced ours: look at everything again shortly
                log.info("Could not {} ({}); retrying", what, e.code());
                java.util.concurrent.CompletableFuture.delayedExecutor(200, java.util.concurrent.TimeUnit.MILLISECONDS,
                        store.events).execute(this::recheck);
            }
            return false;
        }
    }

    private void recheck() {
        try {
            onBrokersChanged();
        } catch (KeeperException e) {
            log.warn("Controller re-check failed: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean isActive() {
        return active;
    }

    int epoch() {
        return epoch;
    }
}
