package io.gregor.storage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

class RecoveryTest {
    @TempDir
    Path dir;
    FileLogManager manager;

    @AfterEach
    void close() {
        manager.close();
    }

    private PartitionLog openLog() {
        manager = FileLogManager.open(TestSupport.settings(dir), t -> TestSupport.config(2048, 100));
        return manager.getOrCreate(TP, Uuids.random(), TestSupport.config(2048, 100));
    }

    private Path partDir() {
        return dir.resolve("orders-0");
    }

    private Path lastSegment(String suffix) throws IOException {
        try (var s = Files.list(partDir())) {
            return s.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).map(
                    p -> p.resolveSibling(p.getFileName().toString().replace(".log", suffix))).orElseThrow();
        }
    }

    private static List<String> expected(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i + ":k" + i + ":v" + i);
        }
        return out;
    }

    private static void appendBytes(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(bytes));
        }
    }

    @Test
    void aTornTailIsTruncatedAndAppendsContinue() throws IOException {
        PartitionLog log = openLog();
        for (int i = 0; i < 50; i++) {
            log.append(batch(i, i * 2, 2), 0, 1);
        }
        manager.crashForTest();
        // half a batch, as if the process died mid-write
        ByteBuffer partial = batch(99, 100, 2);
        byte[] half = new byte[partial.remaining() / 2];
        partial.get(half);
        appendBytes(lastSegment(".log"), half);

        log = openLog();
        assertThat(log.logEndOffset()).isEqualTo(100);
        assertThat(readAll(log, 0)).isEqualTo(expected(100));
        log.append(batch(1, 100, 2), 0, 1);
        assertThat(readAll(log, 0)).isEqualTo(expected(102));
    }

    @Test
    void garbageAfterTheLastBatchIsTruncated() throws IOException {
        PartitionLog log = openLog();
        for (int i = 0; i < 5; i++) {
            log.append(batch(i, i * 2, 2), 0, 1);
        }
        manager.crashForTest();
        Path seg = lastSegment(".log");
        long goodSize = Files.size(seg);
        byte[] junk = new byte[300];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = (byte) (i * 31 + 7);
        }
        appendBytes(seg, junk);

        log = openLog();
        assertThat(log.logEndOffset()).isEqualTo(10);
        assertThat(Files.size(seg)).isEqualTo(goodSize);
        assertThat(log.append(batch(1, 10, 1), 0, 1).firstOffset()).isEqualTo(10);
    }

    @Test
    void aCorruptBatchInAnOlderSegmentDropsEverythingAfterIt() throws IOException {
        PartitionLog log = openLog();
        for (int i = 0; i < 100; i++) {
            log.append(batch(i, i * 2, 2), 0, 1);
        }
        List<Long> bases = ((FileLog) log).segmentBaseOffsets();
        assertThat(bases.size()).isGreaterThan(2);
        manager.crashForTest();
        // flip a byte inside the second segment's third batch payload (CRC now fails)
        Path second = partDir().resolve(String.format("%020d.log", bases.get(1)));
        int batchSize = batch(0, 0, 2).remaining();
        try (FileChannel ch = FileChannel.open(second, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{0x42}), 2L * batchSize + 70);
        }

        log = openLog();
        long expectedEnd = bases.get(1) + 4;
        assertThat(log.logEndOffset()).isEqualTo(expectedEnd);
        assertThat(((FileLog) log).segmentBaseOffsets()).isEqualTo(bases.subList(0, 2));
        assertThat(readAll(log, 0)).isEqualTo(expected((int) expectedEnd));
    }

    @Test
    void missingAndCorruptIndexesAreRebuiltAfterACleanShutdown() throws IOException {
        PartitionLog log = openLog();
        for (int i = 0; i < 100; i++) {
            log.append(batch(i, i * 2, 2), 0, 1);
        }
        List<Long> bases = ((FileLog) log).segmentBaseOffsets();
        manager.close();
        Path firstIndex = partDir().resolve("00000000000000000000.index");
        byte[] original = Files.readAllBytes(firstIndex);
        assertThat(original.length).isGreaterThan(0);
        Files.delete(firstIndex);
        Path secondTimeIndex = partDir().resolve(String.format("%020d.timeindex", bases.get(1)));
        Files.write(secondTimeIndex, new byte[]{1, 2, 3, 4, 5}); // not a multiple of 12

        log = openLog();
        assertThat(Files.readAllBytes(firstIndex)).isEqualTo(original);
        assertThat(Files.size(secondTimeIndex) % 12).isZero();
        assertThat(readAll(log, 0)).isEqualTo(expected(200));
        for (long offset = 0; offset < 200; offset += 17) {
            assertThat(TestSupport.batchesOf(log.read(offset, 100, Long.MAX_VALUE, true).records()).get(0)
                    .lastOffset()).isGreaterThanOrEqualTo(offset);
        }
    }

    @Test
    void theCleanShutdownMarkerIsWrittenOnCloseAndRemovedOnOpen() {
        openLog().append(batch(1, 0, 1), 0, 1);
        manager.close();
        assertThat(dir.resolve(".kafka_cleanshutdown")).exists();
        openLog();
        assertThat(dir.resolve(".kafka_cleanshutdown")).doesNotExist();
    }
}
