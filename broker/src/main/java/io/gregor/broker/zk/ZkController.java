package io.gregor.broker.zk;

import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.ReplicaAssignment;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.NotControllerException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
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
import java.util.Optional;
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
        resumeReassignments();
        onZkReassignmentRequested();
        scheduleRebalanceCheck();
    }

    // ------------------------------------------------------------------ partition reassignment (KIP-455)

    /**
     * AlterPartitionReassignments, as Kafka's ZooKeeper-mode controller ran it: validate each target, build the
     * new full assignment (a cancel reverts to the original replicas) and start or finish it.
     */
    Map<TopicPartition, ApiError> alterReassignments(Map<TopicPartition, Optional<List<Integer>>> targets,
                                                     boolean allowReplicationFactorChange)
            throws KeeperException, InterruptedException {
        if (!active) {
            throw new NotControllerException("Broker " + store.brokerId + " is not the controller");
        }
        Map<TopicPartition, ApiError> results = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Optional<List<Integer>>> e : targets.entrySet()) {
            TopicPartition tp = e.getKey();
            Optional<List<Integer>> target = e.getValue();
            ReplicaAssignment current = store.fullAssignment(tp.topic(), tp.partition());
            ReplicaAssignment known = current == null ? ReplicaAssignment.of(List.of()) : current;
            ApiError invalid = target.map(t -> known.validateTarget(t, store.brokers.keySet())).orElse(null);
            if (invalid != null) {
                results.put(tp, invalid);
                continue;
            }
            if (!known.isBeingReassigned() && target.isEmpty()) {
                results.put(tp, new ApiError(Errors.NO_REASSIGNMENT_IN_PROGRESS,
                        "No reassignment is in progress for " + tp));
                continue;
            }
            if (current == null || store.zk.exists(ZkPaths.deleteTopic(tp.topic()), false) != null) {
                results.put(tp, new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
                continue;
            }
            if (!allowReplicationFactorChange && target.isPresent()
                    && target.get().size() != known.originReplicas().size()) {
                results.put(tp, new ApiError(Errors.INVALID_REPLICATION_FACTOR, "The replication factor is changed from "
                        + known.originReplicas().size() + " to " + target.get().size()));
                continue;
            }
            ReplicaAssignment next = known.reassignTo(target.orElse(known.originReplicas()));
            log.info("{}: reassigning from {} to {} (full assignment {})", tp, known.originReplicas(),
                    next.targetReplicas(), next);
            removeFromZkReassignment(tp); // the latest reassignment wins, as in Kafka
            results.put(tp, onPartitionReassignment(tp, next) ? ApiError.NONE
                    : new ApiError(Errors.UNKNOWN_SERVER_ERROR, "Could not write the reassignment of " + tp));
            if (!active) {
                throw new NotControllerException("Broker " + store.brokerId + " is no longer the controller");
            }
        }
        results.forEach((tp, error) -> {
            if (error.error() != Errors.NONE) {
                log.info("{}: reassignment to {} refused: {} ({})", tp, targets.get(tp).map(Object::toString)
                        .orElse("cancel"), error.error(), error.messageWithFallback());
            }
        });
        return results;
    }

    /**
     * The legacy request znode ({"version":1,"partitions":[{"topic":..,"partition":..,"replicas":[..]}]}), which
     * pre-KIP-455 tools wrote: each partition is reassigned as through the API; the controller removes a partition
     * from the znode when its reassignment completes or is refused, and the znode once it is empty.
     */
    void onZkReassignmentRequested() throws KeeperException, InterruptedException {
        if (!active) {
            return;
        }
        Map<TopicPartition, Optional<List<Integer>>> targets = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, List<Integer>> e : readZkReassignment().entrySet()) {
            ReplicaAssignment current = store.fullAssignment(e.getKey().topic(), e.getKey().partition());
            if (current != null && !current.isBeingReassigned() && current.replicas().equals(e.getValue())) {
                removeFromZkReassignment(e.getKey()); // nothing to move
            } else if (current == null || !current.targetReplicas().equals(e.getValue())) {
                targets.put(e.getKey(), Optional.of(e.getValue()));
            }
        }
        if (targets.isEmpty()) {
            return;
        }
        Map<TopicPartition, ApiError> results = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Optional<List<Integer>>> e : targets.entrySet()) {
            results.putAll(alterReassignments(Map.of(e.getKey(), e.getValue()), true));
            if (results.get(e.getKey()).error() == Errors.NONE) {
                // alterReassignments removed it as an API request would; this one came from the znode: put it back
                addToZkReassignment(e.getKey(), e.getValue().get());
            }
        }
        results.forEach((tp, error) -> {
            if (error.error() != Errors.NONE) {
                log.warn("{}: reassignment requested in {} refused: {}", tp, ZkPaths.REASSIGN_PARTITIONS,
                        error.messageWithFallback());
            }
        });
        for (Map.Entry<TopicPartition, ApiError> e : results.entrySet()) {
            ReplicaAssignment now = store.fullAssignment(e.getKey().topic(), e.getKey().partition());
            if (e.getValue().error() != Errors.NONE || now == null || !now.isBeingReassigned()) {
                removeFromZkReassignment(e.getKey());
            }
        }
    }

    private Map<TopicPartition, List<Integer>> readZkReassignment() throws KeeperException, InterruptedException {
        Map<TopicPartition, List<Integer>> out = new LinkedHashMap<>();
        byte[] data;
        try {
            data = store.zk.getData(ZkPaths.REASSIGN_PARTITIONS, false, null);
        } catch (KeeperException.NoNodeException e) {
            return out;
        }
        if (data == null || data.length == 0) {
            return out;
        }
        try {
            if (Json.object(data).get("partitions") instanceof List<?> list) {
                for (Object o : list) {
                    if (o instanceof Map<?, ?> m && m.get("topic") != null && m.get("partition") != null) {
                        out.put(new TopicPartition(m.get("topic").toString(),
                                Integer.parseInt(m.get("partition").toString())), Json.intList(m.get("replicas")));
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("Ignoring {}, which is not a reassignment: {}", ZkPaths.REASSIGN_PARTITIONS, e.toString());
        }
        return out;
    }

    private void removeFromZkReassignment(TopicPartition tp) throws KeeperException, InterruptedException {
        Map<TopicPartition, List<Integer>> pending = readZkReassignment();
        if (pending.remove(tp) != null) {
            writeZkReassignment(pending);
        }
    }

    private void addToZkReassignment(TopicPartition tp, List<Integer> target) throws KeeperException, InterruptedException {
        Map<TopicPartition, List<Integer>> pending = readZkReassignment();
        pending.put(tp, target);
        writeZkReassignment(pending);
    }

    private void writeZkReassignment(Map<TopicPartition, List<Integer>> pending)
            throws KeeperException, InterruptedException {
        try {
            if (pending.isEmpty()) {
                store.zk.delete(ZkPaths.REASSIGN_PARTITIONS, -1);
                return;
            }
            List<Object> entries = new ArrayList<>();
            pending.forEach((tp, replicas) -> {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("topic", tp.topic());
                entry.put("partition", tp.partition());
                entry.put("replicas", replicas);
                entries.add(entry);
            });
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("version", 1);
            json.put("partitions", entries);
            store.zk.setData(ZkPaths.REASSIGN_PARTITIONS, Json.bytes(json), -1);
        } catch (KeeperException.NoNodeException ignored) {
            // nothing pending any more
        }
    }

    /** A partition's state changed (its ISR, usually): a reassignment whose target replicas are all in sync completes. */
    void onPartitionStateChanged(TopicPartition tp) throws KeeperException, InterruptedException {
        ReplicaAssignment r = store.reassigning.get(tp);
        if (!active || r == null) {
            return;
        }
        PartitionState s = store.states.get(tp);
        if (s != null && s.isr().containsAll(r.targetReplicas())) {
            onPartitionReassignment(tp, r);
        }
    }

    /** After a controller change or a failed write: carry on with every reassignment in progress. */
    private void resumeReassignments() throws KeeperException, InterruptedException {
        for (Map.Entry<TopicPartition, ReplicaAssignment> e : new ArrayList<>(store.reassigning.entrySet())) {
            if (!active) {
                return;
            }
            onPartitionReassignment(e.getKey(), e.getValue());
        }
    }

    /**
     * Kafka's reassignment steps. While the target replicas are not all in the ISR: write the full replica set
     * (target + original, with adding and removing replicas) and bump the leader epoch, so the leader tracks the
     * new replicas and they start fetching. Once they are in sync: the replica set becomes the target, leadership
     * moves to the first in-sync target replica if the leader is being removed, removed replicas leave the ISR,
     * at a new leader epoch; the removed brokers then delete their copies. Each step is one fenced transaction
     * over the topic znode and the partition state. False when it could not be written.
     */
    private boolean onPartitionReassignment(TopicPartition tp, ReplicaAssignment next)
            throws KeeperException, InterruptedException {
        for (int attempt = 0; attempt < 10 && active; attempt++) {
            Stat topicStat = new Stat();
            Map<String, Object> topicJson;
            try {
                topicJson = Json.object(store.zk.getData(ZkPaths.topic(tp.topic()), false, topicStat));
            } catch (KeeperException.NoNodeException e) {
                return false;
            }
            Map<Integer, List<Integer>> replicas = ZkMetadataStore.intListMap(topicJson.get("partitions"));
            Map<Integer, List<Integer>> adding = ZkMetadataStore.intListMap(topicJson.get("adding_replicas"));
            Map<Integer, List<Integer>> removing = ZkMetadataStore.intListMap(topicJson.get("removing_replicas"));
            if (!replicas.containsKey(tp.partition())) {
                return false;
            }
            ReplicaAssignment current = new ReplicaAssignment(replicas.get(tp.partition()),
                    adding.getOrDefault(tp.partition(), List.of()), removing.getOrDefault(tp.partition(), List.of()));
            Stat stateStat = new Stat();
            PartitionState s;
            try {
                s = ZkMetadataStore.parseState(store.zk.getData(ZkPaths.state(tp.topic(), tp.partition()), false,
                        stateStat), stateStat.getVersion());
            } catch (KeeperException.NoNodeException e) {
                s = null;
            }
            boolean complete = !next.isBeingReassigned() || (s != null && s.isr().containsAll(next.targetReplicas()));
            ReplicaAssignment written;
            int leader;
            List<Integer> isr;
            if (!complete) {
                written = next;
                // replicas a replaced reassignment was adding and this one does not keep leave the ISR
                List<Integer> unneeded = ReplicaAssignment.minus(current.replicas(), next.replicas());
                leader = s == null ? PartitionState.NO_LEADER : s.leader();
                isr = s == null ? List.of() : ReplicaAssignment.minus(s.isr(), unneeded);
            } else {
                written = ReplicaAssignment.of(next.targetReplicas());
                List<Integer> target = next.targetReplicas();
                if (s == null) {
                    leader = PartitionState.NO_LEADER;
                    isr = List.of();
                } else {
                    PartitionState state = s;
                    leader = target.contains(s.leader()) && store.brokers.containsKey(s.leader()) ? s.leader()
                            : target.stream().filter(r -> store.brokers.containsKey(r) && state.isr().contains(r))
                            .findFirst().orElse(PartitionState.NO_LEADER);
                    if (leader == PartitionState.NO_LEADER) {
                        log.info("{}: no live in-sync target replica of {} to lead yet; the reassignment waits",
                                tp, target);
                        return true;
                    }
                    isr = s.isr().stream().filter(target::contains).toList();
                }
            }
            List<Op> ops = new ArrayList<>();
            ops.add(Op.check(ZkPaths.CONTROLLER_EPOCH, epochZkVersion));
            if (!written.equals(current)) {
                replicas.put(tp.partition(), written.replicas());
                adding.put(tp.partition(), written.adding());
                removing.put(tp.partition(), written.removing());
                Object id = topicJson.get("topic_id");
                ops.add(Op.setData(ZkPaths.topic(tp.topic()), ZkMetadataStore.topicJson(replicas, adding, removing,
                        id == null ? Uuid.randomUuid() : Uuid.fromString(id.toString())), topicStat.getVersion()));
            }
            if (s != null) {
                ops.add(Op.setData(ZkPaths.state(tp.topic(), tp.partition()),
                        ZkMetadataStore.stateJson(leader, s.leaderEpoch() + 1, isr, epoch), stateStat.getVersion()));
            }
            try {
                store.zk.multi(ops);
            } catch (KeeperException e) {
                List<org.apache.zookeeper.OpResult> results = e.getResults();
                if (results != null && !results.isEmpty()
                        && results.get(0) instanceof org.apache.zookeeper.OpResult.ErrorResult err && err.getErr() != 0) {
                    log.warn("Controller epoch {} is stale; could not reassign {}", epoch, tp);
                    resign();
                    return false;
                }
                continue; // the ISR or the topic changed meanwhile: read both again
            }
            if (complete) {
                removeFromZkReassignment(tp);
                log.info("{}: reassignment to {} completed; leader {}, leader epoch {}, ISR {}", tp, written.replicas(),
                        leader, s == null ? -1 : s.leaderEpoch() + 1, isr);
            } else {
                log.info("{}: adding replicas {}, removing {} once they are in sync; leader epoch {}", tp,
                        written.adding(), written.removing(), s == null ? -1 : s.leaderEpoch() + 1);
            }
            store.reloadTopic(tp.topic());
            return true;
        }
        return false;
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
            for (TopicPartition tp : new ArrayList<>(store.reassigning.keySet())) {
                onPartitionStateChanged(tp); // a completion whose write raced an ISR change
            }
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
