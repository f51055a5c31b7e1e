package io.gregor.storage;

import io.gregor.storage.errors.InvalidProducerEpochException;
import io.gregor.storage.errors.OutOfOrderSequenceException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.idempotent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IdempotenceTest {
    static final long PID = 4242;

    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> TestSupport.config(4096, 100));
    PartitionLog log;

    @BeforeEach
    void createLog() {
        log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(4096, 100));
    }

    private void reopen(boolean clean) {
        log = logs.reopen(clean).get(TP).orElseThrow();
    }

    @Test
    void aRetriedBatchIsADuplicateWithItsOriginalOffsets() {
        log.append(batch(1, 0, 4), 0, 1); // offsets 0..3 from a non-idempotent producer
        AppendResult first = log.append(idempotent(PID, (short) 0, 0, 0, 3), 0, 1);
        log.append(idempotent(PID, (short) 0, 3, 3, 2), 0, 1);
        long leo = log.logEndOffset();
        AppendResult again = log.append(idempotent(PID, (short) 0, 0, 0, 3), 0, 1);
        assertThat(again.duplicate()).isTrue();
        assertThat(again.firstOffset()).isEqualTo(first.firstOffset()).isEqualTo(4);
        assertThat(again.lastOffset()).isEqualTo(first.lastOffset()).isEqualTo(6);
        assertThat(log.logEndOffset()).isEqualTo(leo);
    }

    @Test
    void onlyTheLastFiveBatchesAreRemembered() {
        for (int i = 0; i < 6; i++) {
            log.append(idempotent(PID, (short) 0, i, i, 1), 0, 1);
        }
        assertThat(log.append(idempotent(PID, (short) 0, 1, 1, 1), 0, 1).duplicate()).isTrue();
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 0, 0, 0, 1), 0, 1))
                .isInstanceOf(OutOfOrderSequenceException.class);
    }

    @Test
    void aSequenceGapIsOutOfOrder() {
        log.append(idempotent(PID, (short) 0, 0, 0, 2), 0, 1);
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 0, 5, 0, 1), 0, 1))
                .isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(log.logEndOffset()).isEqualTo(2);
        assertThat(log.append(idempotent(PID, (short) 0, 2, 2, 1), 0, 1).firstOffset()).isEqualTo(2);
    }

    @Test
    void aStaleEpochIsRejectedAndANewEpochMustStartAtZero() {
        log.append(idempotent(PID, (short) 3, 0, 0, 2), 0, 1);
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 2, 2, 0, 1), 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class);
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 4, 2, 0, 1), 0, 1))
                .isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(log.append(idempotent(PID, (short) 4, 0, 2, 1), 0, 1).duplicate()).isFalse();
    }

    @Test
    void sequencesWrapAtIntegerMaxValue() {
        log.append(idempotent(PID, (short) 0, Integer.MAX_VALUE - 1, 0, 2), 0, 1);
        assertThat(log.append(idempotent(PID, (short) 0, 0, 2, 1), 0, 1).firstOffset()).isEqualTo(2);
    }

    @Test
    void stateSurvivesACleanRestartThroughTheSnapshot() {
        log.append(idempotent(PID, (short) 1, 0, 0, 3), 0, 1);
        reopen(true);
        assertThat(java.nio.file.Files.exists(logs.dir().resolve("orders-0/00000000000000000003.snapshot"))).isTrue();
        AppendResult dup = log.append(idempotent(PID, (short) 1, 0, 0, 3), 0, 1);
        assertThat(dup.duplicate()).isTrue();
        assertThat(dup.firstOffset()).isZero();
        assertThat(dup.lastOffset()).isEqualTo(2);
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 1, 9, 3, 1), 0, 1))
                .isInstanceOf(OutOfOrderSequenceException.class);
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 0, 3, 3, 1), 0, 1))
                .isInstanceOf(InvalidProducerEpochException.class);
        assertThat(log.append(idempotent(PID, (short) 1, 3, 3, 1), 0, 1).firstOffset()).isEqualTo(3);
    }

    @Test
    void stateSurvivesAnUncleanStopByReplayingTheLog() {
        // enough data to roll (snapshot at the roll) and then more batches after the last snapshot
        for (int i = 0; i < 60; i++) {
            log.append(idempotent(PID, (short) 0, i * 2, i * 2, 2), 0, 1);
        }
        assertThat(((FileLog) log).segmentCount()).isGreaterThan(1);
        reopen(false);
        assertThat(log.logEndOffset()).isEqualTo(120);
        AppendResult dup = log.append(idempotent(PID, (short) 0, 118, 118, 2), 0, 1);
        assertThat(dup.duplicate()).isTrue();
        assertThat(dup.firstOffset()).isEqualTo(118);
        assertThatThrownBy(() -> log.append(idempotent(PID, (short) 0, 121, 120, 1), 0, 1))
                .isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(log.append(idempotent(PID, (short) 0, 120, 120, 1), 0, 1).firstOffset()).isEqualTo(120);
    }
}
