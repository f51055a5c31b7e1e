package io.gregor.coordinator.share;

import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import io.gregor.coordinator.PartitionLeadershipListener;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.FencedLeaderEpochException;
import org.apache.kafka.common.errors.FencedStateEpochException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.ApiMessage;
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
 * The share-partition states of {@code __share_group_state} (Kafka's share coordinator), keyed by group, topic id
 * and partition, in partition abs(hash("group:topicId:partition")) % partitions: a ShareSnapshot record (the
 * whole state) when a key starts, is initialized or has had {@code share.coordinator.snapshot.update.records.per.snapshot}
 * updates since its last one, a ShareUpdate record (only the batches written) for every other write, both in
 * Kafka's schemas. The topic is not compacted (that would keep only a key's latest update): records older than
 * every key's latest snapshot are pruned instead, and idle keys get fresh snapshots so that they do not hold
 * that back. Only the leader of a key's partition reads or writes it (NOT_COORDINATOR
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
    /** Kafka's share.coordinator.snapshot.update.records.per.snapshot: ShareUpdates between two ShareSnapshots. */
    private final int updatesPerSnapshot;
    /** Kafka's share.coordinator.cold.partition.snapshot.interval.ms. */
    private final long coldSnapshotIntervalMs;
    /** Per loaded partition of the topic, its keys' latest states. */
    private final Map<Integer, Map<Key, Entry>> loaded = new HashMap<>();

    /**
     * A key's state with what its records say about it: the epoch and times of its latest ShareSnapshot, the
     * ShareUpdates since (Kafka's snapshotUpdateCount), and where that snapshot is in the log (a replay needs
     * nothing before it).
     */
    private static final class Entry {
        ShareState state;
        int snapshotEpoch;
        int updatesSinceSnapshot;
        long createTimestamp;
        long writeTimestamp;
        long snapshotOffset = -1;
        /**
         * The highest leader epoch any record of the key carried, as Kafka's leaderEpochMap: the fence of reads and
         * writes. Never lowered by a record with an older one (an initialize writes leader epoch 0).
         */
        int leaderEpochFence = -1;
    }

    public ShareStateStore(CoordinatorLog topic, Time time) {
        this(topic, time, 500, 300_000);
    }

    public ShareStateStore(CoordinatorLog topic, Time time, int updatesPerSnapshot, long coldSnapshotIntervalMs) {
        this.topic = topic;
        this.time = time;
        this.updatesPerSnapshot = updatesPerSnapshot;
        this.coldSnapshotIntervalMs = coldSnapshotIntervalMs;
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
        ShareState current = current(key);
        if (current != null && current.stateEpoch() > stateEpoch) {
            return CompletableFuture.failedFuture(new FencedStateEpochException("The state epoch " + stateEpoch
                    + " of " + key.coordinatorKey() + " is older than " + current.stateEpoch()));
        }
        // always a snapshot, as Kafka's initializeState writes: the state starts over, with leader epoch 0 in the
        // record; the leader-epoch fence keeps the highest epoch seen (Kafka's leaderEpochMap only rises)
        return persist(key, new ShareState(startOffset, stateEpoch, 0, List.of()), null);
    }

    /**
     * WriteShareGroupState as Kafka's share coordinator applies it: fenced by leader epoch (a write of a former
     * partition leader) and state epoch (a write from before an offset reset); the batches written replace the
     * stored ones where they overlap, those below the new start offset are dropped. A key never initialized is
     * Kafka's INVALID_REQUEST (only InitializeShareGroupState creates state). The stored leader epoch stays (as
     * Kafka's writeState keeps it; reads record a new one).
     */
    public synchronized CompletableFuture<Void> write(Key key, int stateEpoch, int leaderEpoch, long startOffset,
                                                      List<StateBatch> batches) {
        Entry entry = coordinatedPartition(key).get(key);
        if (entry == null) {
            return CompletableFuture.failedFuture(new InvalidRequestException(
                    "Write operation on uninitialized share partition not allowed."));
        }
        ShareState current = entry.state;
        if (entry.leaderEpochFence > leaderEpoch) {
            return CompletableFuture.failedFuture(new FencedLeaderEpochException("The leader epoch " + leaderEpoch
                    + " of " + key.coordinatorKey() + " is older than " + entry.leaderEpochFence));
        }
        if (current.stateEpoch() > stateEpoch) {
            return CompletableFuture.failedFuture(new FencedStateEpochException("The state epoch " + stateEpoch
                    + " of " + key.coordinatorKey() + " is older than " + current.stateEpoch()));
        }
        long start = startOffset >= 0 ? startOffset : current.startOffset();
        List<StateBatch> merged = merge(current.batches(), batches, start);
        return persist(key, new ShareState(start, current.stateEpoch(), current.leaderEpoch(), merged),
                merge(List.of(), batches, start));
    }

    /**
     * ReadShareGroupState: the stored state (empty when never initialized), fenced by leader epoch; a newer
     * leader epoch is recorded first, so that writes of former leaders are fenced from then on.
     */
    public synchronized CompletableFuture<Optional<ShareState>> readForLeader(Key key, int leaderEpoch) {
        Entry entry = coordinatedPartition(key).get(key);
        if (entry == null) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        ShareState current = entry.state;
        if (leaderEpoch >= 0 && entry.leaderEpochFence > leaderEpoch) {
            return CompletableFuture.failedFuture(new FencedLeaderEpochException("The leader epoch " + leaderEpoch
                    + " of " + key.coordinatorKey() + " is older than " + entry.leaderEpochFence));
        }
        if (leaderEpoch >= 0 && leaderEpoch != entry.leaderEpochFence) {
            ShareState fenced = new ShareState(current.startOffset(), current.stateEpoch(), leaderEpoch,
                    current.batches());
            // as Kafka's read with a new leader epoch: an update (or a snapshot when due) with no batches
            return persist(key, fenced, List.of()).thenApply(v -> Optional.of(fenced));
        }
        return CompletableFuture.completedFuture(Optional.of(current));
    }

    /** ReadShareGroupStateSummary: the stored state, without changing its leader epoch. */
    public synchronized Optional<ShareState> summary(Key key) {
        return Optional.ofNullable(current(key));
    }

    private ShareState current(Key key) {
        Entry e = coordinatedPartition(key).get(key);
        return e == null ? null : e.state;
    }

    private Map<Key, Entry> coordinatedPartition(Key key) {
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
     * Writes the key's new {@code state} as Kafka's share coordinator does: a ShareSnapshot (the whole state) for
     * a key without one, on initialization ({@code update} null) and once the key has had
     * {@link #updatesPerSnapshot} ShareUpdates since its last snapshot; a ShareUpdate holding only {@code update}
     * (the batches written, from the new start offset) otherwise. The record is then applied as a replay would
     * apply it, so the state in memory is the one a new coordinator rebuilds. The local append happens before
     * this returns (so writes of one key land in order); the future completes once replicated.
     */
    private CompletableFuture<Void> persist(Key key, ShareState state, List<StateBatch> update) {
        int p = partitionFor(key);
        Map<Key, Entry> entries = partition(p);
        Entry e = entries.get(key);
        long now = time.milliseconds();
        boolean snapshot = e == null || update == null || e.updatesSinceSnapshot >= updatesPerSnapshot;
        ByteBuffer keyBytes;
        ApiMessage value;
        if (snapshot) {
            keyBytes = ByteBuffer.wrap(snapshotKey(key));
            value = snapshotValue(state, e == null ? 0 : e.snapshotEpoch + 1, now, now);
        } else {
            keyBytes = ByteBuffer.wrap(MessageUtil.toCoordinatorTypePrefixedBytes(new ShareUpdateKey()
                    .setGroupId(key.groupId()).setTopicId(key.topicId()).setPartition(key.partition())));
            ShareUpdateValue uv = new ShareUpdateValue().setSnapshotEpoch(e.snapshotEpoch)
                    .setLeaderEpoch(state.leaderEpoch()).setStartOffset(state.startOffset())
                    .setDeliveryCompleteCount(deliveryComplete(state));
            for (StateBatch b : update) {
                uv.stateBatches().add(new ShareUpdateValue.StateBatch().setFirstOffset(b.firstOffset())
                        .setLastOffset(b.lastOffset()).setDeliveryState(b.deliveryState())
                        .setDeliveryCount(b.deliveryCount()));
            }
            value = uv;
        }
        byte[] valueBytes = MessageUtil.toVersionPrefixedBytes((short) 0, value);
        long[] offset = {-1};
        try {
            CompletableFuture<Void> written = topic.append(p,
                    List.of(new CoordinatorRecord(keyBytes.array(), valueBytes)), o -> offset[0] = o);
            apply(entries, p, offset[0], keyBytes, ByteBuffer.wrap(valueBytes));
            return written;
        } catch (RuntimeException ex) {
            // e.g. leadership of the state partition moved meanwhile: the caller answers with the error
            log.warn("Cannot write the share state of {} to __share_group_state-{}: {}", key.coordinatorKey(), p,
                    ex.toString());
            return CompletableFuture.failedFuture(ex);
        }
    }

    private static byte[] snapshotKey(Key key) {
        return MessageUtil.toCoordinatorTypePrefixedBytes(new ShareSnapshotKey().setGroupId(key.groupId())
                .setTopicId(key.topicId()).setPartition(key.partition()));
    }

    private static ShareSnapshotValue snapshotValue(ShareState state, int snapshotEpoch, long createTimestamp,
                                                    long writeTimestamp) {
        ShareSnapshotValue value = new ShareSnapshotValue().setSnapshotEpoch(snapshotEpoch)
                .setStateEpoch(state.stateEpoch()).setLeaderEpoch(state.leaderEpoch())
                .setStartOffset(state.startOffset()).setDeliveryCompleteCount(deliveryComplete(state))
                .setCreateTimestamp(createTimestamp).setWriteTimestamp(writeTimestamp);
        for (StateBatch b : state.batches()) {
            value.stateBatches().add(new ShareSnapshotValue.StateBatch().setFirstOffset(b.firstOffset())
                    .setLastOffset(b.lastOffset()).setDeliveryState(b.deliveryState())
                    .setDeliveryCount(b.deliveryCount()));
        }
        return value;
    }

    /** Acknowledged or archived offsets at or above the start offset (KIP-1226's delivery-complete count). */
    public static int deliveryComplete(ShareState s) {
        long n = 0;
        for (StateBatch b : s.batches()) {
            if ((b.deliveryState() == ACKNOWLEDGED || b.deliveryState() == ARCHIVED) && b.lastOffset() >= s.startOffset()) {
                n += b.lastOffset() - Math.max(b.firstOffset(), s.startOffset()) + 1;
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, n));
    }

    /**
     * Kafka's cold-partition snapshots (every {@code share.coordinator.cold.partition.snapshot.interval.ms}): a new
     * ShareSnapshot, same state and create time, for each key whose last snapshot is at least that old, so that
     * an idle key does not hold back the pruning of its partition. A partition all of whose keys already got one
     * (write time differs from create time) is left alone, as Kafka does.
     */
    public synchronized void snapshotColdPartitions() {
        long now = time.milliseconds();
        for (Map.Entry<Integer, Map<Key, Entry>> partition : loaded.entrySet()) {
            int p = partition.getKey();
            Map<Key, Entry> entries = partition.getValue();
            if (!topic.isLeader(p) || entries.values().stream().allMatch(e -> e.createTimestamp != e.writeTimestamp)) {
                continue;
            }
            for (Map.Entry<Key, Entry> k : new ArrayList<>(entries.entrySet())) {
                Entry e = k.getValue();
                if (now - e.writeTimestamp < coldSnapshotIntervalMs) {
                    continue;
                }
                byte[] keyBytes = snapshotKey(k.getKey());
                byte[] valueBytes = MessageUtil.toVersionPrefixedBytes((short) 0,
                        snapshotValue(e.state, e.snapshotEpoch + 1, e.createTimestamp, now));
                long[] offset = {-1};
                try {
                    topic.append(p, List.of(new CoordinatorRecord(keyBytes, valueBytes)), o -> offset[0] = o)
                            .whenComplete((v, ex) -> {
                                if (ex != null) {
                                    log.debug("A cold snapshot of {} was not replicated: {}", k.getKey().coordinatorKey(),
                                            ex.toString());
                                }
                            });
                    apply(entries, p, offset[0], ByteBuffer.wrap(keyBytes), ByteBuffer.wrap(valueBytes));
                } catch (RuntimeException ex) {
                    log.warn("Cannot write a cold snapshot of {} to __share_group_state-{}: {}",
                            k.getKey().coordinatorKey(), p, ex.toString());
                    break;
                }
            }
        }
    }

    /**
     * Kafka's pruning (every {@code share.coordinator.state.topic.prune.interval.ms}): a replay needs of each key
     * only its latest snapshot and what follows, so the records below the oldest of those are deleted.
     */
    public synchronized void prune() {
        for (Map.Entry<Integer, Map<Key, Entry>> partition : loaded.entrySet()) {
            int p = partition.getKey();
            if (partition.getValue().isEmpty() || !topic.isLeader(p)) {
                continue;
            }
            long redundantBelow = Long.MAX_VALUE;
            for (Entry e : partition.getValue().values()) {
                redundantBelow = Math.min(redundantBelow, e.snapshotOffset); // -1 (not known) prunes nothing
            }
            if (redundantBelow > 0) {
                try {
                    topic.deleteRecordsBefore(p, redundantBelow);
                } catch (RuntimeException e) {
                    log.warn("Cannot prune __share_group_state-{} below {}: {}", p, redundantBelow, e.toString());
                }
            }
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

    private Map<Key, Entry> partition(int p) {
        Map<Key, Entry> entries = loaded.get(p);
        if (entries == null) {
            Map<Key, Entry> replayed = new HashMap<>();
            topic.replayWithOffsets(p, (offset, k, v) -> apply(replayed, p, offset, k, v));
            if (!replayed.isEmpty()) {
                log.info("Loaded {} share-partition states of __share_group_state-{}", replayed.size(), p);
            }
            entries = replayed;
            loaded.put(p, entries);
        }
        return entries;
    }

    /**
     * One record of the topic applied to {@code entries}, as Kafka's share coordinator replays it: a snapshot
     * replaces a key's state (and restarts its update count once that reached the limit), an update merges its
     * batches into it, a snapshot tombstone forgets the key. Writes go through here too.
     */
    private void apply(Map<Key, Entry> entries, int p, long offset, ByteBuffer keyBytes, ByteBuffer valueBytes) {
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
                    entries.remove(key);
                }
                return;
            }
            ByteBuffer v = valueBytes.duplicate();
            short version = v.getShort();
            if (type == CoordinatorRecordType.SHARE_SNAPSHOT.id()) {
                ShareSnapshotValue sv = new ShareSnapshotValue(new ByteBufferAccessor(v), version);
                List<StateBatch> batches = new ArrayList<>(sv.stateBatches().size());
                for (ShareSnapshotValue.StateBatch b : sv.stateBatches()) {
                    batches.add(new StateBatch(b.firstOffset(), b.lastOffset(), b.deliveryState(), b.deliveryCount()));
                }
                Entry e = entries.computeIfAbsent(key, x -> new Entry());
                e.state = new ShareState(sv.startOffset(), sv.stateEpoch(), sv.leaderEpoch(), batches);
                e.snapshotEpoch = sv.snapshotEpoch();
                e.createTimestamp = sv.createTimestamp();
                e.writeTimestamp = sv.writeTimestamp();
                e.snapshotOffset = offset;
                e.leaderEpochFence = Math.max(e.leaderEpochFence, sv.leaderEpoch());
                if (e.updatesSinceSnapshot >= updatesPerSnapshot) {
                    e.updatesSinceSnapshot = 0;
                }
            } else {
                Entry e = entries.get(key);
                if (e == null) {
                    return; // no snapshot to amend: the key was deleted, or its records pruned with it
                }
                ShareUpdateValue uv = new ShareUpdateValue(new ByteBufferAccessor(v), version);
                List<StateBatch> updated = new ArrayList<>(uv.stateBatches().size());
                for (ShareUpdateValue.StateBatch b : uv.stateBatches()) {
                    updated.add(new StateBatch(b.firstOffset(), b.lastOffset(), b.deliveryState(), b.deliveryCount()));
                }
                ShareState before = e.state;
                long start = uv.startOffset() >= 0 ? uv.startOffset() : before.startOffset();
                int leaderEpoch = uv.leaderEpoch() != -1 ? uv.leaderEpoch() : before.leaderEpoch();
                e.state = new ShareState(start, before.stateEpoch(), leaderEpoch, merge(before.batches(), updated, start));
                e.updatesSinceSnapshot++;
                e.leaderEpochFence = Math.max(e.leaderEpochFence, leaderEpoch);
            }
        } catch (RuntimeException e) {
            log.warn("Skipping an unreadable record of __share_group_state-{}: {}", p, e.toString());
        }
    }
}
