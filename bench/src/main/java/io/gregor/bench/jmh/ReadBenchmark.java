package io.gregor.bench.jmh;

import io.gregor.storage.FileLogManager;
import io.gregor.storage.LogConfig;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.ReadResult;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Fetch read planning: FileLog.read finds the segment, looks the offset up in its index, scans batch
 * headers to the fetch offset and to the byte limit, and returns a file slice (no record bytes are
 * copied). Offsets at the log's start, middle, end or random show whether the cost depends on where
 * in a multi-segment log the fetch lands.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ReadBenchmark {
    @Param({"start", "middle", "end", "random"})
    String where;

    /** Log size in MiB, spread over 64 MiB segments. */
    @Param({"256"})
    int logMiB;

    /** The consumer's default max.partition.fetch.bytes. */
    @Param({"1048576"})
    int maxBytes;

    private Path dir;
    private FileLogManager manager;
    private PartitionLog log;
    private long[] offsets;
    private long highWatermark;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("gregor-jmh-read");
        LogConfig config = JmhSupport.boundedConfig(64 << 20, -1);
        manager = FileLogManager.open(new StorageSettings(List.of(dir), 0, 300_000, Long.MAX_VALUE, 60_000, 60_000),
                topic -> config);
        log = manager.getOrCreate(new TopicPartition("bench", 0), Uuid.randomUuid().toString(), config);
        ByteBuffer batch = JmhSupport.batch(1024, 16384);
        long target = (long) logMiB << 20;
        long now = System.currentTimeMillis();
        while (log.sizeInBytes() < target) {
            log.append(batch.duplicate(), 0, now);
        }
        log.updateHighWatermark(log.logEndOffset());
        highWatermark = log.highWatermark();
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        // A fetch at the very end returns nothing; "end" reads the last ~1 MiB instead.
        long tail = Math.max(start, end - 1024);
        SplittableRandom r = new SplittableRandom(11);
        offsets = new long[1024];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = switch (where) {
                case "start" -> start + i;
                case "middle" -> (start + end) / 2 + i;
                case "end" -> tail + (i % 512);
                default -> start + r.nextLong(end - start - 1);
            };
        }
        System.out.println("log: " + log.sizeInBytes() + " bytes, offsets " + start + ".." + end);
    }

    @Benchmark
    public ReadResult read() {
        long offset = offsets[next++ & (offsets.length - 1)];
        return log.read(offset, maxBytes, highWatermark, true);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        manager.close();
        JmhSupport.deleteTree(dir);
    }
}
