package io.gregor.storage;

import io.gregor.storage.errors.InvalidTxnStateException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.readAll;
import static io.gregor.storage.TransactionLogTest.txn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * KIP-890 part 1 on a real log (Kafka's VerificationStateEntry): a transactional append verified with the
 * coordinator lands only if nothing ended the producer's transaction while the verification was under way.
 */
class VerificationGuardTest {
    private static final long PID = 4000;
    private static final short EPOCH = 3;

    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> TestSupport.config(1 << 20, 100));
    PartitionLog log;

    @BeforeEach
    void createLog() {
        log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1 << 20, 100));
    }

    @Test
    void aVerifiedAppendWithTheCurrentGuardOpensTheTransaction() {
        VerificationGuard guard = log.verificationGuard(PID, 0, EPOCH);
        assertThat(log.verificationGuard(PID, 0, EPOCH)).as("the verification under way keeps its guard")
                .isSameAs(guard);

        assertThat(log.append(txn(PID, EPOCH, 0, 0, 2), 0, 1, guard).firstOffset()).isZero();
        assertThat(log.hasOngoingTransaction(PID, EPOCH)).isTrue();
        // the transaction is open here: later batches need no verification
        assertThat(log.append(txn(PID, EPOCH, 2, 2, 1), 0, 1, VerificationGuard.SENTINEL).firstOffset()).isEqualTo(2);
    }

    @Test
    void aVerificationAnsweredAfterTheTransactionWasAbortedIsStaleAndItsAppendIsRefused() {
        log.append(txn(PID, EPOCH, 0, 0, 1), 0, 1, log.verificationGuard(PID, 0, EPOCH)); // the transaction opens
        // the producer's next batch was sent (sequence 1) and its partition verified again, e.g. after a retry
        VerificationGuard stale = log.verificationGuard(PID, 1, EPOCH);
        log.appendTxnMarker(PID, EPOCH, 0, false, 0, 0, 1); // the coordinator aborted meanwhile (timeout)
        log.updateHighWatermark(log.logEndOffset());

        assertThatThrownBy(() -> log.append(txn(PID, EPOCH, 1, 1, 1), 0, 1, stale))
                .isInstanceOf(InvalidTxnStateException.class)
                .hasMessageContaining("not part of an ongoing transaction");
        assertThat(log.logEndOffset()).as("nothing written").isEqualTo(2);
        assertThat(log.hasOngoingTransaction(PID, EPOCH)).isFalse();
        assertThat(log.lastStableOffset()).as("no transaction left open").isEqualTo(2);
    }

    @Test
    void anAppendWithoutAVerificationUnderWayIsRefusedWhenTheTransactionIsNotOpenHere() {
        // the handler saw the transaction open and skipped verification, but a marker ended it before the append
        log.append(txn(PID, EPOCH, 0, 0, 1), 0, 1, log.verificationGuard(PID, 0, EPOCH));
        log.appendTxnMarker(PID, EPOCH, 0, true, 0, 0, 1);
        assertThatThrownBy(() -> log.append(txn(PID, EPOCH, 1, 1, 1), 0, 1, VerificationGuard.SENTINEL))
                .isInstanceOf(InvalidTxnStateException.class);
        // a guard from another verification that a marker retired is no better
        VerificationGuard retired = log.verificationGuard(PID, 1, EPOCH);
        log.appendTxnMarker(PID, EPOCH, 0, true, 0, 0, 1); // a retried marker of the same transaction
        assertThatThrownBy(() -> log.append(txn(PID, EPOCH, 1, 1, 1), 0, 1, retired))
                .isInstanceOf(InvalidTxnStateException.class);

        // a fresh verification lets the producer's next transaction in
        VerificationGuard fresh = log.verificationGuard(PID, 1, EPOCH);
        assertThat(log.append(txn(PID, EPOCH, 1, 1, 1), 0, 1, fresh).firstOffset()).isEqualTo(3);
        assertThat(readAll(log, 0)).hasSize(4);
    }

    @Test
    void aCoordinatorsTransactionalWriteWithAStaleGuardIsRefusedToo() {
        // TxnOffsetCommit: the group coordinator writes the offsets as the producer's batch, without a sequence
        VerificationGuard stale = log.verificationGuard(PID, -1, EPOCH);
        log.appendTxnMarker(PID, EPOCH, 0, false, 0, 0, 1); // the transaction was aborted meanwhile
        ByteBuffer offsets = MemoryRecords.withTransactionalRecords(Compression.NONE, PID, EPOCH, 0,
                new SimpleRecord(1L, "offset-key".getBytes(), "42".getBytes())).buffer();
        offsets.putInt(Batches.BASE_SEQUENCE, RecordBatch.NO_SEQUENCE); // as the coordinator writes it
        offsets.putInt(Batches.CRC, (int) Batches.crc(new java.util.zip.CRC32C(), offsets, 0, offsets.limit()));
        assertThatThrownBy(() -> log.appendFromCoordinator(offsets.duplicate(), 0, 1, stale))
                .isInstanceOf(InvalidTxnStateException.class);
        assertThat(log.logEndOffset()).isEqualTo(1);

        VerificationGuard fresh = log.verificationGuard(PID, -1, EPOCH);
        assertThat(log.appendFromCoordinator(offsets.duplicate(), 0, 1, fresh).firstOffset()).isEqualTo(1);
        assertThat(log.hasOngoingTransaction(PID, EPOCH)).isTrue();
    }

    @Test
    void withoutVerificationInForceNoGuardIsAsked() {
        assertThat(log.append(txn(PID, EPOCH, 0, 0, 1), 0, 1).firstOffset()).isZero();
        assertThat(log.append(txn(PID, EPOCH, 1, 1, 1), 0, 1, null).firstOffset()).isEqualTo(1);
    }
}
