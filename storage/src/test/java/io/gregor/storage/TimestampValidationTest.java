package io.gregor.storage;

import io.gregor.storage.errors.InvalidTimestampException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.rec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Kafka's timestamp rules on a leader append, for uncompressed and every compressed codec:
 * message.timestamp.before.max.ms / after.max.ms bound CreateTime records (INVALID_TIMESTAMP naming each
 * record out of range), LogAppendTime re-stamps the header, and a CreateTime header gets its records' max.
 */
class TimestampValidationTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final long HOUR = 3_600_000L;

    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> null);
    PartitionLog log;

    @BeforeEach
    void createLog() {
        log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1 << 20, 4096));
    }

    private void bounds(long beforeMaxMs, long afterMaxMs) {
        log.updateConfig(TestSupport.config(1 << 20, 4096).withTimestampBounds(beforeMaxMs, afterMaxMs));
    }

    private static ByteBuffer batch(String codec, long... timestamps) {
        SimpleRecord[] records = new SimpleRecord[timestamps.length];
        for (int i = 0; i < timestamps.length; i++) {
            records[i] = rec(timestamps[i], "k" + i, "value " + i);
        }
        return MemoryRecords.withRecords(Compression.of(codec).build(), records).buffer();
    }

    private RecordBatch onlyStoredBatch() {
        List<RecordBatch> stored = batchesOf(log.read(0, 1 << 20, Long.MAX_VALUE, true).records());
        assertThat(stored).hasSize(1);
        RecordBatch b = stored.get(0);
        b.ensureValid();
        return b;
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void recordsOutsideTheBoundsAreRejectedEachWithItsIndex(String codec) {
        bounds(HOUR, 1000);
        InvalidTimestampException e = catchThrowableOfType(InvalidTimestampException.class,
                () -> log.append(batch(codec, NOW, NOW - 2 * HOUR, NOW + 500, NOW + 2000), 0, NOW));
        assertThat(e.getMessage()).isEqualTo("One or more records have been rejected due to invalid timestamp");
        assertThat(e.recordErrorCount()).isEqualTo(2);
        assertThat(e.recordIndex(0)).isEqualTo(1);
        assertThat(e.recordMessage(0)).isEqualTo("Timestamp " + (NOW - 2 * HOUR)
                + " of message with offset 1 is out of range. The timestamp should be within ["
                + (NOW - HOUR) + ", " + (NOW + 1000) + "]");
        assertThat(e.recordIndex(1)).isEqualTo(3);
        assertThat(log.logEndOffset()).as("nothing of the batch is written").isZero();
        assertThat(log.sizeInBytes()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd"})
    void recordsAtTheBoundsAndWithoutATimestampAreAccepted(String codec) {
        bounds(HOUR, 1000);
        log.append(batch(codec, NOW - HOUR, NOW + 1000, -1), 0, NOW);
        assertThat(log.logEndOffset()).isEqualTo(3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd"})
    void unboundedTopicsTakeAnyTimestamp(String codec) {
        bounds(Long.MAX_VALUE, Long.MAX_VALUE);
        log.append(batch(codec, 0, Long.MAX_VALUE / 2), 0, NOW);
        assertThat(log.logEndOffset()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd"})
    void logAppendTimeStampsTheHeaderWhateverTheRecordsSay(String codec) {
        log.updateConfig(new LogConfig(1 << 20, Long.MAX_VALUE, -1, -1, 4096, 1 << 20, Long.MAX_VALUE,
                Long.MAX_VALUE, 1 << 20, true, 0, false, true).withTimestampBounds(HOUR, 1000));
        // the bounds apply to CreateTime only: these would be refused there
        AppendResult r = log.append(batch(codec, 5, NOW + 10 * HOUR), 3, NOW);
        assertThat(r.logAppendTimeMs()).isEqualTo(NOW);
        RecordBatch b = onlyStoredBatch();
        assertThat(b.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(b.maxTimestamp()).isEqualTo(NOW);
        List<Long> seen = new ArrayList<>();
        b.forEach(record -> seen.add(record.timestamp()));
        assertThat(seen).containsExactly(NOW, NOW);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd"})
    void aCreateTimeHeaderGetsItsRecordsMaxTimestamp(String codec) {
        ByteBuffer b = batch(codec, NOW - 10, NOW - 5, NOW - 7);
        // a producer claiming a max below its records' (CRC fixed, so only the timestamps disagree)
        b.putLong(Batches.MAX_TIMESTAMP, NOW - 100);
        b.putInt(Batches.CRC, new BatchValidator().crcOf(b, 0, b.limit()));
        log.append(b, 0, NOW);
        RecordBatch stored = onlyStoredBatch();
        assertThat(stored.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
        assertThat(stored.maxTimestamp()).isEqualTo(NOW - 5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "lz4"})
    void aProducerMayNotMarkItsBatchLogAppendTime(String codec) {
        log.updateConfig(new LogConfig(1 << 20, Long.MAX_VALUE, -1, -1, 4096, 1 << 20, Long.MAX_VALUE,
                Long.MAX_VALUE, 1 << 20, true, 0, false, true));
        ByteBuffer b = batch(codec, NOW, NOW);
        b.putShort(Batches.ATTRIBUTES, (short) (b.getShort(Batches.ATTRIBUTES) | Batches.TIMESTAMP_TYPE_MASK));
        b.putInt(Batches.CRC, new BatchValidator().crcOf(b, 0, b.limit()));
        InvalidTimestampException e = catchThrowableOfType(InvalidTimestampException.class,
                () -> log.append(b, 0, NOW));
        assertThat(e.recordErrorCount()).isEqualTo(2);
        assertThat(e.recordMessage(0)).contains("Producer should not set timestamp type to LogAppendTime");
        assertThat(log.logEndOffset()).isZero();
    }
}
