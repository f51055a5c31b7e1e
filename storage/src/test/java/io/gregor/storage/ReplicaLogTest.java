package io.gregor.storage;

import io.gregor.storage.PartitionLog.EpochEndOffset;
import io.gregor.storage.errors.CorruptRecordException;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.bytesOf;
import static io.gregor.storage.TestSupport.readAll;
import static io.gregor.storage.TestSupport.recordsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The follower side of a log: appending a leader's batches as they are, truncating, epoch end offsets. */
class ReplicaLogTest {
    @TempDir
    Path leaderDir;
    @TempDir
    Path followerDir;
    FileLogManager leaders;
    FileLogManager followers;
    final String topicId = Uuids.random();

    @BeforeEach
    void open() {
        leaders = FileLogManager.open(TestSupport.settings(leaderDir), t -> null);
        followers = FileLogManager.open(TestSupport.settings(followerDir), t -> null);
    }

    @AfterEach
    void close() {
        leaders.close();
        followers.close();
    }

    private PartitionLog log(FileLogManager m) {
        return m.getOrCreate(TP, topicId, TestSupport.config(1024, 100));
    }

    /** Everything the leader holds from {@code from}, as one fetch response would carry it. */
    private static ByteBuffer fetched(PartitionLog leader, long from) {
        return bytesOf(leader.read(from, Integer.MAX_VALUE, Long.MAX_VALUE, true).records());
    }

