package io.gregor.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

import static io.gregor.storage.TestSupport.TP;
import static io.gregor.storage.TestSupport.batchesOf;
import static io.gregor.storage.TestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cleaner's rules for transactional data on real files (Kafka's LogCleaner with KIP-534): aborted records go,
 * a marker goes only once its transaction has no batch left and the delete horizon stamped by the pass that first
 * saw it so has passed, a producer's last word stays as a header, and the aborted-transaction index only names
 * transactions whose markers are still there. Checked by replaying the log as a read_committed consumer does.
 */
class TransactionCompactionTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final long DELETE_RETENTION_MS = 1000;

    @TempDir
    Path dir;

    private FileLogManager manager;

    @AfterEach
    void closeManager() {
        if (manager != null) {
            manager.close();
        }
    }

    private FileLog openLog() {
        StorageSettings s = TestSupport.settings(dir).withCleaner(false, 1, 10, 1 << 20, 64 * 1024);
        manager = FileLogManager.open(s, t -> null);
        LogConfig compacted = new LogConfig(1024, Long.MAX_VALUE, -1, -1, 64, 10 * 1024 * 1024, Long.MAX_VALUE,
                Long.MAX_VALUE, 1024 * 1024, false, 0, true, false, DELETE_RETENTION_MS, 0.01, 0, Long.MAX_VALUE);
        return (FileLog) manager.getOrCreate(TP, Uuids.random(), compacted);
    }

    private static SimpleRecord record(String key, String value) {
        return new SimpleRecord(T0, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    private static long append(FileLog log, ByteBuffer batch) {
        long first = log.append(batch, 0, T0).firstOffset();
        log.updateHighWatermark(log.logEndOffset());
        return first;
    }

    private static long put(FileLog log, String key, String value) {
        return append(log, MemoryRecords.withRecords(Compression.NONE, record(key, value)).buffer());
    }

    private static long txnPut(FileLog log, long pid, int epoch, int seq, String key, String value) {
        return append(log, MemoryRecords.withTransactionalRecords(Compression.NONE, pid, (short) epoch, seq,
                record(key, value)).buffer());
    }

    /** A transactions-v2 marker: the coordinator bumped the epoch to {@code epoch}. */
    private static long end(FileLog log, long pid, int epoch, boolean commit) {
        long offset = log.appendTxnMarker(pid, (short) epoch, 0, commit, 2, 0, T0).firstOffset();
        log.updateHighWatermark(log.logEndOffset());
        return offset;
    }

    private static List<RecordBatch> allBatches(FileLog log) {
        List<RecordBatch> out = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            List<RecordBatch> got = batchesOf(log.read(next, 1 << 20, Long.MAX_VALUE, true).records());
            got.forEach(RecordBatch::ensureValid);
            out.addAll(got);
            next = got.get(got.size() - 1).lastOffset() + 1;
        }
        return out;
    }

    private static ControlRecordType markerType(RecordBatch b) {
        return ControlRecordType.parse(b.iterator().next().key());
    }

    /** "offset:TYPE" of each marker with records, plus ":horizon=N" once it carries a delete horizon. */
    private static List<String> markers(FileLog log) {
        List<String> out = new ArrayList<>();
        for (RecordBatch b : allBatches(log)) {
            if (b.isControlBatch() && b.countOrNull() != 0) {
                out.add(b.baseOffset() + ":" + markerType(b)
                        + (b.deleteHorizonMs().isPresent() ? ":horizon=" + b.deleteHorizonMs().getAsLong() : ""));
            }
        }
        return out;
    }

    /**
     * What a read_committed consumer delivers from the log start to the LSO: Kafka's consumer algorithm over the
     * batches and the aborted transactions the log reports for that range ("offset:key:value").
     */
    private static List<String> readCommitted(FileLog log) {
        long lso = log.lastStableOffset();
        PriorityQueue<AbortedTxn> aborted = new PriorityQueue<>(Comparator.comparingLong(AbortedTxn::firstOffset));
        aborted.addAll(log.abortedTransactions(log.logStartOffset(), lso));
        Set<Long> abortedProducers = new HashSet<>();
        List<String> out = new ArrayList<>();
        for (RecordBatch b : allBatches(log)) {
            if (b.baseOffset() >= lso) {
                break;
            }
            if (b.hasProducerId()) {
                while (!aborted.isEmpty() && aborted.peek().firstOffset() <= b.lastOffset()) {
                    abortedProducers.add(aborted.poll().producerId());
                }
                if (b.isControlBatch()) {
                    if (b.countOrNull() != 0 && markerType(b) == ControlRecordType.ABORT) {
                        abortedProducers.remove(b.producerId());
                    }
                    continue;
                }
                if (b.isTransactional() && abortedProducers.contains(b.producerId())) {
                    continue;
                }
            }
            for (Record r : b) {
                out.add(r.offset() + ":" + str(r.key()) + ":" + str(r.value()));
            }
        }
        return out;
    }

    /** The last value per key of a read ("key=value"). */
    private static Map<String, String> latest(List<String> records) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String r : records) {
            String[] parts = r.split(":", 3);
            out.put(parts[1], parts[2]);
        }
        return out;
    }

    private boolean clean(long nowMs) {
        return manager.cleaner().cleanFilthiestLog(nowMs) != null;
    }

    @Test
    void markersGoOnlyAfterTheirTransactionHasNoBatchLeftAndTheDeleteHorizonStampedThenHasPassed() {
        FileLog log = openLog();
        txnPut(log, 5, 0, 0, "a", "aborted");        // 0
        end(log, 5, 1, false);                        // 1: ABORT of 0
        txnPut(log, 6, 0, 0, "c", "committed-old");   // 2
        end(log, 6, 1, true);                         // 3: COMMIT of 2
        put(log, "c", "plain-newer");                 // 4: shadows 2
        txnPut(log, 5, 1, 0, "b", "committed-b");     // 5
        end(log, 5, 2, true);                         // 6: COMMIT of 5, producer 5's last word
        txnPut(log, 6, 1, 0, "d", "committed-d");     // 7
        end(log, 6, 2, true);                         // 8: COMMIT of 7, producer 6's last word
        put(log, "d", "plain-d");                     // 9: shadows 7
        log.roll();
        put(log, "z", "active");
        assertThat(log.abortedTransactions(0, 100)).containsExactly(new AbortedTxn(5, 0, 1, 2));

        // first pass: the batches of every transaction are seen (and removed where aborted or shadowed):
        // every marker stays as it was, the abort keeps its index entry
        assertThat(clean(T0 + 10_000)).isTrue();
        assertThat(markers(log)).containsExactly("1:ABORT", "3:COMMIT", "6:COMMIT", "8:COMMIT");
        assertThat(log.abortedTransactions(0, 100)).containsExactly(new AbortedTxn(5, 0, 1, 2));
        assertThat(readCommitted(log)).containsExactly("4:c:plain-newer", "5:b:committed-b", "9:d:plain-d",
                "10:z:active");

        // second pass: markers whose transactions have no batch left get their delete horizon; the index
        // entry goes with the aborted data (nothing is left for a consumer to skip)
        put(log, "y", "dirt");
        log.roll();
        put(log, "z", "active-2");
        assertThat(clean(T0 + 20_000)).isTrue();
        long horizon = T0 + 20_000 + DELETE_RETENTION_MS;
        assertThat(markers(log)).containsExactly("1:ABORT:horizon=" + horizon, "3:COMMIT:horizon=" + horizon,
                "6:COMMIT", "8:COMMIT:horizon=" + horizon);
        assertThat(log.abortedTransactions(0, 100)).isEmpty();
        assertThat(latest(readCommitted(log))).containsExactly(Map.entry("c", "plain-newer"),
                Map.entry("b", "committed-b"), Map.entry("d", "plain-d"), Map.entry("z", "active-2"),
                Map.entry("y", "dirt"));

        // a pass before the horizon changes nothing about them
        put(log, "y", "dirt-2");
        log.roll();
        put(log, "z", "active-3");
        assertThat(clean(horizon - 1)).isTrue();
        assertThat(markers(log)).containsExactly("1:ABORT:horizon=" + horizon, "3:COMMIT:horizon=" + horizon,
                "6:COMMIT", "8:COMMIT:horizon=" + horizon);

        // a pass at the horizon removes them; producer 6's last word (epoch 2) stays as a bare header
        put(log, "y", "dirt-3");
        log.roll();
        put(log, "z", "active-4");
        assertThat(clean(horizon)).isTrue();
        assertThat(markers(log)).containsExactly("6:COMMIT");
        List<RecordBatch> controls = allBatches(log).stream().filter(RecordBatch::isControlBatch).toList();
        assertThat(controls).extracting(RecordBatch::baseOffset).containsExactly(6L, 8L);
        RecordBatch header = controls.get(1);
        assertThat(header.countOrNull()).isZero();
        assertThat(header.producerId()).isEqualTo(6);
        assertThat(header.producerEpoch()).isEqualTo((short) 2);
        assertThat(latest(readCommitted(log))).containsEntry("b", "committed-b").containsEntry("c", "plain-newer")
                .containsEntry("d", "plain-d").doesNotContainValue("aborted");

        // the cleaned log reopens to the same view, index included
        List<String> before = readCommitted(log);
        manager.close();
        FileLog reopened = openLogAgain();
        assertThat(readCommitted(reopened)).isEqualTo(before);
        assertThat(reopened.abortedTransactions(0, 100)).isEmpty();
    }

    private FileLog openLogAgain() {
        StorageSettings s = TestSupport.settings(dir).withCleaner(false, 1, 10, 1 << 20, 64 * 1024);
        manager = FileLogManager.open(s, t -> null);
        return (FileLog) manager.get(TP).orElseThrow();
    }

    @Test
    void anAbortWhoseLastBatchIsKeptAsItsProducersHeaderKeepsItsMarkerAndIndexEntry() {
        FileLog log = openLog();
        txnPut(log, 9, 0, 0, "a", "aborted"); // transactions v1 marker below: the data batch stays producer 9's last
        log.appendTxnMarker(9, (short) 0, 0, false, 0, 0, T0);
        log.updateHighWatermark(log.logEndOffset());
        for (int i = 0; i < 30; i++) {
            put(log, "k" + (i % 3), "v" + i);
        }
        log.roll();
        put(log, "z", "active");
        for (long now = T0 + 10_000; now <= T0 + 40_000; now += 10_000) {
            put(log, "k0", "dirt" + now);
            log.roll();
            assertThat(clean(now)).isTrue();
        }
        assertThat(markers(log)).containsExactly("1:ABORT");
        assertThat(log.abortedTransactions(0, 1000)).containsExactly(new AbortedTxn(9, 0, 1, 2));
        RecordBatch first = allBatches(log).get(0);
        assertThat(first.countOrNull()).as("the aborted batch, emptied to a header").isZero();
        assertThat(readCommitted(log)).noneMatch(r -> r.endsWith(":aborted"));
    }

    /**
     * Interleaved transactions of several producers, committed and aborted, with plain writes among them,
     * cleaned again and again as time passes: after every pass a read_committed replay sees the latest committed
     * value of every key and never an aborted one, and in the end no marker of a transaction without data is left
     * except producers' last words.
     */
    @Test
    void readCommittedSeesExactlyTheLatestCommittedValuesAfterEveryPass() {
        FileLog log = openLog();
        Random random = new Random(11);
        Map<String, String> committed = new HashMap<>();
        Map<String, Long> committedAt = new HashMap<>(); // the log keeps a key's value of the highest offset
        Set<String> abortedValues = new HashSet<>();
        int markersWritten = 0;
        int producers = 4;
        int[] epoch = new int[producers];
        int[] seq = new int[producers];
        List<List<String[]>> open = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            open.add(null);
        }
        long now = T0 + 10_000;
        int step = 0;
        for (int round = 0; round < 12; round++) {
            for (int op = 0; op < 40; op++, step++) {
                int p = random.nextInt(producers);
                String key = "k" + random.nextInt(10);
                if (random.nextInt(5) == 0) {
                    String value = "plain-" + step;
                    long offset = put(log, key, value);
                    committed.put(key, value);
                    committedAt.put(key, offset);
                    continue;
                }
                if (open.get(p) == null) {
                    open.set(p, new ArrayList<>());
                }
                String value = "p" + p + "-" + step;
                long offset = txnPut(log, 100 + p, epoch[p], seq[p]++, key, value);
                open.get(p).add(new String[] {key, value, Long.toString(offset)});
                if (random.nextInt(3) == 0) {
                    boolean commit = random.nextBoolean();
                    epoch[p]++;
                    seq[p] = 0;
                    end(log, 100 + p, epoch[p], commit);
                    markersWritten++;
                    if (commit) {
                        for (String[] kv : open.get(p)) {
                            if (Long.parseLong(kv[2]) > committedAt.getOrDefault(kv[0], -1L)) {
                                committed.put(kv[0], kv[1]);
                                committedAt.put(kv[0], Long.parseLong(kv[2]));
                            }
                        }
                    } else {
                        open.get(p).forEach(kv -> abortedValues.add(kv[1]));
                    }
                    open.set(p, null);
                }
            }
            for (int p = 0; p < producers; p++) { // close every transaction so the whole log is cleanable
                if (open.get(p) != null) {
                    epoch[p]++;
                    seq[p] = 0;
                    end(log, 100 + p, epoch[p], false);
                    markersWritten++;
                    open.get(p).forEach(kv -> abortedValues.add(kv[1]));
                    open.set(p, null);
                }
            }
            log.roll();
            put(log, "active", "r" + round);
            committed.put("active", "r" + round);
            assertThat(clean(now)).isTrue();
            now += DELETE_RETENTION_MS / 2;

            List<String> read = readCommitted(log);
            assertThat(read).noneMatch(r -> abortedValues.contains(r.split(":", 3)[2]));
            assertThat(latest(read)).as("round %d", round).isEqualTo(committed);
        }
        // quiet: dirt only, past every horizon: the markers left are the producers' last words
        for (int i = 0; i < 3; i++) {
            put(log, "active", "q" + i);
            committed.put("active", "q" + i);
            log.roll();
            put(log, "active", "q" + i + "-active");
            committed.put("active", "q" + i + "-active");
            now += DELETE_RETENTION_MS * 2;
            assertThat(clean(now)).isTrue();
            assertThat(latest(readCommitted(log))).isEqualTo(committed);
        }
        long markersLeft = allBatches(log).stream().filter(b -> b.isControlBatch() && b.countOrNull() != 0).count();
        long survivingTxnData = allBatches(log).stream()
                .filter(b -> b.isTransactional() && !b.isControlBatch() && b.countOrNull() != 0).count();
        assertThat(markersLeft).as("a marker per transaction with data left, at most")
                .isLessThanOrEqualTo(survivingTxnData + producers)
                .isLessThan(markersWritten / 4);
    }
}
