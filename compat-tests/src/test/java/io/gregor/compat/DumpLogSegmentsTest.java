package io.gregor.compat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka's DumpLogSegments reads the segment, offset index and time index files Gregor wrote (after a clean
 * shutdown) and finds every record and no inconsistency.
 */
class DumpLogSegmentsTest {
    private static final int BATCHES = 40;
    private static final int RECORDS_PER_BATCH = 5;
    private static final int RECORDS = BATCHES * RECORDS_PER_BATCH;
    private static final long BASE_TIMESTAMP = (System.currentTimeMillis() - 600_000L) / 1000 * 1000;

    private static TestBroker broker;
    private static String topic;
    private static Path partitionDir;

    @BeforeAll
    static void writeSegmentsAndStopBroker() {
        broker = TestBroker.start("dump-log-segments", Map.of());
        topic = TestDirs.uniqueTopic("dumped");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        // Half the batches uncompressed, half gzip, each about 3 KB so the 4 KB index interval yields entries.
        for (String codec : List.of("none", "gzip")) {
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(),
                    Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec, ProducerConfig.LINGER_MS_CONFIG, 1000))) {
                int first = codec.equals("none") ? 0 : RECORDS / 2;
                for (int i = first; i < first + RECORDS / 2; i++) {
                    RecordHeaders headers = new RecordHeaders();
                    headers.add("h", ("hv" + i).getBytes(StandardCharsets.UTF_8));
                    producer.send(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + i * 10L, "k" + i, value(i), headers));
                    if ((i + 1) % RECORDS_PER_BATCH == 0) {
                        producer.flush();
                    }
                }
                producer.flush();
            }
        }
        broker.stop();
        partitionDir = broker.logDir().resolve(topic + "-0");
    }

    @AfterAll
    static void deleteData() {
        if (broker != null) {
            broker.close();
        }
    }

    private static String value(int i) {
        return "value-" + i + "-" + Integer.toHexString(i * 7919).repeat(100 + i % 7);
    }

    private static Path segmentFile(String suffix) {
        Path file = partitionDir.resolve("00000000000000000000" + suffix);
        assertThat(file).as("segment file").exists();
        return file;
    }

    @Test
    void logSegmentDumpShowsEveryRecord() {
        ToolRunner.Result result = SegmentDumps.dumpClean(segmentFile(".log"), "--print-data-log");

        Pattern recordLine = Pattern.compile(
                "^\\| offset: (\\d+) CreateTime: (\\d+) .*headerKeys: \\[h] key: (\\S+) payload: (\\S+)$");
        List<String> seen = new ArrayList<>();
        for (String line : result.stdoutLines()) {
            Matcher m = recordLine.matcher(line);
            if (m.matches()) {
                seen.add(m.group(1) + "/" + m.group(2) + "/" + m.group(3) + "/" + m.group(4));
            }
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            expected.add(i + "/" + (BASE_TIMESTAMP + i * 10L) + "/k" + i + "/" + value(i));
        }
        assertThat(seen).as(result.describe()).containsExactlyElementsOf(expected);

        long batches = result.stdoutLines().stream().filter(l -> l.startsWith("baseOffset: ")).count();
        assertThat(batches).as("batches, one per flush").isEqualTo(BATCHES);
        assertThat(result.stdout()).contains("compresscodec: none", "compresscodec: gzip", "isvalid: true");
    }

    @Test
    void offsetIndexMatchesTheLog() {
        ToolRunner.Result result = SegmentDumps.dumpClean(segmentFile(".index"));
        long entries = result.stdoutLines().stream().filter(l -> l.matches("offset: \\d+ position: \\d+")).count();
        // About 120 KB of batches with log.index.interval.bytes=4096 gives roughly one entry per 4 KB.
        assertThat(entries).as("offset index entries\n%s", result.describe()).isGreaterThanOrEqualTo(5);
    }

    @Test
    void timeIndexMatchesTheLog() {
        ToolRunner.Result result = SegmentDumps.dumpClean(segmentFile(".timeindex"));
        long entries = result.stdoutLines().stream().filter(l -> l.matches("timestamp: \\d+ offset: \\d+")).count();
        assertThat(entries).as("time index entries\n%s", result.describe()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void indexSanityCheckPasses() {
        ToolRunner.Result result = SegmentDumps.dumpClean(segmentFile(".index"), "--index-sanity-check");
        assertThat(result.stdout()).as(result.describe()).doesNotContain("failed");
    }

    /** Producer-state snapshots are optional for a broker to write; when present, they must parse. */
    @Test
    void producerSnapshotsParseIfPresent() throws IOException {
        List<Path> snapshots;
        try (Stream<Path> files = Files.list(partitionDir)) {
            snapshots = files.filter(f -> f.getFileName().toString().endsWith(".snapshot")).toList();
        }
        for (Path snapshot : snapshots) {
            ToolRunner.Result result = SegmentDumps.dumpClean(snapshot);
            assertThat(result.stdout()).as(result.describe()).contains("producerId:");
        }
    }
}
