package io.gregor.storage;

import org.apache.kafka.common.compress.Compression;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.rec;
import static org.assertj.core.api.Assertions.assertThat;

class TimestampTest {
    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> TestSupport.config(1024, 64));
    PartitionLog log;

    @BeforeEach
    void createLog() {
        log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1024, 64));
    }

    @Test
    void findsTheFirstRecordAtOrAfterATimestampAcrossSegments() {
        for (int i = 0; i < 100; i++) {
            log.append(batch(10_000 + i * 10L, i * 3, 3), 1, 1); // record timestamps t, t+1, t+2
        }
        assertThat(((FileLog) log).segmentCount()).isGreaterThan(3);
        assertThat(log.offsetForTimestamp(0)).contains(new TimestampOffset(10_000, 0, 1));
        assertThat(log.offsetForTimestamp(10_001)).contains(new TimestampOffset(10_001, 1, 1));
        assertThat(log.offsetForTimestamp(10_503)).contains(new TimestampOffset(10_510, 153, 1));
        assertThat(log.offsetForTimestamp(10_992)).contains(new TimestampOffset(10_992, 299, 1));
        assertThat(log.offsetForTimestamp(10_993)).isEmpty();
        assertThat(log.maxTimestamp()).contains(new TimestampOffset(10_992, 299, 1));
    }

    @Test
    void looksInsideCompressedBatchesAndFindsTheMaximumInTheMiddle() {
        log.append(batch(Compression.gzip().build(), rec(100, "a", "1"), rec(300, "b", "2"), rec(200, "c", "3")),
                0, 1);
        log.append(batch(Compression.NONE, rec(150, "d", "4")), 0, 1);
        assertThat(log.offsetForTimestamp(250)).contains(new TimestampOffset(300, 1, 0));
        assertThat(log.offsetForTimestamp(120)).contains(new TimestampOffset(300, 1, 0));
        assertThat(log.maxTimestamp()).contains(new TimestampOffset(300, 1, 0));
    }

    @Test
    void survivesAReopenThroughTheTimeIndex() {
        for (int i = 0; i < 50; i++) {
            log.append(batch(5_000 + i * 10L, i * 2, 2), 0, 1);
        }
        log = logs.reopen(true).get(TP).orElseThrow();
        assertThat(log.offsetForTimestamp(5_255)).contains(new TimestampOffset(5_260, 52, 0));
        assertThat(log.maxTimestamp()).contains(new TimestampOffset(5_491, 99, 0));
    }

    @Test
    void emptyLogHasNoTimestamps() {
        assertThat(log.offsetForTimestamp(0)).isEmpty();
        assertThat(log.maxTimestamp()).isEmpty();
    }
}
