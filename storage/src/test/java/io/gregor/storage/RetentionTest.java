package io.gregor.storage;

import io.gregor.storage.errors.OffsetOutOfRangeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class RetentionTest {
    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> null);

    private static LogConfig config(long retentionMs, long retentionBytes) {
        return new LogConfig(1024, Long.MAX_VALUE, retentionMs, retentionBytes, 100, 1 << 20, Long.MAX_VALUE,
                Long.MAX_VALUE, 1 << 20, false, 0, false, true);
    }

    private FileLog filled(LogConfig config, long timestamp) {
        FileLog log = (FileLog) logs.manager().getOrCreate(TP, Uuids.random(), config);
        for (int i = 0; i < 60; i++) {
            log.append(batch(timestamp, i * 2, 2), 0, timestamp);
        }
        log.updateHighWatermark(log.logEndOffset());
        return log;
    }

    private String logStartCheckpoint() throws Exception {
        return Files.readString(logs.dir().resolve("log-start-offset-checkpoint"));
    }

    @Test
    void retentionByBytesDeletesOldestSegmentsAndMovesTheLogStart() throws Exception {
        FileLog log = filled(config(-1, 3000), System.currentTimeMillis());
        List<Long> before = log.segmentBaseOffsets();
        logs.manager().retentionTask();
        List<Long> after = log.segmentBaseOffsets();
        assertThat(after.size()).isLessThan(before.size());
        // Kafka's rule: drop the oldest segment while the rest still holds at least retention.bytes
        assertThat(log.sizeInBytes()).isGreaterThanOrEqualTo(3000).isLessThan(3000 + 1024);
        assertThat(log.logStartOffset()).isEqualTo(after.get(0));
        assertThat(readAll(log, log.logStartOffset())).hasSize((int) (120 - log.logStartOffset()));
        assertThatThrownBy(() -> log.read(0, 100, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(logStartCheckpoint()).contains("orders 0 " + log.logStartOffset());
        // the files go after file.delete.delay.ms (0 here), renamed *.deleted meanwhile
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(logs.dir().resolve("orders-0/00000000000000000000.log")).doesNotExist());
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (var f = Files.list(logs.dir().resolve("orders-0"))) {
                return f.noneMatch(p -> p.toString().endsWith(".deleted"));
            }
        });
    }

    @Test
    void retentionByTimeDeletesExpiredSegmentsRollingTheActiveOneIfNeeded() {
        long old = System.currentTimeMillis() - 3_600_000;
        FileLog log = filled(config(60_000, -1), old);
        logs.manager().retentionTask();
        assertThat(log.logStartOffset()).isEqualTo(120);
        assertThat(log.segmentBaseOffsets()).containsExactly(120L);
        assertThat(log.logEndOffset()).isEqualTo(120);
        assertThat(log.append(batch(System.currentTimeMillis(), 120, 1), 0, 1).firstOffset()).isEqualTo(120);
        logs.manager().retentionTask();
        assertThat(log.logStartOffset()).isEqualTo(120);
    }

    @Test
    void nothingPastTheHighWatermarkIsDeleted() {
        long old = System.currentTimeMillis() - 3_600_000;
        FileLog log = filled(config(60_000, -1), old);
        log.updateHighWatermark(0);
        logs.manager().retentionTask();
        assertThat(log.logStartOffset()).isZero();
    }

    @Test
    void deleteRecordsBeforeMovesTheLogStartAndDropsWholeSegmentsBelowIt() throws Exception {
        FileLog log = filled(config(-1, -1), System.currentTimeMillis());
        List<Long> bases = log.segmentBaseOffsets();
        long target = bases.get(2) + 1;
        assertThat(log.deleteRecordsBefore(target)).isEqualTo(target);
        assertThat(log.logStartOffset()).isEqualTo(target);
        assertThat(log.segmentBaseOffsets().get(0)).isEqualTo(bases.get(2));
        assertThat(logStartCheckpoint()).contains("orders 0 " + target);
        assertThatThrownBy(() -> log.read(target - 1, 100, Long.MAX_VALUE, true))
                .isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(log.deleteRecordsBefore(1)).isEqualTo(target);
        log.updateHighWatermark(100);
        assertThatThrownBy(() -> log.deleteRecordsBefore(101)).isInstanceOf(OffsetOutOfRangeException.class);

        PartitionLog reopened = logs.reopen(true, t -> config(-1, -1)).get(TP).orElseThrow();
        assertThat(reopened.logStartOffset()).isEqualTo(target);
        assertThat(reopened.highWatermark()).isEqualTo(100);
    }
}
