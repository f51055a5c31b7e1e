package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ListOffsets: earliest, latest, by timestamp and max timestamp. Partition 0 of each topic gets one
 * record per batch, partition 1 gets all records in one batch, since the broker must find the exact record
 * inside a batch too.
 */
class ListOffsetsTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    // An hour back keeps timestamps inside any message.timestamp.*.max.ms window.
    private static final long BASE = (System.currentTimeMillis() - 3_600_000L) / 1000 * 1000;

    private static Admin admin;

    @BeforeAll
    static void openAdmin() {
        admin = Clients.admin(BROKER.bootstrapServers());
    }

    @AfterAll
    static void closeAdmin() {
        if (admin != null) {
            admin.close();
        }
    }

    /** Writes records with the given timestamps to partition 0 one batch each and to partition 1 as one batch. */
    private static String topicWithTimestamps(String prefix, long... timestamps) {
        String topic = TestDirs.uniqueTopic(prefix);
        Clients.createTopic(admin, topic, 2, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 1000))) {
            for (int i = 0; i < timestamps.length; i++) {
                producer.send(new ProducerRecord<>(topic, 0, timestamps[i], null, "v" + i));
                producer.flush();
            }
            for (int i = 0; i < timestamps.length; i++) {
                producer.send(new ProducerRecord<>(topic, 1, timestamps[i], null, "v" + i));
            }
            producer.flush();
        }
        return topic;
    }

    private static ListOffsetsResultInfo list(TopicPartition tp, OffsetSpec spec) {
        return Clients.get(admin.listOffsets(Map.of(tp, spec)).partitionResult(tp));
    }

    @Test
    void earliestAndLatest() {
        String topic = TestDirs.uniqueTopic("ends");
        Clients.createTopic(admin, topic, 1, Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        assertThat(list(tp, OffsetSpec.earliest()).offset()).isZero();
        assertThat(list(tp, OffsetSpec.latest()).offset()).as("empty partition").isZero();

        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            for (int i = 0; i < 7; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
            }
            producer.flush();
        }

        assertThat(list(tp, OffsetSpec.earliest()).offset()).isZero();
        assertThat(list(tp, OffsetSpec.latest()).offset()).isEqualTo(7);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, 0L);
            assertThat(consumer.endOffsets(List.of(tp))).containsEntry(tp, 7L);
        }
    }

    @Test
    void offsetsForTimesFindsTheFirstRecordAtOrAfterTheTimestamp() {
        long[] ts = new long[10];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = BASE + i * 1000L;
        }
        String topic = topicWithTimestamps("by-time", ts);

        for (int p = 0; p < 2; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
                assertThat(offsetForTime(consumer, tp, BASE + 3000)).as("partition %d, exact timestamp", p)
                        .isEqualTo("3@" + (BASE + 3000));
                assertThat(offsetForTime(consumer, tp, BASE + 3500)).as("partition %d, between records", p)
                        .isEqualTo("4@" + (BASE + 4000));
                assertThat(offsetForTime(consumer, tp, BASE - 60_000)).as("partition %d, before all", p)
                        .isEqualTo("0@" + BASE);
                assertThat(offsetForTime(consumer, tp, BASE + 60_000)).as("partition %d, after all records", p)
                        .isEqualTo("none");
            }
            ListOffsetsResultInfo viaAdmin = list(tp, OffsetSpec.forTimestamp(BASE + 7000));
            assertThat(viaAdmin.offset()).as("partition %d via admin", p).isEqualTo(7);
            assertThat(viaAdmin.timestamp()).isEqualTo(BASE + 7000);
            assertThat(list(tp, OffsetSpec.forTimestamp(BASE + 60_000)).offset())
                    .as("partition %d: admin reports -1 past the last timestamp", p).isEqualTo(-1);
        }
    }

    /** "offset@timestamp" of the consumer's answer, or "none"; the leader epoch is the broker's business. */
    private static String offsetForTime(KafkaConsumer<String, String> consumer, TopicPartition tp, long timestamp) {
        OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(tp, timestamp)).get(tp);
        return found == null ? "none" : found.offset() + "@" + found.timestamp();
    }

    @Test
    void maxTimestampFindsTheRecordWithTheLargestTimestamp() {
        // The largest timestamp sits in the middle, so neither "last record" nor "last batch" is right.
        String topic = topicWithTimestamps("max-ts", BASE, BASE + 2000, BASE + 9000, BASE + 4000, BASE + 5000);

        for (int p = 0; p < 2; p++) {
            ListOffsetsResultInfo max = list(new TopicPartition(topic, p), OffsetSpec.maxTimestamp());
            assertThat(max.offset()).as("partition %d offset of max timestamp", p).isEqualTo(2);
            assertThat(max.timestamp()).as("partition %d max timestamp", p).isEqualTo(BASE + 9000);
        }
    }
}
