package io.gregor.storage;

import io.gregor.storage.errors.InvalidProducerEpochException;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.InvalidTxnStateException;
import io.gregor.storage.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.idempotent;
import static io.gregor.storage.TestSupport.rec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Transactional batches, broker-written markers, the last stable offset and the .txnindex of a partition log. */
class TransactionLogTest {
    static final long PID_A = 1000;
    static final long PID_B = 2000;

    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> TestSupport.config(1 << 20, 100));
    PartitionLog log;

    @BeforeEach
    void createLog() {
        log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1 << 20, 100));
    }

    static ByteBuffer txn(long pid, short epoch, int seq, int first, int count) {
        SimpleRecord[] recs = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            recs[i] = rec(1000 + i, "k" + (first + i), "v" + (first + i));
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, seq, recs).buffer();
    }

    private void replicate() {
        log.updateHighWatermark(log.logEndOffset());
    }

    private Path partitionDir() {
        return logs.dir().resolve("orders-0");
    }

    /** The .txnindex entries of a segment, decoded from the file as Kafka's TransactionIndex reads them. */
    private List<AbortedTxn> txnIndexFile(long segmentBase) throws IOException {
        Path file = partitionDir().resolve(FileUtil.filenamePrefix(segmentBase) + ".txnindex");
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
        List<AbortedTxn> out = new java.util.ArrayList<>();
        while (buf.remaining() >= 34) {
            assertThat(buf.getShort()).isZero();
            out.add(new AbortedTxn(buf.getLong(), buf.getLong(), buf.getLong(), buf.getLong()));
        }
        assertThat(buf.remaining()).isZero();
        return out;
    }

    @Test
    void anOpenTransactionHoldsTheLastStableOffsetUntilItsCommitMarkerIsReplicated() {
        log.append(batch(1, 0, 2), 0, 1); // 0..1 plain
        log.append(txn(PID_A, (short) 0, 0, 0, 3), 0, 1); // 2..4
        log.append(batch(1, 5, 2), 0, 1); // 5..6 plain
        replicate();
        assertThat(log.highWatermark()).isEqualTo(7);
        assertThat(log.lastStableOffset()).isEqualTo(2);

        AppendResult marker = log.appendTxnMarker(PID_A, (short) 0, 5, true, 0, 0, 1);
        assertThat(marker.firstOffset()).isEqualTo(7);
        assertThat(log.lastStableOffset()).as("the marker is not replicated yet").isEqualTo(2);
        replicate();
        assertThat(log.lastStableOffset()).isEqualTo(8);
        assertThat(log.abortedTransactions(0, 8)).isEmpty();

        RecordBatch control = batchesOf(log.read(7, 1 << 20, Long.MAX_VALUE, true).records()).get(0);
        assertThat(control.isControlBatch()).isTrue();
        assertThat(control.producerId()).isEqualTo(PID_A);
        Record r = control.iterator().next();
        EndTransactionMarker m = EndTransactionMarker.deserialize(r);
        assertThat(m.controlType()).isEqualTo(ControlRecordType.COMMIT);
        assertThat(m.coordinatorEpoch()).isEqualTo(5);
    }

    @Test
    void anAbortIsIndexedInKafkasTxnIndexFormatWithTheLsoItLeaves() throws IOException {
        log.append(txn(PID_A, (short) 0, 0, 0, 2), 0, 1); // 0..1 A
        log.append(txn(PID_B, (short) 0, 0, 2, 2), 0, 1); // 2..3 B
        log.appendTxnMarker(PID_A, (short) 0, 1, false, 0, 0, 1); // 4: abort A, B still open from 2
        log.appendTxnMarker(PID_B, (short) 0, 1, false, 0, 0, 1); // 5: abort B, nothing open
        replicate();
        assertThat(log.lastStableOffset()).isEqualTo(6);
        List<AbortedTxn> expected = List.of(new AbortedTxn(PID_A, 0, 4, 2), new AbortedTxn(PID_B, 2, 5, 6));
        assertThat(txnIndexFile(0)).isEqualTo(expected);
        assertThat(log.abortedTransactions(0, 6)).isEqualTo(expected);
        assertThat(log.abortedTransactions(5, 6)).containsExactly(new AbortedTxn(PID_B, 2, 5, 6));
        assertThat(log.abortedTransactions(0, 2)).containsExactly(new AbortedTxn(PID_A, 0, 4, 2));
    }

    @Test
    void markersFenceOlderProducerAndCoordinatorEpochsAndPlainWritesInsideATransactionAreRefused() {
        log.append(txn(PID_A, (short) 3, 0, 0, 2), 0, 1);
        assertThatThrownBy(() -> log.append(idempotent(PID_A, (short) 3, 2, 2, 1), 0, 1))
                .isInstanceOf(InvalidTxnStateException.class);
        assertThatThrownBy(() -> log.appendTxnMarker(PID_A, (short) 2, 0, true, 0, 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class);
        assertThatThrownBy(() -> log.append(txn(PID_A, (short) 2, 2, 2, 1), 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class);
        log.appendTxnMarker(PID_A, (short) 3, 7, true, 0, 0, 1);
        log.append(txn(PID_A, (short) 3, 2, 2, 1), 0, 1);
        assertThatThrownBy(() -> log.appendTxnMarker(PID_A, (short) 3, 6, false, 0, 0, 1))
                .isInstanceOf(TransactionCoordinatorFencedException.class);
        assertThat(log.logEndOffset()).isEqualTo(4);
    }

    @Test
    void transactionsV2MarkersMustCarryABumpedEpochButARetriedMarkerPasses() {
        log.append(txn(PID_A, (short) 4, 0, 0, 2), 0, 1);
        assertThatThrownBy(() -> log.appendTxnMarker(PID_A, (short) 4, 0, true, 2, 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class).hasMessageContaining("TV2");
        assertThat(log.appendTxnMarker(PID_A, (short) 5, 0, true, 2, 0, 1).firstOffset()).isEqualTo(2);
        // the coordinator retries a marker whose answer it lost: same epoch, no transaction open
        assertThat(log.appendTxnMarker(PID_A, (short) 5, 0, true, 2, 0, 1).firstOffset()).isEqualTo(3);
        assertThatThrownBy(() -> log.appendTxnMarker(PID_A, (short) 4, 0, true, 2, 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class);
        replicate();
        assertThat(log.lastStableOffset()).isEqualTo(4);
    }

    /** A transactional batch as the group coordinator writes offsets: the producer's id and epoch, sequence 0. */
    static ByteBuffer coordinatorTxn(long pid, short epoch) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, 0, rec(5, "group", "offset"))
                .buffer();
    }

    @Test
    void aCoordinatorsTransactionalWritesAreCheckedForTheirEpochButNotForSequences() {
        AppendResult first = log.appendFromCoordinator(coordinatorTxn(PID_A, (short) 2), 0, 1);
        AppendResult again = log.appendFromCoordinator(coordinatorTxn(PID_A, (short) 2), 0, 1);
        assertThat(again.duplicate()).isFalse();
        assertThat(again.firstOffset()).isEqualTo(first.firstOffset() + 1);
        assertThatThrownBy(() -> log.appendFromCoordinator(coordinatorTxn(PID_A, (short) 1), 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class);
        replicate();
        assertThat(log.lastStableOffset()).isZero();
        log.appendTxnMarker(PID_A, (short) 2, 0, true, 0, 0, 1);
        replicate();
        assertThat(log.lastStableOffset()).isEqualTo(3);
        // the same batch from a client is a sequence duplicate of the first
        log.append(coordinatorTxn(PID_B, (short) 0), 0, 1);
        assertThat(log.append(coordinatorTxn(PID_B, (short) 0), 0, 1).duplicate()).isTrue();
    }

    @Test
    void aClientsProducerBatchWithoutASequenceIsAnInvalidRecordButACoordinatorMayWriteOne() {
        ByteBuffer noSequence = coordinatorTxn(PID_A, (short) 0);
        noSequence.putInt(53, -1); // base sequence, then the CRC again
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(noSequence.duplicate().position(21));
        noSequence.putInt(17, (int) crc.getValue());
        assertThatThrownBy(() -> log.append(noSequence.duplicate(), 0, 1)).isInstanceOf(InvalidRecordException.class)
                .hasMessageContaining("Invalid sequence number -1");
        log.appendFromCoordinator(noSequence.duplicate(), 0, 1);
        log.appendFromCoordinator(noSequence.duplicate(), 0, 1);
        assertThat(log.logEndOffset()).isEqualTo(2);
        assertThat(log.activeProducers()).singleElement()
                .satisfies(p -> assertThat(p.lastSequence()).as("no sequence state from coordinator writes").isEqualTo(-1));
    }

    @Test
    void idleProducersWithoutAnOpenTransactionExpire() {
        log.append(idempotent(PID_A, (short) 0, 0, 0, 2), 0, 1); // record time 1000..1001
        log.append(txn(PID_B, (short) 0, 0, 2, 1), 0, 1); // open transaction, record time 1000
        long expiration = 60_000;
        assertThat(logs.manager().removeExpiredProducers(1001 + expiration - 1, expiration)).isZero();
        assertThat(logs.manager().removeExpiredProducers(1001 + expiration, expiration)).isEqualTo(1);
        assertThat(log.activeProducers()).extracting(PartitionLog.ProducerDescription::producerId)
                .containsExactly(PID_B);
        // forgotten: its next batch may start at any sequence, as for an unknown producer
        log.append(idempotent(PID_A, (short) 0, 7, 3, 1), 0, 1);
        log.appendTxnMarker(PID_B, (short) 0, 0, true, 0, 0, 5_000); // the marker's time is when it was written
        assertThat(logs.manager().removeExpiredProducers(5_000 + expiration - 1, expiration)).isEqualTo(1);
        assertThat(log.activeProducers()).extracting(PartitionLog.ProducerDescription::producerId)
                .containsExactly(PID_B);
    }

    @Test
    void aClientsControlBatchIsStillRefused() {
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(0L, 1L, 0, PID_A, (short) 0,
                new EndTransactionMarker(ControlRecordType.ABORT, 0)).buffer();
        assertThatThrownBy(() -> log.append(marker, 0, 1)).isInstanceOf(InvalidRecordException.class);
    }

    @Test
    void aCrashLosesNeitherTheOpenTransactionNorTheAbortIndex() throws IOException {
        log.append(txn(PID_A, (short) 0, 0, 0, 2), 0, 1); // 0..1
        log.appendTxnMarker(PID_A, (short) 0, 1, false, 0, 0, 1); // 2
        log.append(txn(PID_B, (short) 0, 0, 3, 2), 0, 1); // 3..4, left open
        replicate();
        log.flush();
        Path index = partitionDir().resolve("00000000000000000000.txnindex");
        Files.write(index, new byte[]{1, 2, 3}, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);

        log = logs.reopen(false).get(TP).orElseThrow();
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.lastStableOffset()).isEqualTo(3);
        assertThat(txnIndexFile(0)).containsExactly(new AbortedTxn(PID_A, 0, 2, 3));
        assertThat(log.abortedTransactions(0, 5)).containsExactly(new AbortedTxn(PID_A, 0, 2, 3));
        log.appendTxnMarker(PID_B, (short) 0, 1, true, 0, 0, 1);
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.lastStableOffset()).isEqualTo(6);
    }

    @Test
    void theSnapshotKeepsTheOpenTransactionsFirstOffsetAcrossACleanRestart() throws IOException {
        log.append(batch(1, 0, 3), 0, 1);
        log.append(txn(PID_A, (short) 1, 0, 3, 2), 0, 1); // 3..4 open
        log = logs.reopen(true).get(TP).orElseThrow();
        ByteBuffer snap = ByteBuffer.wrap(Files.readAllBytes(partitionDir().resolve("00000000000000000005.snapshot")));
        // v1 entry: pid 8, epoch 2, last seq 4, last offset 8, offset delta 4, timestamp 8, coordinator epoch 4, txn first 8
        assertThat(snap.getInt(6)).isEqualTo(1);
        assertThat(snap.getLong(10)).isEqualTo(PID_A);
        assertThat(snap.getLong(10 + 8 + 2 + 4 + 8 + 4 + 8 + 4)).isEqualTo(3);
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.lastStableOffset()).isEqualTo(3);
        assertThat(log.activeProducers()).containsExactly(
                new PartitionLog.ProducerDescription(PID_A, 1, 1, 1001, -1, 3));
    }

    @Test
    void aFollowerIndexesTheAbortsItReplicatesAndTruncationForgetsThem() throws IOException {
        log.append(txn(PID_A, (short) 0, 0, 0, 2), 0, 1);
        log.appendTxnMarker(PID_A, (short) 0, 1, false, 0, 0, 1); // 2
        log.append(txn(PID_B, (short) 0, 0, 3, 1), 0, 1); // 3
        log.appendTxnMarker(PID_B, (short) 0, 1, false, 0, 0, 1); // 4
        ByteBuffer all = TestSupport.bytesOf(log.read(0, 1 << 20, Long.MAX_VALUE, true).records());

        PartitionLog follower = logs.manager().getOrCreate(new TopicPartition("orders", 1), Uuids.random(),
                TestSupport.config(1 << 20, 100));
        follower.appendAsFollower(all);
        follower.updateHighWatermark(follower.logEndOffset());
        assertThat(follower.abortedTransactions(0, 5)).containsExactly(new AbortedTxn(PID_A, 0, 2, 3),
                new AbortedTxn(PID_B, 3, 4, 5));
        follower.truncateTo(3);
        assertThat(follower.abortedTransactions(0, 5)).containsExactly(new AbortedTxn(PID_A, 0, 2, 3));
    }

    @Test
    void theTxnIndexGoesWithItsSegmentWhenRetentionDeletesIt() {
        FileLog fileLog = (FileLog) log;
        log.append(txn(PID_A, (short) 0, 0, 0, 2), 0, 1);
        log.appendTxnMarker(PID_A, (short) 0, 1, false, 0, 0, 1);
        fileLog.roll();
        log.append(batch(1, 3, 2), 0, 1);
        replicate();
        Path index = partitionDir().resolve("00000000000000000000.txnindex");
        assertThat(index).exists();
        log.deleteRecordsBefore(3);
        assertThat(log.abortedTransactions(3, 5)).isEmpty();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(index).doesNotExist();
            assertThat(partitionDir().resolve("00000000000000000000.txnindex.deleted")).doesNotExist();
        });
    }
}
