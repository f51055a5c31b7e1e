package io.gregor.storage;

import io.gregor.storage.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.readAll;
import static io.gregor.storage.TestSupport.recordsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AppendReadTest {
    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> null);

    private PartitionLog smallSegmentLog() {
        return logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1024, 100));
    }

    /** 100 batches of 3 records, each ~100 bytes: about ten segments of 1 KiB. */
    private PartitionLog filled() {
        PartitionLog log = smallSegmentLog();
        for (int i = 0; i < 100; i++) {
            AppendResult r = log.append(batch(1000 + i * 3, i * 3, 3), 0, 5000);
            assertThat(r.firstOffset()).isEqualTo(i * 3L);
            assertThat(r.lastOffset()).isEqualTo(i * 3L + 2);
            assertThat(r.duplicate()).isFalse();
        }
        log.updateHighWatermark(log.logEndOffset());
        return log;
    }

    private static List<String> expected(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(i + ":k" + i + ":v" + i);
        }
        return out;
    }

    @Test
    void roundTripAcrossSeveralSegments() throws Exception {
        PartitionLog log = filled();
        assertThat(log.logEndOffset()).isEqualTo(300);
        assertThat(((FileLog) log).segmentCount()).isGreaterThan(5);
        assertThat(readAll(log, 0)).isEqualTo(expected(0, 300));
        try (var files = Files.list(logs.dir().resolve("orders-0"))) {
            assertThat(files.map(p -> p.getFileName().toString())).contains(
                    "00000000000000000000.log", "00000000000000000000.index", "00000000000000000000.timeindex",
                    "partition.metadata", "leader-epoch-checkpoint");
        }
    }

    @Test
    void readsAtArbitraryOffsetsStartWithTheBatchHoldingThem() {
        PartitionLog log = filled();
        for (long offset : new long[]{0, 1, 2, 3, 44, 100, 151, 202, 298, 299}) {
            ReadResult r = log.read(offset, 1 << 20, Long.MAX_VALUE, true);
            List<RecordBatch> batches = batchesOf(r.records());
            assertThat(batches).isNotEmpty();
            assertThat(batches.get(0).baseOffset()).isEqualTo(offset / 3 * 3);
            assertThat(r.logEndOffset()).isEqualTo(300);
            assertThat(r.highWatermark()).isEqualTo(300);
        }
        assertThat(log.read(300, 1 << 20, Long.MAX_VALUE, true).records().isEmpty()).isTrue();
    }

    @Test
    void maxBytesLimitsToWholeBatchesAndMinOneBatchOverridesIt() {
        PartitionLog log = filled();
        int batchSize = batchesOf(log.read(0, 1 << 20, Long.MAX_VALUE, true).records()).get(0).sizeInBytes();

        ReadResult two = log.read(0, batchSize * 2 + batchSize / 2, Long.MAX_VALUE, true);
        assertThat(two.records().size()).isEqualTo(batchSize * 2);
        assertThat(recordsOf(two.records())).isEqualTo(expected(0, 6));

        ReadResult tiny = log.read(3, 10, Long.MAX_VALUE, true);
        assertThat(recordsOf(tiny.records())).isEqualTo(expected(3, 6));

        assertThat(log.read(3, 10, Long.MAX_VALUE, false).records().isEmpty()).isTrue();
    }

    @Test
    void neverReadsBatchesAtOrPastMaxOffset() {
        PartitionLog log = filled();
        log.updateHighWatermark(9);
        ReadResult r = log.read(0, 1 << 20, log.highWatermark(), true);
        assertThat(recordsOf(r.records())).isEqualTo(expected(0, 9));
        assertThat(log.read(9, 1 << 20, 9, true).records().isEmpty()).isTrue();
    }

    @Test
    void offsetsOutsideTheLogAreRejected() {
        PartitionLog log = filled();
        assertThatThrownBy(() -> log.read(301, 100, Long.MAX_VALUE, true))
                .isInstanceOf(OffsetOutOfRangeException.class);
        assertThatThrownBy(() -> log.read(-1, 100, Long.MAX_VALUE, true))
                .isInstanceOf(OffsetOutOfRangeException.class);
    }

    @Test
    void severalBatchesInOneAppendGetConsecutiveOffsets() {
        PartitionLog log = smallSegmentLog();
        AppendResult r = log.append(TestSupport.concat(batch(1, 0, 2), batch(1, 2, 3)), 0, 1);
        assertThat(r.firstOffset()).isEqualTo(0);
        assertThat(r.lastOffset()).isEqualTo(4);
        assertThat(readAll(log, 0)).isEqualTo(expected(0, 5));
    }

    @Test
    void concurrentReaderSeesOnlyWholeBatches() throws Exception {
        PartitionLog log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(64 * 1024, 512));
        int batches = 3000;
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> writer = pool.submit(() -> {
                for (int i = 0; i < batches; i++) {
                    log.append(batch(i, i * 2, 2), 0, i);
                }
                done.set(true);
            });
            Future<Long> reader = pool.submit(() -> {
                long next = 0;
                long reads = 0;
                while (!done.get() || next < log.logEndOffset()) {
                    ReadResult r = log.read(next, 700, Long.MAX_VALUE, true);
                    if (r.records().isEmpty()) {
                        continue;
                    }
                    reads++;
                    // whole, valid batches only, continuing exactly where the previous read ended
                    List<RecordBatch> got = batchesOf(r.records());
                    int total = 0;
                    for (RecordBatch b : got) {
                        b.ensureValid();
                        assertThat(b.baseOffset()).isEqualTo(next);
                        next = b.lastOffset() + 1;
                        total += b.sizeInBytes();
                    }
                    assertThat(total).isEqualTo(r.records().size());
                }
                assertThat(next).isEqualTo(batches * 2L);
                return reads;
            });
            writer.get();
            assertThat(reader.get()).isPositive();
        } finally {
            pool.shutdownNow();
        }
        assertThat(readAll(log, 0)).hasSize(batches * 2);
    }

    @Test
    void readOnlyBuffersAreCopiedNotRejected() {
        PartitionLog log = smallSegmentLog();
        ByteBuffer ro = batch(1, 0, 2).asReadOnlyBuffer();
        log.append(ro, 0, 1);
        assertThat(readAll(log, 0)).isEqualTo(expected(0, 2));
    }
}