    private static byte[] allBytes(PartitionLog log) {
        ByteBuffer out = ByteBuffer.allocate((int) log.sizeInBytes() + 1024 * 1024);
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            ByteBuffer b = fetched(log, next);
            List<RecordBatch> batches = batchesOf(log.read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true).records());
            out.put(b);
            next = batches.get(batches.size() - 1).lastOffset() + 1;
        }
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    @Test
    void followerKeepsTheLeadersOffsetsEpochsAndBytesAcrossSegments() {
        PartitionLog leader = log(leaders);
        PartitionLog follower = log(followers);
        for (int i = 0; i < 30; i++) {
            leader.append(batch(1000 + i, i * 3, 3), i < 10 ? 0 : 2, 5000);
        }
        // a read stops at a segment's end, so it takes several fetches, as for a real follower
        long end = 0;
        while (end < leader.logEndOffset()) {
            end = follower.appendAsFollower(fetched(leader, end));
        }
        assertThat(end).isEqualTo(90).isEqualTo(follower.logEndOffset());
        assertThat(allBytes(follower)).isEqualTo(allBytes(leader));
        assertThat(follower.latestEpoch()).isEqualTo(2);
        assertThat(follower.endOffsetForEpoch(0)).isEqualTo(new EpochEndOffset(0, 30));
        assertThat(readAll(follower, 0)).isEqualTo(readAll(leader, 0));
    }

    @Test
    void batchesAlreadyHeldAreSkippedAndAPartialTrailingBatchIsLeftForTheNextFetch() {
        PartitionLog leader = log(leaders);
        PartitionLog follower = log(followers);
        for (int i = 0; i < 4; i++) {
            leader.append(batch(1000, i * 2, 2), 0, 5000);
        }
        ByteBuffer all = fetched(leader, 0);
        follower.appendAsFollower(fetched(leader, 0).limit(all.limit() - 7));
        assertThat(follower.logEndOffset()).isEqualTo(6);
        assertThat(follower.appendAsFollower(all)).isEqualTo(8);
        assertThat(allBytes(follower)).isEqualTo(allBytes(leader));
    }

    @Test
    void aCorruptBatchIsRefusedAndNothingIsWritten() {
        PartitionLog leader = log(leaders);
        PartitionLog follower = log(followers);
        leader.append(batch(1000, 0, 2), 0, 5000);
        ByteBuffer bad = fetched(leader, 0);
        bad.put(bad.limit() - 1, (byte) (bad.get(bad.limit() - 1) ^ 1));
        assertThatThrownBy(() -> follower.appendAsFollower(bad)).isInstanceOf(CorruptRecordException.class);
        assertThat(follower.logEndOffset()).isZero();
        assertThat(follower.sizeInBytes()).isZero();
    }

    @Test
    void truncateToDropsWholeBatchesAndLaterSegmentsThenAppendsContinue() {
        PartitionLog log = log(leaders);
        for (int i = 0; i < 40; i++) {
            log.append(batch(1000 + i, i * 3, 3), i < 20 ? 0 : 1, 5000);
        }
        assertThat(((FileLog) log).segmentCount()).isGreaterThan(3);
        log.updateHighWatermark(120);
        log.truncateTo(31); // inside the batch 30..32: the log ends at 30
        assertThat(log.logEndOffset()).isEqualTo(30);
        assertThat(log.highWatermark()).isEqualTo(30);
        assertThat(log.latestEpoch()).isZero();
        assertThat(log.endOffsetForEpoch(1)).isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat(((FileLog) log).segmentBaseOffsets()).allMatch(base -> base <= 30);
        assertThat(readAll(log, 0)).hasSize(30).last().asString().startsWith("29:");
        AppendResult r = log.append(batch(2000, 100, 2), 3, 6000);
        assertThat(r.firstOffset()).isEqualTo(30);
        assertThat(log.endOffsetForEpoch(0)).isEqualTo(new EpochEndOffset(0, 30));
        assertThat(log.endOffsetForEpoch(3)).isEqualTo(new EpochEndOffset(3, 32));
        assertThat(readAll(log, 28)).containsExactly("28:k28:v28", "29:k29:v29", "30:k100:v100", "31:k101:v101");
    }

    @Test
    void readsAtBatchBoundariesAfterATruncationFindTheNewBatchesNotTheOldPositions() {
        PartitionLog log = log(leaders);
        for (int i = 0; i < 10; i++) {
            log.append(batch(1000 + i, i, 1), 0, 5000); // one record per batch: a boundary at every offset
        }
        log.updateHighWatermark(10);
        assertThat(readAll(log, 8)).containsExactly("8:k8:v8", "9:k9:v9");

        log.truncateTo(5);
        log.append(batch(2000, 50, 3), 1, 6000); // offsets 5..7, so offset 8 now starts elsewhere in the file
        log.append(batch(2001, 80, 3), 1, 6000); // offsets 8..10
        log.append(batch(2002, 110, 3), 1, 6000); // 11..13: the old batches' end positions are inside the file again
        log.updateHighWatermark(14);

        assertThat(readAll(log, 8)).containsExactly("8:k80:v80", "9:k81:v81", "10:k82:v82",
                "11:k110:v110", "12:k111:v111", "13:k112:v112");
        assertThat(log.read(8, Integer.MAX_VALUE, 8, true).records().isEmpty()).as("nothing below max offset 8").isTrue();
        assertThat(recordsOf(log.read(5, Integer.MAX_VALUE, 8, true).records()))
                .containsExactly("5:k50:v50", "6:k51:v51", "7:k52:v52");
    }

    @Test
    void truncationSurvivesACleanRestartAndTheCheckpointMatches() throws IOException {
        PartitionLog log = log(leaders);
        for (int i = 0; i < 20; i++) {
            log.append(batch(1000 + i, i * 3, 3), i / 5, 5000);
        }
        log.truncateTo(33);
        leaders.close();
        leaders = FileLogManager.open(TestSupport.settings(leaderDir), t -> TestSupport.config(1024, 100));
        PartitionLog reopened = leaders.get(TP).orElseThrow();
        assertThat(reopened.logEndOffset()).isEqualTo(33);
        assertThat(reopened.latestEpoch()).isEqualTo(2);
        Path checkpoint = leaders.logDirOf(TP).resolve(TP.topic() + "-" + TP.partition()).resolve("leader-epoch-checkpoint");
        assertThat(Files.readAllLines(checkpoint)).containsExactly("0", "3", "0 0", "1 15", "2 30");
    }

    @Test
    void truncatingAtTheLogEndDropsAnEpochStartedThereWithoutWrites() {
        // A replica became leader at epoch 1 of an empty log and lost leadership before any write;
        // the new leader never had epoch 1, so the follower must forget it to stop diverging.
        PartitionLog log = log(followers);
        log.assignEpochStartOffset(1);
        assertThat(log.latestEpoch()).isEqualTo(1);

        log.truncateTo(0);

        assertThat(log.latestEpoch()).isEqualTo(-1);
        assertThat(log.logEndOffset()).isZero();
    }

    @Test
    void endOffsetForEpochFollowsKafkasRules() {
        PartitionLog log = log(leaders);
        assertThat(log.endOffsetForEpoch(0)).isEqualTo(EpochEndOffset.UNDEFINED);
        log.append(batch(1000, 0, 5), 2, 5000);
        log.append(batch(1000, 5, 5), 4, 5000);
        assertThat(log.endOffsetForEpoch(1)).isEqualTo(new EpochEndOffset(1, 0));
        assertThat(log.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 5));
        assertThat(log.endOffsetForEpoch(3)).isEqualTo(new EpochEndOffset(2, 5));
        assertThat(log.endOffsetForEpoch(4)).isEqualTo(new EpochEndOffset(4, 10));
        assertThat(log.endOffsetForEpoch(5)).isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat(log.endOffsetForEpoch(-1)).isEqualTo(EpochEndOffset.UNDEFINED);
    }

    @Test
    void aNewLeadersEpochStartsAtItsLogEndBeforeItWritesAndEndsTheEpochsBefore() {
        PartitionLog log = log(leaders);
        log.append(batch(1000, 0, 5), 0, 5000);
        log.assignEpochStartOffset(2);
        // a follower that last fetched epoch 1 (written by a leader we never heard from) learns epoch 0 ends at 5
        assertThat(log.endOffsetForEpoch(1)).isEqualTo(new EpochEndOffset(0, 5));
        assertThat(log.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 5));
        log.assignEpochStartOffset(1); // older: ignored
        log.append(batch(1000, 5, 5), 2, 5000);
        assertThat(log.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 10));
        assertThat(log.endOffsetForEpoch(0)).isEqualTo(new EpochEndOffset(0, 5));
    }

    @Test
    void aFollowerWithRecordsItsNewLeaderNeverHadEndsByteIdenticalAfterTruncating() {
        // The seed's first case: the old leader wrote offset 3 at epoch 0 that the follower never copied;
        // the follower became leader at epoch 1 and took new writes.
        PartitionLog oldLeader = log(leaders);
        PartitionLog newLeader = log(followers);
        for (int i = 0; i < 3; i++) {
            oldLeader.append(batch(1000, i, 1), 0, 5000);
        }
        newLeader.appendAsFollower(fetched(oldLeader, 0));
        oldLeader.append(batch(1000, 3, 1), 0, 5000);
        newLeader.append(batch(2000, 50, 2), 1, 6000);
        // the old leader, now a follower, asks where its last epoch ends on the new leader
        EpochEndOffset diverging = newLeader.endOffsetForEpoch(oldLeader.latestEpoch());
        assertThat(diverging).isEqualTo(new EpochEndOffset(0, 3));
        oldLeader.truncateTo(Math.min(diverging.endOffset(), oldLeader.logEndOffset()));
        oldLeader.appendAsFollower(fetched(newLeader, oldLeader.logEndOffset()));
        assertThat(allBytes(oldLeader)).isEqualTo(allBytes(newLeader));
        assertThat(readAll(oldLeader, 0)).containsExactly("0:k0:v0", "1:k1:v1", "2:k2:v2", "3:k50:v50", "4:k51:v51");
    }

    @Test
    void truncateFullyAndStartAtRestartsAFollowerBelowTheLeadersLogStartAndSurvivesReopening() throws IOException {
        PartitionLog leader = log(leaders);
        for (int i = 0; i < 30; i++) {
            leader.append(batch(1000 + i, i * 3, 3), i < 10 ? 0 : 2, 5000);
        }
        leader.updateHighWatermark(90);
        assertThat(leader.deleteRecordsBefore(60)).isEqualTo(60);
        // the follower stopped early: it holds offsets 0..14 plus an idempotent producer's state
        PartitionLog stale = log(followers);
        for (int i = 0; i < 5; i++) {
            stale.append(batch(1000 + i, i * 3, 3), 0, 5000);
        }
        stale.append(TestSupport.idempotent(7L, (short) 0, 0, 15, 3), 0, 5000);
        stale.updateHighWatermark(18);
        stale.flush();
        assertThat(stale.activeProducers()).hasSize(1);
        Path dir = followers.logDirOf(TP).resolve(TP.topic() + "-" + TP.partition());

        stale.truncateFullyAndStartAt(60);

        assertThat(stale.logStartOffset()).isEqualTo(60);
        assertThat(stale.logEndOffset()).isEqualTo(60);
        assertThat(stale.highWatermark()).isEqualTo(60);
        assertThat(stale.latestEpoch()).isEqualTo(-1);
        assertThat(stale.activeProducers()).isEmpty();
        assertThat(((FileLog) stale).segmentBaseOffsets()).containsExactly(60L);
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .filteredOn(n -> !n.endsWith(".deleted") && n.startsWith("0000"))
                    .allMatch(n -> n.startsWith("00000000000000000060."));
        }
        assertThatThrownBy(() -> stale.read(0, 1024, Long.MAX_VALUE, true))
                .isInstanceOf(io.gregor.storage.errors.OffsetOutOfRangeException.class);

        // fetching from the leader's log start goes on from there, epochs as the leader has them
        long end = 60;
        while (end < leader.logEndOffset()) {
            end = stale.appendAsFollower(fetched(leader, end));
        }
        stale.updateHighWatermark(90);
        assertThat(allBytes(stale)).isEqualTo(allBytes(leader));
        assertThat(stale.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 90));
        assertThat(((FileLog) stale).epochEntries()).isEqualTo(((FileLog) leader).epochEntries());

        followers.close();
        followers = FileLogManager.open(TestSupport.settings(followerDir), t -> TestSupport.config(1024, 100));
        PartitionLog reopened = followers.get(TP).orElseThrow();
        assertThat(reopened.logStartOffset()).isEqualTo(60);
        assertThat(reopened.logEndOffset()).isEqualTo(90);
        assertThat(reopened.highWatermark()).isEqualTo(90);
        assertThat(reopened.activeProducers()).isEmpty();
        assertThat(readAll(reopened, 60)).isEqualTo(readAll(leader, 60));
        assertThat(Files.readAllLines(dir.resolve("leader-epoch-checkpoint"))).containsExactly("0", "1", "2 60");
    }

    @Test
    void aCrashRightAfterTruncatingFullyReopensAnEmptyLogAtTheNewStart() {
        PartitionLog follower = log(followers);
        for (int i = 0; i < 10; i++) {
            follower.append(batch(1000 + i, i * 3, 3), 0, 5000);
        }
        follower.updateHighWatermark(30);
        follower.flush();

        follower.truncateFullyAndStartAt(500);
        followers.crashForTest();

        followers = FileLogManager.open(TestSupport.settings(followerDir), t -> TestSupport.config(1024, 100));
        PartitionLog reopened = followers.get(TP).orElseThrow();
        assertThat(reopened.logStartOffset()).isEqualTo(500);
        assertThat(reopened.logEndOffset()).isEqualTo(500);
        assertThat(reopened.highWatermark()).isEqualTo(500);
        assertThat(reopened.latestEpoch()).isEqualTo(-1);
        AppendResult r = reopened.append(batch(2000, 0, 2), 4, 6000);
        assertThat(r.firstOffset()).isEqualTo(500);
        reopened.updateHighWatermark(502);
        assertThat(readAll(reopened, 500)).containsExactly("500:k0:v0", "501:k1:v1");
    }
}
