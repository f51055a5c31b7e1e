package io.gregor.storage;

import io.gregor.storage.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.tools.DumpLogSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Log compaction on real files: what is kept, what goes, when, and how a crash mid-swap recovers. */
class LogCleanerTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private FileLogManager manager;

    @AfterEach
    void closeManager() {
        if (manager != null) {
            manager.close();
        }
    }

    /** Compacted, 1 KiB segments, cheap index entries; the rest as given. */
    private static LogConfig compacted(long deleteRetentionMs, double minDirtyRatio, long minLagMs, long maxLagMs,
                                       long fileDeleteDelayMs) {
        return new LogConfig(1024, Long.MAX_VALUE, -1, -1, 64, 10 * 1024 * 1024, Long.MAX_VALUE, Long.MAX_VALUE,
                1024 * 1024, false, fileDeleteDelayMs, true, false, deleteRetentionMs, minDirtyRatio, minLagMs,
                maxLagMs);
    }

    private static LogConfig compacted() {
        return compacted(1000, 0.01, 0, Long.MAX_VALUE, 0);
    }

    private FileLogManager open(boolean backgroundCleaner) {
        return open(backgroundCleaner, 1 << 20);
    }

    private FileLogManager open(boolean backgroundCleaner, long dedupeBufferSize) {
        StorageSettings s = TestSupport.settings(dir).withCleaner(backgroundCleaner, 1, 10, dedupeBufferSize,
                64 * 1024);
        manager = FileLogManager.open(s, t -> null);
        return manager;
    }

    private static SimpleRecord record(long ts, String key, String value) {
        return new SimpleRecord(ts, key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    private static long append(PartitionLog log, ByteBuffer batch) {
        long first = log.append(batch, 0, T0).firstOffset();
        log.updateHighWatermark(log.logEndOffset());
        return first;
    }

    private static long put(PartitionLog log, long ts, String key, String value) {
        return append(log, MemoryRecords.withRecords(Compression.NONE, record(ts, key, value)).buffer());
    }

    /** The latest "offset:key:value" per key, in offset order, as a compacted log must end up. */
    private static List<String> latestPerKey(List<String> records) {
        Map<String, String> latest = new LinkedHashMap<>();
        for (String r : records) {
            String key = r.split(":", 3)[1];
            latest.remove(key);
            latest.put(key, r);
        }
        return latest.values().stream()
                .sorted((a, b) -> Long.compare(Long.parseLong(a.split(":")[0]), Long.parseLong(b.split(":")[0])))
                .collect(Collectors.toList());
    }

    /** Every batch from the log start, across segments, as fetches would return them. */
    private static List<RecordBatch> allBatches(PartitionLog log) {
        List<RecordBatch> out = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            List<RecordBatch> got = batchesOf(log.read(next, 1 << 20, Long.MAX_VALUE, true).records());
            out.addAll(got);
            next = got.get(got.size() - 1).lastOffset() + 1;
        }
        return out;
    }

    private static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    private Path partitionDir() {
        return dir.resolve(TP.dirName());
    }

    private static String base(long offset) {
        return FileUtil.filenamePrefix(offset);
    }

    @Test
    void keysOverwrittenManyTimesCompactToTheirLastValuesAtTheirOriginalOffsets() throws IOException {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        for (int round = 0; round < 60; round++) {
            for (int k = 0; k < 8; k++) {
                put(log, T0 + round, "k" + k, "v" + round + "-" + k);
            }
        }
        log.roll();
        put(log, T0 + 100, "k0", "in-the-active-segment");
        List<String> before = readAll(log, 0);
        long activeBase = log.activeSegmentBaseOffset();
        Path activeFile = partitionDir().resolve(base(activeBase) + ".log");
        byte[] activeBytes = bytes(activeFile);
        long sizeBefore = log.sizeInBytes();

        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 1000)).isNotNull();

        List<String> after = readAll(log, log.logStartOffset());
        List<String> expected = new ArrayList<>(latestPerKey(before.subList(0, before.size() - 1)));
        expected.add(before.get(before.size() - 1)); // the active segment is never cleaned
        assertThat(after).isEqualTo(expected);
        assertThat(after.get(0)).startsWith("472:k0:v59-0"); // last round's offsets, unchanged
        assertThat(log.activeSegmentBaseOffset()).isEqualTo(activeBase);
        assertThat(bytes(activeFile)).isEqualTo(activeBytes);
        assertThat(log.sizeInBytes()).isLessThan(sizeBefore / 10);
        assertThat(log.logEndOffset()).isEqualTo(481);
        assertThat(log.logStartOffset()).isZero();
        try (Stream<Path> files = Files.list(partitionDir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.endsWith(".cleaned") || n.endsWith(".swap"));
        }

        // nothing dirty is left: no second round; the checkpoint says where the dirty part starts
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 2000)).isNull();
        manager.close();
        assertThat(Files.readAllLines(dir.resolve("cleaner-offset-checkpoint")))
                .containsExactly("0", "1", "orders 0 " + activeBase);
        FileLog reopened = (FileLog) open(false).get(TP).orElseThrow();
        assertThat(readAll(reopened, 0)).isEqualTo(expected);
        assertThat(manager.cleaner().firstDirtyOffsets()).containsEntry(TP, activeBase);
    }

    /**
     * A follower below the leader's log start truncates fully and restarts at the leader's offset, here below the
     * old log's cleaned part: as in Kafka the cleaner's checkpoint drops to the new start, so what is written after
     * is cleaned from there. Before, the old checkpoint made the cleaner take everything below it as clean.
     */
    @Test
    void aFullTruncationMovesTheCleanerCheckpointDownToTheNewLogStart() throws IOException {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        for (int i = 0; i < 300; i++) {
            put(log, T0, "old" + (i % 8), "v" + i);
        }
        log.roll();
        put(log, T0, "old0", "active");
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 1000)).isNotNull();
        assertThat(manager.cleaner().firstDirtyOffsets()).containsEntry(TP, 300L);

        log.truncateFullyAndStartAt(100);
        assertThat(manager.cleaner().firstDirtyOffsets()).containsEntry(TP, 100L);
        assertThat(Files.readAllLines(dir.resolve("cleaner-offset-checkpoint"))).contains("orders 0 100");
        // the new data: keys a* overwritten below the old checkpoint (300), keys b* above it
        for (int i = 0; i < 200; i++) {
            put(log, T0, "a" + (i % 4), "v" + i);
        }
        for (int i = 0; i < 100; i++) {
            put(log, T0, "b" + (i % 4), "v" + i);
        }
        log.roll();
        put(log, T0, "b0", "active");
        List<String> before = readAll(log, 100);
        while (manager.cleaner().cleanFilthiestLog(T0 + 2000) != null) {
            // until nothing is dirty
        }
        List<String> expected = new ArrayList<>(latestPerKey(before.subList(0, before.size() - 1)));
        expected.add(before.get(before.size() - 1));
        assertThat(readAll(log, log.logStartOffset())).isEqualTo(expected);
    }

    @Test
    void aSmallDedupeBufferCleansInSeveralBoundedPasses() {
        // room for 90 keys (100 slots of 24 bytes at load factor 0.9): each pass maps at most 90 records
        FileLog log = (FileLog) open(false, 100 * CleanerOffsetMap.BYTES_PER_ENTRY).getOrCreate(TP, Uuids.random(),
                compacted());
        for (int round = 0; round < 2; round++) {
            for (int k = 0; k < 200; k++) {
                put(log, T0, "k" + k, "v" + round);
            }
        }
        log.roll();
        put(log, T0, "k0", "active");
        List<String> before = readAll(log, 0);

        int passes = 0;
        while (manager.cleaner().cleanFilthiestLog(T0 + 1000) != null) {
            passes++;
            assertThat(manager.cleaner().firstDirtyOffsets().get(TP)).isEqualTo(Math.min(400, 90L * passes));
        }
        assertThat(passes).isEqualTo(5);
        List<String> expected = new ArrayList<>(latestPerKey(before.subList(0, 400)));
        expected.add("400:k0:active");
        assertThat(readAll(log, 0)).isEqualTo(expected);
    }

    @Test
    void partlyRetainedBatchesKeepTheirOffsetsAndCompressedBatchesStayCompressed() {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        for (int round = 0; round < 20; round++) {
            Compression c = round % 2 == 0 ? Compression.NONE : Compression.gzip().build();
            SimpleRecord[] recs = new SimpleRecord[5];
            for (int k = 0; k < 5; k++) {
                // key k4 is only written in round 0, so the first batch keeps one record of five
                String key = round > 0 && k == 4 ? "x" + round : "k" + k;
                recs[k] = record(T0 + round * 10 + k, key, "v" + round);
            }
            append(log, MemoryRecords.withRecords(c, recs).buffer());
        }
        log.roll();
        List<String> before = readAll(log, 0);

        manager.cleaner().cleanFilthiestLog(T0 + 10_000);

        assertThat(readAll(log, 0)).isEqualTo(latestPerKey(before));
        List<RecordBatch> batches = allBatches(log);
        RecordBatch first = batches.get(0);
        first.ensureValid();
        assertThat(first.baseOffset()).isZero();
        assertThat(first.lastOffset()).as("last offset delta is kept").isEqualTo(4);
        assertThat(first.countOrNull()).isEqualTo(1);
        assertThat(first.maxTimestamp()).isEqualTo(T0 + 4);
        Record onlyRecord = first.iterator().next();
        assertThat(onlyRecord.offset()).isEqualTo(4);
        assertThat(onlyRecord.timestamp()).isEqualTo(T0 + 4);
        RecordBatch compressed = batches.stream().filter(RecordBatch::isCompressed).findFirst().orElseThrow();
        compressed.ensureValid();
        assertThat(compressed.lastOffset() - compressed.baseOffset()).isEqualTo(4);
    }

    @Test
    void lastBatchOfAnIdempotentProducerKeepsItsHeaderSoSequencesSurviveARestart() throws IOException {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        append(log, TestSupport.idempotent(78, (short) 0, 0, 0, 3)); // 0-2, k0..k2: overwritten, not last
        append(log, TestSupport.idempotent(77, (short) 2, 0, 0, 3)); // 3-5, k0..k2: overwritten, last of 77
        append(log, TestSupport.idempotent(78, (short) 0, 3, 10, 1)); // 6, k10: last of 78
        append(log, TestSupport.batch(T0, 0, 3)); // 7-9: k0..k2 again, plain
        log.roll();
        put(log, T0, "z", "active");

        manager.cleaner().cleanFilthiestLog(T0 + 10_000);

        List<RecordBatch> batches = allBatches(log);
        assertThat(batches).extracting(RecordBatch::baseOffset).containsExactly(3L, 6L, 7L, 10L);
        RecordBatch header = batches.get(0);
        header.ensureValid();
        assertThat(header.producerId()).isEqualTo(77);
        assertThat(header.producerEpoch()).isEqualTo((short) 2);
        assertThat(header.baseSequence()).isZero();
        assertThat(header.lastSequence()).isEqualTo(2);
        assertThat(header.lastOffset()).isEqualTo(5);
        assertThat(header.countOrNull()).isZero();
        assertThat(readAll(log, 0)).containsExactly("6:k10:v10", "7:k0:v0", "8:k1:v1", "9:k2:v2", "10:z:active");

        // rebuild producer state from the log alone: the header carries producer 77's sequence
        manager.close();
        manager = null;
        try (Stream<Path> files = Files.list(partitionDir())) {
            for (Path p : files.filter(p -> p.toString().endsWith(".snapshot")).toList()) {
                Files.delete(p);
            }
        }
        PartitionLog reopened = open(false).get(TP).orElseThrow();
        assertThatThrownBy(() -> reopened.append(TestSupport.idempotent(77, (short) 2, 5, 20, 1), 0, T0))
                .isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(reopened.append(TestSupport.idempotent(77, (short) 2, 3, 20, 1), 0, T0).firstOffset())
                .isEqualTo(11);
    }

    @Test
    void tombstonesAreKeptForDeleteRetentionMsAfterTheirFirstCleanThenRemoved() {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted(1000, 0.01, 0, Long.MAX_VALUE, 0));
        put(log, T0, "gone", "v1");
        put(log, T0 + 1, "kept", "v1");
        put(log, T0 + 2, "gone", null);
        log.roll();

        manager.cleaner().cleanFilthiestLog(T0 + 5_000);
        assertThat(readAll(log, 0)).containsExactly("1:kept:v1", "2:gone:null");
        RecordBatch tombstoneBatch = batchesOf(log.read(2, 1 << 20, Long.MAX_VALUE, true).records()).get(0);
        tombstoneBatch.ensureValid();
        assertThat(tombstoneBatch.deleteHorizonMs()).hasValue(T0 + 5_000 + 1000);
        assertThat(tombstoneBatch.iterator().next().timestamp()).as("record time survives the new base")
                .isEqualTo(T0 + 2);

        // more dirt, cleaned before the horizon: the tombstone stays
        put(log, T0 + 3, "other", "v1");
        put(log, T0 + 4, "other", "v2");
        log.roll();
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 5_999)).isNotNull();
        assertThat(readAll(log, 0)).containsExactly("1:kept:v1", "2:gone:null", "4:other:v2");

        // after the horizon it goes
        put(log, T0 + 5, "other", "v3");
        log.roll();
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 6_000)).isNotNull();
        assertThat(readAll(log, 0)).containsExactly("1:kept:v1", "5:other:v3");
    }

    @Test
    void minCompactionLagKeepsYoungSegmentsDirty() {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(),
                compacted(1000, 0.01, 60_000, Long.MAX_VALUE, 0));
        for (int i = 0; i < 20; i++) {
            put(log, T0 + i, "k", "v" + i);
        }
        log.roll();
        put(log, T0 + 100, "k", "active");

        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 30_000)).as("segments younger than the lag").isNull();
        assertThat(readAll(log, 0)).hasSize(21);

        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 60_020)).isNotNull();
        assertThat(readAll(log, 0)).containsExactly("19:k:v19", "20:k:active");
    }

    @Test
    void maxCompactionLagForcesCleaningBelowTheDirtyRatio() {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted(1000, 0.99, 0, 10_000, 0));
        put(log, T0, "k", "v0");
        put(log, T0, "k", "v1");
        log.roll();
        put(log, T0, "k", "v2");
        log.roll();
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 1000)).as("first clean").isNotNull();
        put(log, T0 + 2000, "k", "v3");
        log.roll();
        put(log, T0 + 2000, "other", "active");
        // the dirty part is small next to the clean part: only the lag can trigger a clean
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 5000)).isNull();
        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 12_001)).isNotNull();
        assertThat(readAll(log, 0)).containsExactly("3:k:v3", "4:other:active");
    }

    @Test
    void compactAndDeleteApplyBothRetentionAndCompaction() {
        LogConfig c = compacted();
        c = new LogConfig(c.segmentBytes(), c.segmentMs(), 60_000, c.retentionBytes(), c.indexIntervalBytes(),
                c.maxIndexSizeBytes(), c.flushIntervalMessages(), c.flushIntervalMs(), c.maxMessageBytes(), false,
                0, true, true, 1000, 0.01, 0, Long.MAX_VALUE);
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), c);
        long now = System.currentTimeMillis();
        for (int i = 0; i < 30; i++) {
            put(log, now - 3_600_000, "old" + (i % 3), "v" + i); // an hour old: past retention.ms
        }
        log.roll();
        for (int i = 0; i < 30; i++) {
            put(log, now, "new" + (i % 3), "v" + i);
        }
        log.roll();
        put(log, now, "active", "a");

        manager.retentionTask();
        assertThat(log.logStartOffset()).isEqualTo(30);
        manager.cleaner().cleanFilthiestLog(now);
        assertThat(readAll(log, log.logStartOffset()))
                .containsExactly("57:new0:v27", "58:new1:v28", "59:new2:v29", "60:active:a");
    }

    /** Thrown by the swap observer to stop the swap where a crash would. */
    private static final class SimulatedCrash extends Error {
        SimulatedCrash(String step) {
            super("simulated crash at " + step, null, false, false);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cleaned", "swap", "deleted"})
    void aCrashMidSwapRecoversToAConsistentLog(String crashAt) throws IOException {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        for (int round = 0; round < 30; round++) {
            for (int k = 0; k < 5; k++) {
                put(log, T0 + round, "k" + k, "v" + round);
            }
        }
        log.roll();
        put(log, T0, "k0", "active");
        List<String> original = readAll(log, 0);
        List<String> compactedView = new ArrayList<>(latestPerKey(original.subList(0, original.size() - 1)));
        compactedView.add(original.get(original.size() - 1));

        manager.swapObserver = step -> {
            if (step.equals(crashAt)) {
                throw new SimulatedCrash(step);
            }
        };
        assertThatThrownBy(() -> manager.cleaner().cleanFilthiestLog(T0 + 10_000)).isInstanceOf(SimulatedCrash.class);
        manager.crashForTest();
        manager = null;
        Set<String> suffixes = new HashSet<>();
        try (Stream<Path> files = Files.list(partitionDir())) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.contains("."))
                    .forEach(n -> suffixes.add(n.substring(n.lastIndexOf('.'))));
        }
        assertThat(suffixes).contains(crashAt.equals("cleaned") ? ".cleaned" : ".swap");

        PartitionLog reopened = open(false).get(TP).orElseThrow();
        List<String> recovered = readAll(reopened, reopened.logStartOffset());
        if (crashAt.equals("cleaned")) {
            assertThat(recovered).isEqualTo(original);
        } else {
            // the first segment group was swapped in, later ones not yet: a subset in offset order that still
            // holds every key's latest record, and less than before
            assertThat(original).containsAll(recovered);
            assertThat(recovered).isSortedAccordingTo((a, b) -> Long.compare(Long.parseLong(a.split(":")[0]),
                    Long.parseLong(b.split(":")[0])));
            assertThat(latestPerKey(recovered)).isEqualTo(latestPerKey(original));
            assertThat(recovered.size()).isLessThan(original.size());
        }
        try (Stream<Path> files = Files.list(partitionDir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.endsWith(".cleaned") || n.endsWith(".swap") || n.endsWith(".deleted"));
        }
        assertThat(reopened.logEndOffset()).isEqualTo(151);
        assertThat(put(reopened, T0, "k1", "after")).isEqualTo(151);
        // a later round finishes the job whatever state the crash left
        reopened.updateConfig(compacted()); // the manager loads logs with the resolver's config: none here
        manager.cleaner().cleanFilthiestLog(T0 + 20_000);
        List<String> finished = new ArrayList<>(compactedView);
        finished.add("151:k1:after");
        assertThat(readAll(reopened, 0)).isEqualTo(finished);
    }

    @Test
    void aSwapFileAtOrAboveAnUnfinishedCleanIsDiscardedOnLoad() throws IOException {
        PartitionLog log = open(false).getOrCreate(TP, Uuids.random(), compacted());
        for (int i = 0; i < 40; i++) {
            put(log, T0, "k" + (i % 4), "v" + i);
        }
        List<String> original = readAll(log, 0);
        manager.crashForTest();
        manager = null;
        Path p = partitionDir();
        Files.write(p.resolve(base(0) + ".log.cleaned"), new byte[100]);
        Files.write(p.resolve(base(0) + ".index.cleaned"), new byte[8]);
        Files.copy(p.resolve(base(0) + ".log"), p.resolve(base(5) + ".log.swap"));
        Files.write(p.resolve(base(5) + ".index.swap"), new byte[8]);

        PartitionLog reopened = open(false).get(TP).orElseThrow();
        assertThat(readAll(reopened, 0)).isEqualTo(original);
        try (Stream<Path> files = Files.list(p)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .noneMatch(n -> n.endsWith(".cleaned") || n.endsWith(".swap"));
        }
    }

    private static String dump(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            DumpLogSegments.main(args);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dumpLogSegmentsReadsCleanedSegments() throws IOException {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        append(log, TestSupport.idempotent(77, (short) 1, 0, 0, 2));
        for (int round = 0; round < 20; round++) {
            Compression c = round % 3 == 0 ? Compression.gzip().build() : Compression.NONE;
            append(log, MemoryRecords.withRecords(c, record(T0 + round, "k" + (round % 4), "v" + round),
                    record(T0 + round, "r" + round, "w" + round)).buffer());
        }
        put(log, T0, "r3", null);
        log.roll();
        put(log, T0, "active", "a");
        manager.cleaner().cleanFilthiestLog(T0 + 10_000);
        manager.close();
        manager = null;

        List<String> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(partitionDir())) {
            list.map(Path::toString).filter(n -> n.endsWith(".log") || n.endsWith(".index")
                    || n.endsWith(".timeindex")).sorted().forEach(files::add);
        }
        String out = dump("--files", String.join(",", files), "--deep-iteration", "--print-data-log");
        assertThat(out).contains("key: k3 payload: v19", "key: r19 payload: w19", "valueSize: -1",
                "key: r3\n", "count: 0 baseSequence: 0 lastSequence: 1 producerId: 77 producerEpoch: 1",
                "deleteHorizonMs: OptionalLong[" + (T0 + 10_000 + 1000) + "]");
        assertThat(out).doesNotContain("key: k3 payload: v15");
        assertThat(out).doesNotContainIgnoringCase("mismatch").doesNotContainIgnoringCase("corrupt")
                .doesNotContainIgnoringCase("exception").doesNotContainIgnoringCase("out of order")
                .doesNotContain("Found trailing bytes");
        List<String> indexes = files.stream().filter(n -> !n.endsWith(".log")).toList();
        String verify = dump("--files", String.join(",", indexes), "--verify-index-only");
        assertThat(verify).doesNotContainIgnoringCase("mismatch").doesNotContainIgnoringCase("not found")
                .doesNotContainIgnoringCase("out of order");
        assertThat(dump("--files", String.join(",", indexes), "--index-sanity-check"))
                .contains("passed sanity check").doesNotContainIgnoringCase("failed");
    }

    @Test
    void readersSeeConsistentDataWhileTheBackgroundCleanerRuns() throws Exception {
        // old segments must outlive in-flight reads: the default file.delete.delay.ms
        FileLog log = (FileLog) open(true).getOrCreate(TP, Uuids.random(), compacted(1000, 0.01, 0, Long.MAX_VALUE,
                60_000));
        int keys = 20;
        for (int k = 0; k < keys; k++) {
            put(log, T0, "k" + k, "v" + log.logEndOffset());
        }
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger reads = new AtomicInteger();
        Thread reader = new Thread(() -> {
            try {
                while (!done.get()) {
                    List<String> all = readAll(log, log.logStartOffset());
                    long previous = -1;
                    Set<String> seen = new HashSet<>();
                    for (String r : all) {
                        String[] f = r.split(":");
                        long offset = Long.parseLong(f[0]);
                        if (offset <= previous || !f[2].equals("v" + offset)) {
                            throw new AssertionError("inconsistent read at " + r + " after " + previous);
                        }
                        previous = offset;
                        seen.add(f[1]);
                    }
                    if (seen.size() < keys) {
                        throw new AssertionError("a key vanished: saw only " + seen);
                    }
                    reads.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "reader");
        reader.start();
        LogCleaner cleaner = manager.cleaner();
        // keep writing (so there is always something to clean) until many rounds overlapped the reads
        await("cleaning rounds while reading").atMost(Duration.ofSeconds(60)).until(() -> {
            for (int k = 0; k < keys; k++) {
                put(log, T0, "k" + k, "v" + log.logEndOffset());
            }
            return failure.get() != null || cleaner.roundsCompleted() >= 10 && reads.get() >= 20;
        });
        done.set(true);
        reader.join();
        assertThat(failure.get()).isNull();
        assertThat(cleaner.roundsFailed()).isZero();
        assertThat(readAll(log, 0).size()).isLessThan((int) log.logEndOffset() / 2);
    }

    @Test
    void aCleanedSegmentKeepsTheAbortedTransactionsOfTheSegmentsItReplaces() throws IOException {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        append(log, MemoryRecords.withTransactionalRecords(Compression.NONE, 9L, (short) 0, 0,
                record(T0, "a", "aborted-1"), record(T0, "b", "aborted-2")).buffer());
        log.appendTxnMarker(9L, (short) 0, 0, false, 0, 0, T0);
        log.updateHighWatermark(log.logEndOffset());
        for (int round = 0; round < 40; round++) {
            put(log, T0 + round, "k" + (round % 4), "v" + round);
        }
        log.roll();
        put(log, T0 + 100, "k0", "active");
        AbortedTxn abort = new AbortedTxn(9L, 0, 2, 3);
        assertThat(log.abortedTransactions(0, 10)).containsExactly(abort);

        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 1000)).isNotNull();

        assertThat(log.abortedTransactions(0, 10)).containsExactly(abort);
        Path txnIndex = partitionDir().resolve(base(0) + ".txnindex");
        ByteBuffer entry = ByteBuffer.wrap(bytes(txnIndex));
        assertThat(entry.remaining()).isEqualTo(34);
        assertThat(entry.getLong(2)).isEqualTo(9L);
        assertThat(entry.getLong(18)).isEqualTo(2);
        try (Stream<Path> files = Files.list(partitionDir())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".txnindex.")
                    && !n.endsWith(".deleted"));
        }
    }

    private static ByteBuffer txnPut(long pid, int seq, long ts, String key, String value) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, (short) 0, seq, record(ts, key, value))
                .buffer();
    }

    @Test
    void abortedRecordsAreRemovedAndNeverShadowCommittedOnesAndOpenTransactionsAreNotCleaned() {
        FileLog log = (FileLog) open(false).getOrCreate(TP, Uuids.random(), compacted());
        put(log, T0, "k", "committed");
        append(log, txnPut(5L, 0, T0, "k", "aborted"));
        log.appendTxnMarker(5L, (short) 0, 0, false, 0, 0, T0);
        append(log, txnPut(6L, 0, T0, "c", "in-committed-txn"));
        log.appendTxnMarker(6L, (short) 0, 0, true, 0, 0, T0);
        put(log, T0, "o", "before-open");
        for (int round = 0; round < 30; round++) {
            put(log, T0 + round, "f" + (round % 3), "v" + round);
        }
        long openStart = append(log, txnPut(7L, 0, T0, "o", "open")); // open: the LSO stays here
        for (int round = 0; round < 30; round++) {
            put(log, T0 + round, "g" + (round % 3), "v" + round);
        }
        log.roll();
        put(log, T0 + 100, "z", "active");
        assertThat(log.lastStableOffset()).isEqualTo(openStart);

        assertThat(manager.cleaner().cleanFilthiestLog(T0 + 1000)).isNotNull();

        List<String> after = readAll(log, log.logStartOffset());
        assertThat(after).contains("0:k:committed", "3:c:in-committed-txn", "5:o:before-open",
                openStart + ":o:open").noneMatch(r -> r.endsWith(":aborted"));
        assertThat(after.stream().filter(r -> r.contains(":g")).count()).as("past the LSO: not cleaned").isEqualTo(30);
        List<RecordBatch> batches = allBatches(log);
        assertThat(batches.stream().filter(RecordBatch::isControlBatch).count()).as("markers are kept").isEqualTo(2);
        assertThat(log.abortedTransactions(0, log.logEndOffset())).containsExactly(new AbortedTxn(5L, 1, 2, 3));
    }
}
