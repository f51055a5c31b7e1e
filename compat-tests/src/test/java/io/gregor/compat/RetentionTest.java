package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The retention thread deletes whole old segments: the log start offset moves forward and consumers
 * starting from earliest begin there. Segments are 1 MiB because Kafka 4 rejects smaller segment.bytes.
 */
class RetentionTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of("log.retention.check.interval.ms", "200"));

    private static final int SEGMENT_BYTES = 1024 * 1024;
    private static final String VALUE = "x".repeat(16 * 1024);

    private static long produce(String topic, int records, long timestamp) {
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, 0, timestamp, null, i + ":" + VALUE));
            }
            producer.flush();
        }
        return records;
    }

    private static void assertConsumerStartsAtLogStart(TopicPartition tp, long logEnd) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            long start = consumer.beginningOffsets(List.of(tp)).get(tp);
            if (start == logEnd) {
                return; // everything expired: nothing to read, and nothing left to check
            }
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> first = Clients.pollUntil(consumer, 1);
            assertThat(first.get(0).offset()).as("first offset a consumer from earliest sees").isEqualTo(start);
            assertThat(first.get(0).value()).startsWith(start + ":");
        }
    }

    @Test
    void retentionBytesDeletesOldSegmentsAndMovesLogStart() throws IOException {
        String topic = TestDirs.uniqueTopic("retention-bytes");
        TopicPartition tp = new TopicPartition(topic, 0);
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            Clients.get(admin.incrementalAlterConfigs(Map.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, topic),
                    List.of(op("segment.bytes", SEGMENT_BYTES), op("retention.bytes", SEGMENT_BYTES)))).all());
        }
        long end = produce(topic, 250, System.currentTimeMillis()); // about 4 MiB: four segments or more

        long[] start = new long[1];
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            await("log start offset moves past 0").atMost(Duration.ofSeconds(30)).until(() -> {
                start[0] = consumer.beginningOffsets(List.of(tp)).get(tp);
                return start[0] > 0;
            });
            assertThat(consumer.endOffsets(List.of(tp)).get(tp)).isEqualTo(end);
        }
        assertThat(start[0]).as("at least retention.bytes is kept").isLessThan(end - SEGMENT_BYTES / (VALUE.length() + 100));
        assertConsumerStartsAtLogStart(tp, end);

        Path partitionDir = BROKER.broker().logDir().resolve(topic + "-0");
        await("first segment file is gone").atMost(Duration.ofSeconds(30)).until(() ->
                !Files.exists(partitionDir.resolve("00000000000000000000.log")));
        try (Stream<Path> files = Files.list(partitionDir)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log")))
                    .as("remaining segments").isNotEmpty();
        }
    }

    @Test
    void retentionMsDeletesSegmentsWithOldTimestamps() {
        String topic = TestDirs.uniqueTopic("retention-ms");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1,
                    Map.of("segment.bytes", Integer.toString(SEGMENT_BYTES), "retention.ms", "3600000"));
        }
        // Two hours old: past retention.ms as soon as a segment holding them is checked.
        long end = produce(topic, 100, System.currentTimeMillis() - 7_200_000L);

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            await("log start offset moves past 0").atMost(Duration.ofSeconds(30))
                    .until(() -> consumer.beginningOffsets(List.of(tp)).get(tp) > 0);
            assertThat(consumer.endOffsets(List.of(tp)).get(tp)).as("log end offset stays").isEqualTo(end);
        }
        assertConsumerStartsAtLogStart(tp, end);
    }

    private static AlterConfigOp op(String name, int value) {
        return new AlterConfigOp(new ConfigEntry(name, Integer.toString(value)), AlterConfigOp.OpType.SET);
    }
}
