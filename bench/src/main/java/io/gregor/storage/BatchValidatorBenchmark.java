package io.gregor.storage;

import io.gregor.bench.jmh.JmhSupport;
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
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The leader's batch checks alone, without the write: header, CRC and the records inside (walked in place
 * for "none", decompressed as a stream for lz4/zstd). In the storage package because the validator is
 * package-private. Score in microseconds per producer batch; the setup prints the records per batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BatchValidatorBenchmark {
    @Param({"none", "lz4", "zstd"})
    String compression;

    @Param({"1024"})
    int recordSize;

    /** The producer's default batch.size. */
    @Param({"16384"})
    int batchBytes;

    private final CompressedRecordsValidator compressedRecords = new CompressedRecordsValidator();
    private final BatchValidator validator = new BatchValidator(() -> compressedRecords);
    private final BatchHeaders headers = new BatchHeaders();
    private final LogConfig config = LogConfig.defaults();
    private ByteBuffer batch;
    /** The clock the records' timestamps are checked against (the batch is made at set-up with the current time). */
    private long nowMs;

    @Setup(Level.Trial)
    public void setUp() {
        batch = JmhSupport.batch(recordSize, batchBytes, compression);
        nowMs = System.currentTimeMillis();
        System.out.println("batch: " + batch.remaining() + " bytes, " + batch.getInt(Batches.RECORDS_COUNT)
                + " records, " + compression);
    }

    @Benchmark
    public int validate() {
        headers.over(batch, 0, batch.limit()).next();
        validator.validateLeaderBatch(headers, config, 0, BatchValidator.Origin.CLIENT, nowMs);
        return headers.recordCount();
    }
}
