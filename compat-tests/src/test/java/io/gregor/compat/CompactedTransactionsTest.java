package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Transactions on a compacted topic with the stock clients and DumpLogSegments, as the cleaner works through
 * them: aborted records go, each key ends with its latest committed value for read_committed and
 * read_uncommitted consumers alike, and the markers of transactions left without data stay (with their delete
 * horizon stamped) until delete.retention.ms has passed, then go, while the markers of transactions whose records
 * are still there stay.
 */
class CompactedTransactionsTest {
    private static final long DELETE_RETENTION_MS = 15_000;
    private static final int KEYS = 50;
    private static final int TRANSACTIONS = 10;
    private static final String PADDING = "p".repeat(2000);
    private static final Pattern BATCH = Pattern.compile(
            "baseOffset: (\\d+) .*?isControl: (true|false) deleteHorizonMs: OptionalLong(?:\\[(\\d+)]|\\.empty)");

    private static TestBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = TestBroker.start("compacted-transactions", Map.of("log.cleaner.backoff.ms", "100"));
    }

    @AfterAll
    static void closeBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    private static boolean aborted(int txn) {
        return txn % 3 == 2; // 2, 5 and 8
    }

    /** Transactions 0-7 write every key, 8 (aborted) the first half, 9 the second half. */
    private static boolean writes(int txn, int key) {
        return txn < 8 || (txn == 8) == (key < KEYS / 2);
    }

    /** One control batch as DumpLogSegments reports it: its offset and delete horizon (-1 when none). */
    private record Marker(long offset, long deleteHorizonMs) {
    }

    @Test
    void cleanerRemovesAbortedRecordsAndTheMarkersOfTransactionsWithoutRecordsAfterTheirHorizon() {
        String topic = TestDirs.uniqueTopic("compacted-txn");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of("cleanup.policy", "compact",
                    "segment.bytes", Integer.toString(1024 * 1024), "min.cleanable.dirty.ratio", "0.01",
                    "delete.retention.ms", Long.toString(DELETE_RETENTION_MS)));
        }
        Map<String, String> expectedValue = new HashMap<>();
        Map<String, Long> expectedOffset = new HashMap<>();
        long[] markerOffset = new long[TRANSACTIONS];
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "compacted-txn-writer", ProducerConfig.LINGER_MS_CONFIG, 5))) {
            producer.initTransactions();
            for (int txn = 0; txn < TRANSACTIONS; txn++) {
                producer.beginTransaction();
                Map<String, Future<RecordMetadata>> sent = new HashMap<>();
                for (int k = 0; k < KEYS; k++) {
                    if (writes(txn, k)) {
                        String key = "key-" + k;
                        String value = "txn" + txn + (aborted(txn) ? "-aborted:" : ":") + PADDING;
                        sent.put(key, producer.send(new ProducerRecord<>(topic, 0, key, value)));
                        if (!aborted(txn)) {
                            expectedValue.put(key, value);
                        }
                    }
                }
                producer.flush();
                long last = -1;
                for (Map.Entry<String, Future<RecordMetadata>> e : sent.entrySet()) {
                    long offset = Clients.get(e.getValue()).offset();
                    last = Math.max(last, offset);
                    if (!aborted(txn)) {
                        expectedOffset.put(e.getKey(), offset);
                    }
                }
                if (aborted(txn)) {
                    producer.abortTransaction();
                } else {
                    producer.commitTransaction();
                }
                markerOffset[txn] = last + 1; // the only writer: its marker comes right after its records
            }
        }
        long lastTxnOffset = markerOffset[TRANSACTIONS - 1];
        List<Long> markersWithoutRecords = new ArrayList<>();
        for (int txn = 0; txn < TRANSACTIONS; txn++) {
            if (txn != 7 && txn != 9) { // 7 and 9 hold the latest committed values
                markersWithoutRecords.add(markerOffset[txn]);
            }
        }
        List<Long> markersWithRecords = List.of(markerOffset[7], markerOffset[9]);
        Path partitionDir = broker.logDir().resolve(topic + "-0");

        try (KafkaConsumer<String, String> committed = Clients.consumer(broker.bootstrapServers(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
             KafkaConsumer<String, String> uncommitted = Clients.consumer(broker.bootstrapServers(),
                     Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"));
             KafkaProducer<String, String> filler = Clients.producer(broker.bootstrapServers(),
                     Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))) {
            int[] fillerRound = {0};
            Runnable moreDirt = () -> { // > 1 MiB of distinct keys: the segment being written rolls, the log is dirty
                for (int i = 0; i < 600; i++) {
                    filler.send(new ProducerRecord<>(topic, 0, "filler-" + fillerRound[0] + "-" + i, PADDING));
                }
                filler.flush();
                fillerRound[0]++;
            };

            // 1: the transactions' records are cleaned, and the markers of those without records left carry a
            // delete horizon still in the future: they are kept until then
            AtomicReference<Map<Long, Marker>> seen = new AtomicReference<>();
            long[] dumpedAt = {0};
            await("records cleaned, horizons stamped").atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofSeconds(1)).until(() -> {
                        long before = System.currentTimeMillis();
                        Map<Long, Marker> markers = markers(partitionDir);
                        boolean stamped = markers != null
                                && markersWithoutRecords.stream().allMatch(o -> markers.containsKey(o)
                                && markers.get(o).deleteHorizonMs() >= 0)
                                && cleanedView(committed, tp, lastTxnOffset).equals(expectedRecords(expectedValue,
                                expectedOffset));
                        if (stamped) {
                            seen.set(markers);
                            dumpedAt[0] = before;
                            return true;
                        }
                        moreDirt.run();
                        return false;
                    });
            long horizon = seen.get().get(markersWithoutRecords.get(0)).deleteHorizonMs();
            assertThat(horizon).as("the markers were dumped before their delete horizon").isGreaterThan(dumpedAt[0]);
            for (long offset : markersWithRecords) {
                assertThat(seen.get().get(offset)).as("marker at %d of a transaction with records", offset)
                        .isEqualTo(new Marker(offset, -1));
            }
            assertThat(cleanedView(committed, tp, lastTxnOffset)).isEqualTo(expectedRecords(expectedValue, expectedOffset));
            assertThat(cleanedView(uncommitted, tp, lastTxnOffset)).as("aborted records are gone for everyone")
                    .isEqualTo(expectedRecords(expectedValue, expectedOffset));

            // 2: after the horizon, a later pass removes those markers; the others stay
            await("markers removed after their horizon").atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofSeconds(1)).until(() -> {
                        Map<Long, Marker> markers = markers(partitionDir);
                        if (markers != null && markersWithoutRecords.stream().noneMatch(markers::containsKey)) {
                            seen.set(markers);
                            return true;
                        }
                        moreDirt.run();
                        return false;
                    });
            assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(horizon);
            for (long offset : markersWithRecords) {
                assertThat(seen.get()).as("marker at %d of a transaction with records", offset).containsKey(offset);
            }
            assertThat(cleanedView(committed, tp, lastTxnOffset)).isEqualTo(expectedRecords(expectedValue, expectedOffset));
            assertThat(cleanedView(uncommitted, tp, lastTxnOffset)).isEqualTo(expectedRecords(expectedValue, expectedOffset));
        }

        // the files the cleaner wrote are sound for DumpLogSegments, and no aborted transaction is left to index
        broker.stop();
        SegmentDumps.dumpPartitionClean(partitionDir);
        for (Path txnIndex : files(partitionDir, ".txnindex")) {
            assertThat(SegmentDumps.dumpClean(txnIndex).stdout()).as("%s", txnIndex).doesNotContain("producerId:");
        }
    }

    /** "offset key value" per record at or below {@code upTo}, in the order a consumer reads them. */
    private static List<String> cleanedView(KafkaConsumer<String, String> consumer, TopicPartition tp, long upTo) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<String, String> r : Clients.readAll(consumer, List.of(tp))) {
            if (r.offset() <= upTo) {
                out.add(r.offset() + " " + r.key() + " " + r.value().substring(0, r.value().indexOf(':')));
            }
        }
        return out;
    }

    private static List<String> expectedRecords(Map<String, String> values, Map<String, Long> offsets) {
        return offsets.entrySet().stream().sorted(Map.Entry.comparingByValue())
                .map(e -> e.getValue() + " " + e.getKey() + " "
                        + values.get(e.getKey()).substring(0, values.get(e.getKey()).indexOf(':')))
                .toList();
    }

    private static List<Path> files(Path dir, String suffix) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The control batches of the partition's segments as DumpLogSegments reports them, by offset; null when the
     * tool could not read them (the running cleaner replaced a file under it): the caller tries again.
     */
    private static Map<Long, Marker> markers(Path partitionDir) {
        List<Path> logs = files(partitionDir, ".log");
        ToolRunner.Result result = ToolRunner.runTool(ToolRunner.DUMP_LOG_SEGMENTS, "--files",
                String.join(",", logs.stream().map(Path::toString).toList()));
        if (result.exitCode() != 0 || result.stderr().contains("Exception")) {
            return null;
        }
        Map<Long, Marker> markers = new HashMap<>();
        for (String line : result.stdoutLines()) {
            Matcher m = BATCH.matcher(line);
            if (m.find() && m.group(2).equals("true")) {
                long offset = Long.parseLong(m.group(1));
                markers.put(offset, new Marker(offset, m.group(3) == null ? -1 : Long.parseLong(m.group(3))));
            }
        }
        return markers;
    }
}
