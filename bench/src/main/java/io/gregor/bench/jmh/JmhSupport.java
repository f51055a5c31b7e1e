package io.gregor.bench.jmh;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import io.gregor.storage.LogConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/** Shared fixtures of the micro-benchmarks. */
public final class JmhSupport {
    private JmhSupport() {
    }

    /**
     * One uncompressed v2 batch as a producer with batch.size {@code batchBytes} sends it: as many
     * {@code recordSize}-byte values (random, keyless) as fit.
     */
    public static ByteBuffer batch(int recordSize, int batchBytes) {
        ByteBuffer buf = ByteBuffer.allocate(batchBytes + 1024);
        MemoryRecordsBuilder b = MemoryRecords.builder(buf, Compression.NONE, TimestampType.CREATE_TIME, 0L);
        byte[] value = new byte[recordSize];
        new Random(42).nextBytes(value);
        long now = System.currentTimeMillis();
        while (b.hasRoomFor(now, null, value, org.apache.kafka.common.record.internal.Record.EMPTY_HEADERS) && b.estimatedSizeInBytes() + recordSize + 16 <= batchBytes) {
            b.append(now, null, value);
        }
        ByteBuffer out = b.build().buffer();
        ByteBuffer copy = ByteBuffer.allocate(out.remaining());
        copy.put(out).flip();
        return copy;
    }

    /**
     * One v2 batch compressed with {@code compression} ("none", "gzip", "snappy", "lz4", "zstd"), filled as a
     * producer with batch.size {@code batchBytes} fills it (by its estimate of the compressed size), with
     * {@code recordSize}-byte values of random upper-case letters as ProducerPerformance sends.
     */
    public static ByteBuffer batch(int recordSize, int batchBytes, String compression) {
        ByteBuffer buf = ByteBuffer.allocate(batchBytes * 8 + 1024);
        MemoryRecordsBuilder b = MemoryRecords.builder(buf,
                Compression.of(org.apache.kafka.common.record.internal.CompressionType.forName(compression)).build(),
                TimestampType.CREATE_TIME, 0L);
        Random random = new Random(42);
        long now = System.currentTimeMillis();
        byte[] value = new byte[recordSize];
        while (true) {
            for (int i = 0; i < recordSize; i++) {
                value[i] = (byte) ('A' + random.nextInt(26));
            }
            if (!b.hasRoomFor(now, null, value, org.apache.kafka.common.record.internal.Record.EMPTY_HEADERS)
                    || b.estimatedSizeInBytes() + recordSize + 16 > batchBytes) {
                break;
            }
            b.append(now, null, value);
        }
        ByteBuffer out = b.build().buffer();
        ByteBuffer copy = ByteBuffer.allocate(out.remaining());
        copy.put(out).flip();
        return copy;
    }

    /** Kafka's topic defaults, but small segments and byte retention so a long run does not fill the disk. */
    public static LogConfig boundedConfig(int segmentBytes, long retentionBytes) {
        LogConfig d = LogConfig.defaults();
        return new LogConfig(segmentBytes, d.segmentMs(), d.retentionMs(), retentionBytes, d.indexIntervalBytes(),
                d.maxIndexSizeBytes(), d.flushIntervalMessages(), d.flushIntervalMs(), d.maxMessageBytes(),
                d.logAppendTime(), 0, d.compact(), d.delete());
    }

    public static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
