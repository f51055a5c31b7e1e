package io.gregor.coordinator.share;

import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import io.gregor.coordinator.PartitionLeadershipListener;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.FencedLeaderEpochException;
import org.apache.kafka.common.errors.FencedStateEpochException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.coordinator.share.generated.CoordinatorRecordType;
import org.apache.kafka.coordinator.share.generated.ShareSnapshotKey;
import org.apache.kafka.coordinator.share.generated.ShareSnapshotValue;
import org.apache.kafka.coordinator.share.generated.ShareUpdateKey;
import org.apache.kafka.coordinator.share.generated.ShareUpdateValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The share-partition states of {@code __share_group_state} (Kafka's share coordinator): one ShareSnapshot
 * record (Kafka's schema) per write, keyed by group, topic id and partition, in partition
 * abs(hash("group:topicId:partition")) % partitions; ShareUpdate records (which Kafka writes between
 * snapshots) are applied on replay. Only the leader of a key's partition reads or writes it (NOT_COORDINATOR
 * elsewhere). A partition's states are read back when this broker leads it: at startup, on election, or on
 * first use.
 */
public final class ShareStateStore implements PartitionLeadershipListener {
    private static final Logger log = LoggerFactory.getLogger(ShareStateStore.class);
    /** Kafka's record states as persisted: acquired records are persisted as available (locks do not survive). */
    public static final byte AVAILABLE = 0;
    public static final byte ACKNOWLEDGED = 2;
    public static final byte ARCHIVED = 4;

    public record Key(String groupId, Uuid topicId, int partition) {
        String coordinatorKey() {
            return groupId + ":" + topicId + ":" + partition;
        }
    }

    public record StateBatch(long firstOffset, long lastOffset, byte deliveryState, short deliveryCount) {
    }

    /** A share partition's persisted state: everything below {@code startOffset} is done. */
    public record ShareState(long startOffset, int stateEpoch, int leaderEpoch, List<StateBatch> batches) {
    }

    private final CoordinatorLog topic;
    private final Time time;
    /** Per loaded partition of the topic, its keys' latest states. */
    private final Map<Integer, Map<Key, ShareState>> loaded = new HashMap<>();
    private final Map<Key, Integer> snapshotEpochs = new HashMap<>();

    public ShareStateStore(CoordinatorLog topic, Time time) {
        this.topic = topic;
        this.time = time;
    }

    /** Loads the partitions this broker leads now (later changes arrive through onElection/onResignation). */
    public synchronized void startup() {
        for (int p = 0; p < topic.partitionCount(); p++) {
            if (topic.isLeader(p)) {
                partition(p);
            }
        }
    }

    @Override
    public synchronized void onElection(int partition) {
        loaded.remove(partition); // read again on next use: the previous leader may have written since
    }

    @Override
    public synchronized void onResignation(int partition) {
        loaded.remove(partition);
    }

    public int partitionFor(Key key) {
        return Utils.abs(key.coordinatorKey().hashCode()) % topic.partitionCount();
    }

    /** Whether this broker coordinates {@code key}: it leads the key's partition of {@code __share_group_state}. */
    public synchronized boolean coordinates(Key key) {
        return topic.isLeader(partitionFor(key));
    }

    /**
     * InitializeShareGroupState: a fresh state at {@code startOffset} (nothing in flight) with {@code stateEpoch};
     * FENCED_STATE_EPOCH when the stored state has a newer state epoch.
     */
    public synchronized CompletableFuture<Void> initialize(Key key, int stateEpoch, long startOffset) {
        Map<Key, ShareState> states = coordinatedPartition(key);
        ShareState current = states.get(key);
        if (current != null && current.stateEpoch() > stateEpoch) {
            return CompletableFuture.failedFuture(new FencedStateEpochException("The state epoch " + stateEpoch
                    + " of " + key.coordinatorKey() + " is older than " + current.stateEpoch()));
        }
        return persist(key, new ShareState(startOffset, stateEpoch, -1, List.of()));
    }

    /**
     * WriteShareGroupState as Kafka's share coordinator applies it: fenced by leader epoch (a write of a former
     * partition leader) and state epoch (a write from before an offset reset); the batches written replace the
     * stored ones where they overlap, those below the new start offset are dropped.
     */
    public synchronized CompletableFuture<Void> write(Key key, int stateEpoch, int leaderEpoch, long startOffset,
                                                      List<StateBatch> batches) {
        Map<Key, ShareState> states = coordinatedPartition(key);
        ShareState current = states.get(key);
        if (current != null && current.leaderEpoch() > leaderEpoch) {
            return CompletableFuture.failedFuture(new FencedLeaderEpochException("The leader epoch " + leaderEpoch
                    + " of " + key.coordinatorKey() + " is older than " + current.leaderEpoch()));
        }
        if (current != null && current.stateEpoch() > stateEpoch) {
            return CompletableFuture.failedFuture(new FencedStateEpochException("The state epoch " + stateEpoch
                    + " of " + key.coordinatorKey() + " is older than " + current.stateEpoch()));
        }
        long start = startOffset >= 0 ? startOffset : current == null ? 0 : current.startOffset();
        List<StateBatch> merged = merge(current == null ? List.of() : current.batches(), batches, start);
        return persist(key, new ShareState(start, current == null ? stateEpoch : current.stateEpoch(), leaderEpoch,
                merged));
    }

    /**
     * ReadShareGroupState: the stored state (empty when never initialized), fenced by leader epoch; a newer
     * leader epoch is recorded first, so that writes of former leaders are fenced from then on.
     */
    public synchronized CompletableFuture<Optional<ShareState>> readForLeader(Key key, int leaderEpoch) {
        Map<Key, ShareState> states = coordinatedPartition(key);
        ShareState current = states.get(key);
        if (current == null) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        if (leaderEpoch >= 0 && current.leaderEpoch() > leaderEpoch) {
            return CompletableFuture.failedFuture(new FencedLeaderEpochException("The leader epoch " + leaderEpoch
                    + " of " + key.coordinatorKey() + " is older than " + current.leaderEpoch()));
        }
        if (leaderEpoch > current.leaderEpoch()) {
            ShareState fenced = new ShareState(current.startOffset(), current.stateEpoch(), leaderEpoch,
                    current.batches());
            return persist(key, fenced).thenApply(v -> Optional.of(fenced));
        }
        return CompletableFuture.completedFuture(Optional.of(current));
    }

    /** ReadShareGroupStateSummary: the stored state, without changing its leader epoch. */
    public synchronized Optional<ShareState> summary(Key key) {
        return Optional.ofNullable(coordinatedPartition(key).get(key));
    }

    private Map<Key, ShareState> coordinatedPartition(Key key) {
        int p = partitionFor(key);
        if (!topic.isLeader(p)) {
            throw new NotCoordinatorException("This broker does not lead " + Topic.SHARE_GROUP_STATE_TOPIC_NAME
                    + "-" + p + ", the partition of " + key.coordinatorKey());
        }
        return partition(p);
    }

    /**
     * {@code update} over {@code base}: offsets named by both take the update's state; all from {@code start}.
     * Both lists are in offset order without overlaps (as written), so one pass over each does.
     */
    static List<StateBatch> merge(List<StateBatch> base, List<StateBatch> update, long start) {
        List<StateBatch> updates = new ArrayList<>(update);
        updates.sort(java.util.Comparator.comparingLong(StateBatch::firstOffset));
        List<StateBatch> out = new ArrayList<>(base.size() + updates.size());
        int next = 0; // the first update that may still overlap a base batch
        for (StateBatch b : base) {
            long from = Math.max(b.firstOffset(), start);
            while (next < updates.size() && updates.get(next).lastOffset() < from) {
                next++;
            }
            for (int k = next; k < updates.size() && from <= b.lastOffset(); k++) {
                StateBatch u = updates.get(k);
                if (u.firstOffset() > b.lastOffset()) {
                    break;
                }
                if (u.firstOffset() > from) {
                    out.add(new StateBatch(from, u.firstOffset() - 1, b.deliveryState(), b.deliveryCount()));
                }
                from = Math.max(from, u.lastOffset() + 1);
            }
            if (from <= b.lastOffset()) {
                out.add(new StateBatch(from, b.lastOffset(), b.deliveryState(), b.deliveryCount()));
            }
        }
        for (StateBatch u : updates) {
            if (u.lastOffset() >= start) {
                out.add(new StateBatch(Math.max(u.firstOffset(), start), u.lastOffset(), u.deliveryState(),
                        u.deliveryCount()));
            }
        }
        out.sort(java.util.Comparator.comparingLong(StateBatch::firstOffset));
        return out;
    }

    /**
     * Writes {@code state} as a ShareSnapshot (the whole state each time, so a replay needs no update records).
     * The local append happens before this returns (so writes of one key land in order); the future completes
     * once replicated.
     */
    private CompletableFuture<Void> persist(Key key, ShareState state) {
        int p = partitionFor(key);
        Map<Key, ShareState> states = partition(p);
        int snapshotEpoch = snapshotEpochs.merge(key, 1, Integer::sum);
        long now = time.milliseconds();
        ShareSnapshotValue value = new ShareSnapshotValue().setSnapshotEpoch(snapshotEpoch)
                .setStateEpoch(state.stateEpoch()).setLeaderEpoch(state.leaderEpoch())
                .setStartOffset(state.startOffset()).setCreateTimestamp(now).setWriteTimestamp(now);
        for (StateBatch b : state.batches()) {
            value.stateBatches().add(new ShareSnapshotValue.StateBatch().setFirstOffset(b.firstOffset())
                    .setLastOffset(b.lastOffset()).setDeliveryState(b.deliveryState())
                    .setDeliveryCount(b.deliveryCount()));
        }
        CoordinatorRecord record = new CoordinatorRecord(MessageUtil.toCoordinatorTypePrefixedBytes(
                new ShareSnapshotKey().setGroupId(key.groupId()).setTopicId(key.topicId()).setPartition(key.partition())),
                MessageUtil.toVersionPrefixedBytes((short) 0, value));
        try {
            CompletableFuture<Void> written = topic.append(p, List.of(record));
            states.put(key, state);
            return written;
        } catch (RuntimeException e) {
            // e.g. leadership of the state partition moved meanwhile: the caller answers with the error
            log.warn("Cannot write the share state of {} to __share_group_state-{}: {}", key.coordinatorKey(), p,
                    e.toString());
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Forgets the states of {@code keys}: tombstones for their snapshot and update records. */
    public synchronized CompletableFuture<Void> delete(List<Key> keys) {
        Map<Integer, List<CoordinatorRecord>> byPartition = new HashMap<>();
        for (Key key : keys) {
            int p = partitionFor(key);
            if (!topic.isLeader(p)) {
                return CompletableFuture.failedFuture(new NotCoordinatorException("This broker does not lead "
                        + Topic.SHARE_GROUP_STATE_TOPIC_NAME + "-" + p + ", the partition of " + key.coordinatorKey()));
            }
        }
        for (Key key : keys) {
            int p = partitionFor(key);
            partition(p).remove(key);
            snapshotEpochs.remove(key);
            List<CoordinatorRecord> records = byPartition.computeIfAbsent(p, x -> new ArrayList<>());
            records.add(new CoordinatorRecord(MessageUtil.toCoordinatorTypePrefixedBytes(new ShareSnapshotKey()
                    .setGroupId(key.groupId()).setTopicId(key.topicId()).setPartition(key.partition())), null));
            records.add(new CoordinatorRecord(MessageUtil.toCoordinatorTypePrefixedBytes(new ShareUpdateKey()
                    .setGroupId(key.groupId()).setTopicId(key.topicId()).setPartition(key.partition())), null));
        }
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        byPartition.forEach((p, records) -> writes.add(topic.append(p, records)));
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    private Map<Key, ShareState> partition(int p) {
        Map<Key, ShareState> states = loaded.get(p);
        if (states == null) {
            states = replay(p);
            loaded.put(p, states);
        }
        return states;
    }

    /** Snapshots replace a key's state; updates (Kafka writes them between snapshots) amend it. */
    private Map<Key, ShareState> replay(int p) {
        Map<Key, ShareState> states = new HashMap<>();
        topic.replay(p, (keyBytes, valueBytes) -> {
            try {
                ByteBuffer k = keyBytes.duplicate();
                short type = k.getShort();
                Key key;
                if (type == CoordinatorRecordType.SHARE_SNAPSHOT.id()) {
                    ShareSnapshotKey sk = new ShareSnapshotKey(new ByteBufferAccessor(k), (short) 0);
                    key = new Key(sk.groupId(), sk.topicId(), sk.partition());
                } else if (type == CoordinatorRecordType.SHARE_UPDATE.id()) {
                    ShareUpdateKey uk = new ShareUpdateKey(new ByteBufferAccessor(k), (short) 0);
                    key = new Key(uk.groupId(), uk.topicId(), uk.partition());
                } else {
                    return;
                }
                if (valueBytes == null) {
                    if (type == CoordinatorRecordType.SHARE_SNAPSHOT.id()) {
                        states.remove(key);
                    }
                    return;
                }
                ByteBuffer v = valueBytes.duplicate();
                short version = v.getShort();
                if (type == CoordinatorRecordType.SHARE_SNAPSHOT.id()) {
                    ShareSnapshotValue sv = new ShareSnapshotValue(new ByteBufferAccessor(v), version);
                    List<StateBatch> batches = new ArrayList<>();
                    for (ShareSnapshotValue.StateBatch b : sv.stateBatches()) {
                        batches.add(new StateBatch(b.firstOffset(), b.lastOffset(), b.deliveryState(), b.deliveryCount()));
                    }
                    states.put(key, new ShareState(sv.startOffset(), sv.stateEpoch(), sv.leaderEpoch(), batches));
                    snapshotEpochs.put(key, sv.snapshotEpoch());
                } else {
                    ShareUpdateValue uv = new ShareUpdateValue(new ByteBufferAccessor(v), version);
                    ShareState before = states.get(key);
                    if (before == null) {
                        return;
                    }
                    List<StateBatch> batches = new ArrayList<>(before.batches());
                    for (ShareUpdateValue.StateBatch b : uv.stateBatches()) {
                        batches.add(new StateBatch(b.firstOffset(), b.lastOffset(), b.deliveryState(), b.deliveryCount()));
                    }
                    long start = uv.startOffset() >= 0 ? uv.startOffset() : before.startOffset();
                    states.put(key, new ShareState(start, before.stateEpoch(), uv.leaderEpoch(), batches));
                }
            } catch (RuntimeException e) {
                log.warn("Skipping an unreadable record of __share_group_state-{}: {}", p, e.toString());
            }
        });
        if (!states.isEmpty()) {
            log.info("Loaded {} share-partition states of __share_group_state-{}", states.size(), p);
        }
        return states;
    }
}
