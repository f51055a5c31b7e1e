package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Kafka's message timestamp configs seen by stock clients: a record older than message.timestamp.before.max.ms
 * (here the broker default log.message.timestamp.before.max.ms) or newer than after.max.ms (Kafka 4's one-hour
 * default) fails with InvalidTimestampException while its batch mates are kept out too; a LogAppendTime topic
 * hands consumers the broker's time with TimestampType.LOG_APPEND_TIME, and the producer learns it from the ack.
 */
class MessageTimestampTest {
    private static final long HOUR = 3_600_000L;
    private static TestBroker broker;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("MessageTimestampTest", Map.of("log.message.timestamp.before.max.ms", "86400000"));
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static KafkaProducer<String, String> producer(String compression) {
        return Clients.producer(broker.bootstrapServers(), Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression,
                ProducerConfig.LINGER_MS_CONFIG, 0));
    }

    private static Throwable cause(Future<RecordMetadata> send) {
        Throwable t = catchThrowable(send::get);
        assertThat(t).isInstanceOf(ExecutionException.class);
        return t.getCause();
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "lz4", "zstd"})
    void recordsOutsideTheTimestampBoundsAreRefused(String compression) throws Exception {
        String topic = TestDirs.uniqueTopic("ts-bounds");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of());
        }
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = producer(compression)) {
            Throwable tooOld = cause(producer.send(new ProducerRecord<>(topic, 0, now - 2 * 86_400_000L, "k", "old")));
            assertThat(tooOld).isInstanceOf(InvalidTimestampException.class)
                    .hasMessageContaining("is out of range. The timestamp should be within [");
            Throwable tooNew = cause(producer.send(new ProducerRecord<>(topic, 0, now + 2 * HOUR, "k", "future")));
            assertThat(tooNew).isInstanceOf(InvalidTimestampException.class);
            RecordMetadata ok = producer.send(new ProducerRecord<>(topic, 0, now - HOUR, "k", "fine")).get();
            assertThat(ok.offset()).as("the refused records took no offsets").isZero();
            assertThat(ok.timestamp()).isEqualTo(now - HOUR);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            List<ConsumerRecord<String, String>> records =
                    Clients.readAll(consumer, List.of(new TopicPartition(topic, 0)));
            assertThat(records).extracting(ConsumerRecord::value).containsExactly("fine");
            assertThat(records.get(0).timestampType()).isEqualTo(TimestampType.CREATE_TIME);
            assertThat(records.get(0).timestamp()).isEqualTo(now - HOUR);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd"})
    void aLogAppendTimeTopicGivesRecordsTheBrokersTime(String compression) throws Exception {
        String topic = TestDirs.uniqueTopic("ts-append");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of("message.timestamp.type", "LogAppendTime"));
        }
        long before = System.currentTimeMillis();
        RecordMetadata first;
        try (KafkaProducer<String, String> producer = producer(compression)) {
            // a timestamp far outside the default bounds: they apply to CreateTime topics only
            first = producer.send(new ProducerRecord<>(topic, 0, 1_000L, "k", "a")).get();
            producer.send(new ProducerRecord<>(topic, 0, before + 10 * HOUR, "k", "b")).get();
        }
        long after = System.currentTimeMillis();
        assertThat(first.timestamp()).as("the ack carries the log append time").isBetween(before, after);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            List<ConsumerRecord<String, String>> records =
                    Clients.readAll(consumer, List.of(new TopicPartition(topic, 0)));
            assertThat(records).extracting(ConsumerRecord::value).containsExactly("a", "b");
            for (ConsumerRecord<String, String> r : records) {
                assertThat(r.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
                assertThat(r.timestamp()).isBetween(before, after);
            }
            assertThat(records.get(0).timestamp()).isEqualTo(first.timestamp());
        }
    }
}
