package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.RecordTooLargeException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.concat;
import static io.gregor.storage.TestSupport.rec;
import static io.gregor.storage.TestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValidationTest {
    @RegisterExtension
    final LogManagerFixture logs = new LogManagerFixture(t -> null);
    PartitionLog log;

    @BeforeEach
    void createLog() {
        log = logs.manager().getOrCreate(TP, Uuids.random(), TestSupport.config(1 << 20, 4096));
    }

    private static void fixCrc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        ByteBuffer d = b.duplicate();
        d.position(21);
        crc.update(d);
        b.putInt(17, (int) crc.getValue());
    }

    private void assertNothingWritten() {
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.sizeInBytes()).isZero();
    }

    @Test
    void crcMismatchIsCorruptRecord() {
        ByteBuffer b = batch(1, 0, 3);
        b.put(b.limit() - 1, (byte) (b.get(b.limit() - 1) ^ 0x55));
        assertThatThrownBy(() -> log.append(b, 0, 1)).isInstanceOf(CorruptRecordException.class);
        assertNothingWritten();
    }

    @Test
    void wrongMagicIsInvalidRecord() {
        ByteBuffer b = batch(1, 0, 3);
        b.put(16, (byte) 1);
        assertThatThrownBy(() -> log.append(b, 0, 1)).isInstanceOf(InvalidRecordException.class);
        assertNothingWritten();
    }

    @Test
    void batchLargerThanMaxMessageBytesIsTooLarge() {
        log.updateConfig(new LogConfig(1 << 20, Long.MAX_VALUE, -1, -1, 4096, 1 << 20, Long.MAX_VALUE,
                Long.MAX_VALUE, 100, false, 0, false, true));
        assertThatThrownBy(() -> log.append(batch(1, 0, 10), 0, 1)).isInstanceOf(RecordTooLargeException.class);
        assertNothingWritten();
    }

    @Test
    void sizeFieldsInconsistentWithTheBufferAreCorrupt() {
        ByteBuffer b = batch(1, 0, 3);
        ByteBuffer cut = b.duplicate().limit(b.limit() - 5).slice();
        assertThatThrownBy(() -> log.append(cut, 0, 1)).isInstanceOf(CorruptRecordException.class);
        ByteBuffer headerOnly = b.duplicate().limit(30).slice();
        assertThatThrownBy(() -> log.append(headerOnly, 0, 1)).isInstanceOf(CorruptRecordException.class);
        assertNothingWritten();
    }

    @Test
    void recordCountMustMatchLastOffsetDelta() {
        ByteBuffer b = batch(1, 0, 3);
        b.putInt(57, 4);
        fixCrc(b);
        assertThatThrownBy(() -> log.append(b, 0, 1)).isInstanceOf(InvalidRecordException.class);
        ByteBuffer zero = batch(1, 0, 1);
        zero.putInt(57, 0);
        zero.putInt(23, -1);
        fixCrc(zero);
        assertThatThrownBy(() -> log.append(zero, 0, 1)).isInstanceOf(InvalidRecordException.class);
        assertNothingWritten();
    }

    @Test
    void brokenRecordFramingIsRejectedEvenWithAValidCrc() {
        ByteBuffer b = batch(1, 0, 3);
        b.put(61, (byte) 0x7e); // first record's length varint now claims 63 bytes
        fixCrc(b);
        assertThatThrownBy(() -> log.append(b, 0, 1)).isInstanceOf(InvalidRecordException.class);
        assertNothingWritten();
    }

    @Test
    void oneBadBatchRejectsTheWholeAppend() {
        ByteBuffer bad = batch(1, 3, 3);
        bad.put(bad.limit() - 1, (byte) 7);
        assertThatThrownBy(() -> log.append(concat(batch(1, 0, 3), bad), 0, 1))
                .isInstanceOf(CorruptRecordException.class);
        assertNothingWritten();
    }

    @Test
    void compressedBatchesAreStoredAsSent() {
        ByteBuffer gz = batch(Compression.gzip().build(), rec(10, "a", "x"), rec(11, "b", "y"));
        ByteBuffer original = ByteBuffer.allocate(gz.remaining()).put(gz.duplicate()).flip();
        AppendResult r = log.append(gz, 2, 1);
        assertThat(r.lastOffset()).isEqualTo(1);
        assertThat(readAll(log, 0)).containsExactly("0:a:x", "1:b:y");
        ByteBuffer stored = TestSupport.bytesOf(log.read(0, 1 << 20, Long.MAX_VALUE, true).records());
        // only base offset and leader epoch differ: the compressed payload was not rewritten
        assertThat(stored.slice(17, stored.limit() - 17)).isEqualTo(original.slice(17, original.limit() - 17));
        assertThat(stored.getInt(12)).isEqualTo(2);
    }

    @Test
    void logAppendTimeStampsTheBatchAndRecomputesTheCrc() {
        log.updateConfig(new LogConfig(1 << 20, Long.MAX_VALUE, -1, -1, 4096, 1 << 20, Long.MAX_VALUE,
                Long.MAX_VALUE, 1 << 20, true, 0, false, true));
        long now = 1_700_000_000_000L;
        AppendResult r = log.append(batch(5, 0, 3), 7, now);
        assertThat(r.logAppendTimeMs()).isEqualTo(now);
        List<RecordBatch> stored = batchesOf(log.read(0, 1 << 20, Long.MAX_VALUE, true).records());
        RecordBatch b = stored.get(0);
        b.ensureValid();
        assertThat(b.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(b.maxTimestamp()).isEqualTo(now);
        assertThat(b.partitionLeaderEpoch()).isEqualTo(7);
        b.forEach(rec -> assertThat(rec.timestamp()).isEqualTo(now));
        assertThat(log.latestEpoch()).isEqualTo(7);
    }

    @Test
    void leaderEpochsAreRecordedWhenTheyIncrease() throws Exception {
        log.append(batch(1, 0, 2), 1, 1);
        log.append(batch(1, 2, 2), 1, 1);
        log.append(batch(1, 4, 2), 3, 1);
        assertThat(java.nio.file.Files.readString(logs.dir().resolve("orders-0/leader-epoch-checkpoint")))
                .isEqualTo("0\n2\n1 0\n3 4\n");
        assertThat(log.latestEpoch()).isEqualTo(3);
    }
}
