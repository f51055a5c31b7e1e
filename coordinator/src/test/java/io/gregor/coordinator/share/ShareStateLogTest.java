package io.gregor.coordinator.share;

import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import io.gregor.coordinator.share.ShareStateStore.Key;
import io.gregor.coordinator.share.ShareStateStore.ShareState;
import io.gregor.coordinator.share.ShareStateStore.StateBatch;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.FencedLeaderEpochException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.coordinator.share.generated.CoordinatorRecordType;
import org.apache.kafka.coordinator.share.generated.ShareSnapshotValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The records the share coordinator writes to {@code __share_group_state}, as Kafka's: ShareUpdates between
 * ShareSnapshots every {@code share.coordinator.snapshot.update.records.per.snapshot}, a snapshot on
 * initialization, cold snapshots of idle keys, pruning below the oldest latest snapshot; and a new coordinator
 * rebuilds the same state from what is left.
 */
class ShareStateLogTest {
    private static final Key KEY = new Key("g", Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ"), 0);
    private final ManualTime time = new ManualTime();
    private final OneLog log = new OneLog();

    /** A clock the test moves. */
    static final class ManualTime implements Time {
        private long nowMs = 1_700_000_000_000L;

        @Override
        public long milliseconds() {
            return nowMs;
        }

        @Override
        public long nanoseconds() {
            return nowMs * 1_000_000;
        }

        @Override
        public void sleep(long ms) {
            nowMs += ms;
        }
    }

    /** One partition in memory with offsets and a log start offset, as the broker's log has them. */
    static final class OneLog implements CoordinatorLog {
        final List<CoordinatorRecord> records = new ArrayList<>();
        long logStart;

        @Override
        public int partitionCount() {
            return 1;
        }

        @Override
        public CompletableFuture<Void> append(int partition, List<CoordinatorRecord> appended) {
            return append(partition, appended, o -> { });
        }

        @Override
        public CompletableFuture<Void> append(int partition, List<CoordinatorRecord> appended, LongConsumer firstOffset) {
            firstOffset.accept(logStart + records.size());
            records.addAll(appended);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor) {
            replayWithOffsets(partition, (o, k, v) -> visitor.accept(k, v));
        }

        @Override
        public void replayWithOffsets(int partition, OffsetVisitor visitor) {
            for (int i = 0; i < records.size(); i++) {
                CoordinatorRecord r = records.get(i);
                visitor.record(logStart + i, ByteBuffer.wrap(r.key()), r.value() == null ? null : ByteBuffer.wrap(r.value()));
            }
        }

        @Override
        public void deleteRecordsBefore(int partition, long offset) {
            while (logStart < offset && !records.isEmpty()) {
                records.remove(0);
                logStart++;
            }
        }

        /** S for a ShareSnapshot, U for a ShareUpdate, per record. */
        String types() {
            StringBuilder b = new StringBuilder();
            for (CoordinatorRecord r : records) {
                short type = ByteBuffer.wrap(r.key()).getShort();
                b.append(type == CoordinatorRecordType.SHARE_SNAPSHOT.id() ? 'S'
                        : type == CoordinatorRecordType.SHARE_UPDATE.id() ? 'U' : '?');
            }
            return b.toString();
        }

        ShareSnapshotValue snapshot(int index) {
            ByteBuffer v = ByteBuffer.wrap(records.get(index).value());
            short version = v.getShort();
            return new ShareSnapshotValue(new ByteBufferAccessor(v), version);
        }
    }

    private static StateBatch acked(long offset) {
        return new StateBatch(offset, offset, ShareStateStore.ACKNOWLEDGED, (short) 1);
    }

    private ShareState state(ShareStateStore store) {
        return store.summary(KEY).orElseThrow();
    }

    @Test
    void updatesBetweenSnapshotsAndTheSameStateAfterAReload() {
        ShareStateStore store = new ShareStateStore(log, time, 3, 60_000);
        store.initialize(KEY, 1, 0).join();
        for (int i = 0; i < 7; i++) {
            store.write(KEY, 1, 0, -1, List.of(acked(i))).join();
        }
        // initialize: a snapshot; then 3 updates, a snapshot, 3 updates
        assertEquals("SUUUSUUU", log.types());
        ShareState before = state(store);
        assertEquals(List.of(new StateBatch(0, 6, ShareStateStore.ACKNOWLEDGED, (short) 1)), mergedAdjacent(before.batches()));

        ShareStateStore reloaded = new ShareStateStore(log, time, 3, 60_000);
        assertEquals(before, state(reloaded));
        // the update count is rebuilt too: the next write is the snapshot
        reloaded.write(KEY, 1, 0, 7, List.of()).join();
        assertEquals("SUUUSUUUS", log.types());
        assertEquals(2, log.snapshot(8).snapshotEpoch());
        assertEquals(7, log.snapshot(8).startOffset());
    }

    @Test
    void zeroUpdatesPerSnapshotWritesOnlySnapshots() {
        ShareStateStore store = new ShareStateStore(log, time, 0, 60_000);
        store.initialize(KEY, 0, 0).join();
        store.write(KEY, 0, 0, -1, List.of(acked(0))).join();
        store.write(KEY, 0, 0, -1, List.of(acked(1))).join();
        assertEquals("SSS", log.types());
        assertEquals(2, log.snapshot(2).snapshotEpoch());
    }

    @Test
    void aNewLeaderEpochIsAnUpdateAndFencesOlderWrites() {
        ShareStateStore store = new ShareStateStore(log, time, 500, 60_000);
        store.initialize(KEY, 0, 0).join();
        store.readForLeader(KEY, 4).join();
        assertEquals("SU", log.types());
        assertEquals(4, state(new ShareStateStore(log, time, 500, 60_000)).leaderEpoch());
    }

    @Test
    void anInitializeWritesLeaderEpochZeroAndKeepsTheHighestAsFenceAcrossAReload() {
        ShareStateStore store = new ShareStateStore(log, time, 500, 60_000);
        store.initialize(KEY, 0, 0).join();
        store.readForLeader(KEY, 4).join();
        store.initialize(KEY, 1, 10).join();
        assertEquals("SUS", log.types());
        assertEquals(0, log.snapshot(2).leaderEpoch());
        ShareStateStore reloaded = new ShareStateStore(log, time, 500, 60_000);
        CompletionException fenced = assertThrows(CompletionException.class,
                () -> reloaded.write(KEY, 1, 2, 10, List.of()).join());
        assertInstanceOf(FencedLeaderEpochException.class, fenced.getCause());
        reloaded.write(KEY, 1, 4, 10, List.of(acked(10))).join();
        assertEquals("SUSU", log.types());
    }

    @Test
    void aWriteOfAKeyNeverInitializedIsAnInvalidRequestAndWritesNothing() {
        ShareStateStore store = new ShareStateStore(log, time, 500, 60_000);
        CompletionException refused = assertThrows(CompletionException.class,
                () -> store.write(KEY, 0, 0, 0, List.of(acked(0))).join());
        assertInstanceOf(InvalidRequestException.class, refused.getCause());
        assertEquals("", log.types());
        assertTrue(store.summary(KEY).isEmpty());
    }

    @Test
    void pruningKeepsTheLatestSnapshotAndWhatFollows() {
        ShareStateStore store = new ShareStateStore(log, time, 2, 60_000);
        store.initialize(KEY, 0, 0).join();
        for (int i = 0; i < 5; i++) {
            store.write(KEY, 0, 0, -1, List.of(acked(i))).join();
        }
        assertEquals("SUUSUU", log.types());
        ShareState before = state(store);
        store.prune();
        assertEquals(3, log.logStart);
        assertEquals("SUU", log.types());
        assertEquals(before, state(new ShareStateStore(log, time, 2, 60_000)));
    }

    @Test
    void idleKeysGetOneColdSnapshot() {
        ShareStateStore store = new ShareStateStore(log, time, 500, 60_000);
        store.initialize(KEY, 0, 0).join();
        store.write(KEY, 0, 0, -1, List.of(acked(0))).join();
        long created = log.snapshot(0).createTimestamp();
        time.sleep(30_000);
        store.snapshotColdPartitions();
        assertEquals("SU", log.types());
        time.sleep(30_000);
        store.snapshotColdPartitions();
        assertEquals("SUS", log.types());
        ShareSnapshotValue cold = log.snapshot(2);
        assertEquals(1, cold.snapshotEpoch());
        assertEquals(created, cold.createTimestamp());
        assertEquals(time.milliseconds(), cold.writeTimestamp());
        time.sleep(60_000);
        store.snapshotColdPartitions();
        assertEquals("SUS", log.types()); // every key already has its cold snapshot
        store.prune();
        assertEquals("S", log.types());
        assertEquals(state(store), state(new ShareStateStore(log, time, 500, 60_000)));
    }

    private static List<StateBatch> mergedAdjacent(List<StateBatch> batches) {
        List<StateBatch> out = new ArrayList<>();
        for (StateBatch b : batches) {
            StateBatch last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.lastOffset() + 1 == b.firstOffset() && last.deliveryState() == b.deliveryState()
                    && last.deliveryCount() == b.deliveryCount()) {
                out.set(out.size() - 1, new StateBatch(last.firstOffset(), b.lastOffset(), b.deliveryState(),
                        b.deliveryCount()));
            } else {
                out.add(b);
            }
        }
        return out;
    }
}
