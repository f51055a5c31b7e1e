package io.gregor.bench.jmh;

import io.gregor.storage.index.OffsetIndex;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** OffsetIndex.lookupPosition (binary search over the mmapped entries) at random targets. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class OffsetIndexBenchmark {
    /** 1,310,720 entries fill the default 10 MiB index (a full 1 GiB segment has about 262,144). */
    @Param({"1000", "262144", "1310000"})
    int entries;

    private static final long BASE = 1_000_000L;
    private static final int OFFSETS_PER_ENTRY = 40; // ~4 KiB of 100-byte records between entries
    private Path dir;
    private OffsetIndex index;
    private long[] targets;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("gregor-jmh-index");
        index = new OffsetIndex(dir.resolve("00000000000001000000.index"), BASE, 10 * 1024 * 1024, true);
        for (int i = 0; i < entries; i++) {
            index.append(BASE + (long) i * OFFSETS_PER_ENTRY, i * 4096);
        }
        SplittableRandom r = new SplittableRandom(7);
        targets = new long[4096];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = BASE + r.nextLong((long) entries * OFFSETS_PER_ENTRY);
        }
    }

    @Benchmark
    public int lookup() {
        long target = targets[next++ & (targets.length - 1)];
        return index.lookupPosition(target);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        index.close();
        JmhSupport.deleteTree(dir);
    }
}
