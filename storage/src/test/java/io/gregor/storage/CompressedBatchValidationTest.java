package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.CRC32C;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.readAll;
import static io.gregor.storage.TestSupport.rec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A leader looks inside compressed batches before appending them, for every codec: a batch whose data does
 * not decompress, or whose records do not match its header, is refused and leaves the log as it was.
 */
class CompressedBatchValidationTest {
    private static final int RECORDS = 5;

    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> null);

    private PartitionLog log() {
        return logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1 << 20, 4096));
    }

    private static ByteBuffer batchOf(CompressionType type, int first, int count) {
        var recs = new org.apache.kafka.common.record.internal.SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            // values long and repetitive enough that each codec really compresses
            recs[i] = rec(1000 + i, "k" + (first + i), ("v" + (first + i) + " ").repeat(40));
        }
        return TestSupport.batch(Compression.of(type).build(), recs);
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aValidCompressedBatchIsAppendedAndReadBack(CompressionType type) {
        PartitionLog log = log();
        log.append(batchOf(type, 0, RECORDS), 0, 5000);
        log.append(batchOf(type, RECORDS, RECORDS), 0, 5000);
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.logEndOffset()).isEqualTo(2 * RECORDS);
        assertThat(readAll(log, 0)).hasSize(2 * RECORDS).first().asString().startsWith("0:k0:v0 ");
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void garbageCompressedDataWithACorrectCrcIsCorrupt(CompressionType type) {
        ByteBuffer bad = batchOf(type, 0, RECORDS);
        byte[] garbage = new byte[bad.limit() - Batches.HEADER_SIZE];
        new Random(17).nextBytes(garbage);
        bad.put(Batches.HEADER_SIZE, garbage);
        reCrc(bad);
        assertRefused(bad, CorruptRecordException.class, "cannot be decompressed");
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aHeaderCountingMoreRecordsThanTheBatchHoldsIsInvalid(CompressionType type) {
        // the case: a header claiming far more records than the data holds must not move the log end
        ByteBuffer bad = withCount(batchOf(type, 0, 1), 1_000_000);
        RuntimeException refused = assertRefused(bad, InvalidRecordException.class,
                "declares 1000000 records but holds 1");
        assertThat(((InvalidRecordException) refused).recordIndex()).as("the batch's fault").isEqualTo(-1);
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aHeaderCountingFewerRecordsThanTheBatchHoldsIsInvalid(CompressionType type) {
        ByteBuffer bad = withCount(batchOf(type, 0, RECORDS), RECORDS - 1);
        assertRefused(bad, InvalidRecordException.class, "data holds more");
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void offsetDeltasOtherThanZeroToNMinusOneAreInvalid(CompressionType type) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(4096), RecordBatch.MAGIC_VALUE_V2,
                Compression.of(type).build(), TimestampType.CREATE_TIME, 0L);
        builder.appendWithOffset(0, rec(1000, "a", "x".repeat(100)));
        builder.appendWithOffset(2, rec(1001, "b", "y".repeat(100)));
        ByteBuffer bad = builder.build().buffer();
        // a consistent header (two records, last delta 1) over inner deltas 0 and 2
        bad.putInt(Batches.LAST_OFFSET_DELTA, 1);
        reCrc(bad);
        RuntimeException refused = assertRefused(bad, InvalidRecordException.class,
                "Record offset delta 2 where 1 was expected");
        assertThat(((InvalidRecordException) refused).recordIndex()).as("the record at fault").isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aRecordLengthThatDoesNotFrameItsFieldsIsInvalid(CompressionType type) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(4096), RecordBatch.MAGIC_VALUE_V2,
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        builder.append(rec(1000, "a", "x".repeat(100)));
        ByteBuffer plain = builder.build().buffer();
        // the record's length one more than its fields take (its zigzag varint's low bits live in the first byte)
        int lengthAt = Batches.HEADER_SIZE;
        plain.put(lengthAt, (byte) (plain.get(lengthAt) + 2));
        ByteBuffer bad = recompress(plain, type);
        assertRefused(bad, InvalidRecordException.class, "record");
    }

    /** The append of {@code bad} after a good batch fails as given and leaves the log to take the next one. */
    private RuntimeException assertRefused(ByteBuffer bad, Class<? extends RuntimeException> error, String message) {
        PartitionLog log = log();
        log.append(batchOf(CompressionType.GZIP, 0, 2), 0, 5000);
        RuntimeException refused = catchThrowableOfType(() -> log.append(bad, 0, 5000), error);
        assertThat(refused).as("refused").isNotNull().hasMessageContaining(message);
        assertThat(log.logEndOffset()).isEqualTo(2);
        log.append(batchOf(CompressionType.LZ4, 2, 1), 0, 5000);
        log.updateHighWatermark(log.logEndOffset());
        assertThat(readAll(log, 0)).hasSize(3);
        return refused;
    }

    /** The batch with its header's record count and last offset delta set to agree on {@code count}. */
    private static ByteBuffer withCount(ByteBuffer batch, int count) {
        batch.putInt(Batches.RECORDS_COUNT, count);
        batch.putInt(Batches.LAST_OFFSET_DELTA, count - 1);
        reCrc(batch);
        return batch;
    }

    /** Compresses the record section of an uncompressed batch as is, framing errors and all. */
    private static ByteBuffer recompress(ByteBuffer plain, CompressionType type) {
        var out = new org.apache.kafka.common.utils.internals.ByteBufferOutputStream(1024);
        try (var stream = Compression.of(type).build().wrapForOutput(out, RecordBatch.MAGIC_VALUE_V2)) {
            byte[] records = new byte[plain.limit() - Batches.HEADER_SIZE];
            plain.get(Batches.HEADER_SIZE, records);
            stream.write(records);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ByteBuffer compressed = out.buffer().flip();
        ByteBuffer batch = ByteBuffer.allocate(Batches.HEADER_SIZE + compressed.remaining());
        batch.put(plain.duplicate().position(0).limit(Batches.HEADER_SIZE)).put(compressed).flip();
        batch.putInt(Batches.LENGTH, batch.limit() - Batches.LOG_OVERHEAD);
        batch.putShort(Batches.ATTRIBUTES, (short) (batch.getShort(Batches.ATTRIBUTES) | type.id));
        reCrc(batch);
        return batch;
    }

    private static void reCrc(ByteBuffer batch) {
        CRC32C crc = new CRC32C();
        crc.update(batch.duplicate().position(Batches.ATTRIBUTES).limit(batch.limit()));
        batch.putInt(Batches.CRC, (int) crc.getValue());
    }
}
