package io.gregor.storage;

import org.apache.kafka.tools.DumpLogSegments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.idempotent;
import static org.assertj.core.api.Assertions.assertThat;

/** Kafka's own DumpLogSegments must read every file we write, without complaints. */
class DumpLogSegmentsCompatTest {
    @TempDir
    Path dir;

    private static String dump(String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            DumpLogSegments.main(args);
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dumpLogSegmentsReadsOurLogIndexTimeIndexAndSnapshot() throws Exception {
        FileLogManager manager = FileLogManager.open(TestSupport.settings(dir), t -> null);
        LogConfig config = TestSupport.config(1 << 20, 64);
        PartitionLog log = manager.getOrCreate(TP, Uuids.random(), config);
        for (int i = 0; i < 40; i++) {
            log.append(batch(1_000 + i * 5L, i * 3, 3), 2, 1);
        }
        log.append(idempotent(77, (short) 3, 0, 120, 2), 2, 1);
        manager.close();

        Path seg = dir.resolve("orders-0");
        String logFile = seg.resolve("00000000000000000000.log").toString();
        String indexFile = seg.resolve("00000000000000000000.index").toString();
        String timeIndexFile = seg.resolve("00000000000000000000.timeindex").toString();
        String snapshotFile = seg.resolve("00000000000000000122.snapshot").toString();

        String out = dump("--files", String.join(",", logFile, indexFile, timeIndexFile, snapshotFile),
                "--deep-iteration", "--print-data-log");
        assertThat(out).contains("offset: 0 ", "key: k0 payload: v0", "offset: 119 ", "key: k119 payload: v119",
                "offset: 121 ", "key: k121 payload: v121");
        assertThat(out).contains("producerId: 77 producerEpoch: 3");
        // index entries: offset/position pairs, time index entries: timestamp/offset pairs
        assertThat(out).containsPattern("offset: \\d+ position: \\d+");
        assertThat(out).containsPattern("timestamp: \\d+ offset: \\d+");
        assertThat(out).doesNotContainIgnoringCase("mismatch").doesNotContainIgnoringCase("corrupt")
                .doesNotContainIgnoringCase("not found").doesNotContainIgnoringCase("out of order")
                .doesNotContainIgnoringCase("exception").doesNotContain("Found trailing bytes");
        assertThat(out).contains("producerId: 77 producerEpoch: 3", "lastSequence: 1", "lastOffset: 121");

        String verify = dump("--files", String.join(",", indexFile, timeIndexFile), "--verify-index-only");
        assertThat(verify).doesNotContainIgnoringCase("mismatch").doesNotContainIgnoringCase("not found")
                .doesNotContainIgnoringCase("out of order");
        String sanity = dump("--files", String.join(",", indexFile, timeIndexFile), "--index-sanity-check");
        // kept for a human to look at after a run
        java.nio.file.Files.writeString(Path.of("target", "dump-log-segments-output.txt"), out + verify + sanity);
        assertThat(sanity).contains("passed sanity check").doesNotContainIgnoringCase("failed");
    }

    @Test
    void dumpLogSegmentsShowsOurMarkersAndReadsOurTxnIndex() throws Exception {
        FileLogManager manager = FileLogManager.open(TestSupport.settings(dir), t -> null);
        PartitionLog log = manager.getOrCreate(TP, Uuids.random(), TestSupport.config(1 << 20, 64));
        log.append(TransactionLogTest.txn(31, (short) 2, 0, 0, 2), 3, 1); // 0..1
        log.appendTxnMarker(31, (short) 2, 4, false, 0, 3, 1); // 2
        log.append(TransactionLogTest.txn(32, (short) 0, 0, 3, 1), 3, 1); // 3
        log.appendTxnMarker(32, (short) 0, 4, true, 0, 3, 1); // 4
        manager.close();

        Path seg = dir.resolve("orders-0");
        String out = dump("--files", String.join(",", seg.resolve("00000000000000000000.log").toString(),
                seg.resolve("00000000000000000000.txnindex").toString(),
                seg.resolve("00000000000000000005.snapshot").toString()), "--deep-iteration", "--print-data-log");
        java.nio.file.Files.writeString(Path.of("target", "dump-log-segments-txn-output.txt"), out);
        assertThat(out).contains("isTransactional: true", "isControl: true",
                "endTxnMarker: ABORT coordinatorEpoch: 4", "endTxnMarker: COMMIT coordinatorEpoch: 4");
        assertThat(out).contains("version: 0 producerId: 31 firstOffset: 0 lastOffset: 2 lastStableOffset: 3");
        assertThat(out).contains("producerId: 31 producerEpoch: 2 coordinatorEpoch: 4",
                "producerId: 32 producerEpoch: 0 coordinatorEpoch: 4");
        assertThat(out).doesNotContainIgnoringCase("mismatch").doesNotContainIgnoringCase("corrupt")
                .doesNotContainIgnoringCase("exception").doesNotContain("Found trailing bytes");
    }
}
