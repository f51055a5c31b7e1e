package io.gregor.bench.jmh;

import io.gregor.storage.AppendResult;
import io.gregor.storage.FileLogManager;
import io.gregor.storage.LogConfig;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.StorageSettings;
import io.gregor.storage.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Produce's storage path: FileLog.append of one producer batch (validation: sizes, CRC, offsets, the
 * records inside (decompressed for lz4/zstd), then the in-place patch and one write). Score in batches per second; bytes/s = score x batch size (printed
 * at setup). Writes go to the page cache; retention keeps the temp dir at a few hundred MiB.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AppendBenchmark {
    @Param({"100", "1024"})
    int recordSize;

    /**
     * The producer's compression.type. A compressed batch is decompressed by the leader to check its records,
     * so comparing "none" with lz4/zstd (per record or per byte of input) shows that check's cost.
     */
    @Param({"none", "lz4", "zstd"})
    String compression;

    /** The producer's default batch.size. */
    @Param({"16384"})
    int batchBytes;

    private Path dir;
    private FileLogManager manager;
    private PartitionLog log;
    private ByteBuffer batch;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("gregor-jmh-append");
        LogConfig config = JmhSupport.boundedConfig(64 << 20, 256L << 20);
        manager = FileLogManager.open(new StorageSettings(List.of(dir), 0, 1000, Long.MAX_VALUE, 60_000, 60_000),
                topic -> config);
        log = manager.getOrCreate(new TopicPartition("bench", 0), Uuid.randomUuid().toString(), config);
        batch = compression.equals("none") ? JmhSupport.batch(recordSize, batchBytes)
                : JmhSupport.batch(recordSize, batchBytes, compression);
        // records per batch: the header's record count
        System.out.println("batch: " + batch.remaining() + " bytes, " + batch.getInt(57) + " records, "
                + compression);
    }

    @Benchmark
    public AppendResult append() {
        // The same bytes every time: append patches the base offset in place, which the CRC does not cover.
        return log.append(batch.duplicate(), 0, System.currentTimeMillis());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        manager.close();
        JmhSupport.deleteTree(dir);
    }
}
