package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A compacted topic with the stock producer and consumer: after many overwrites (and deletes), reading from
 * the beginning gives each live key's latest value exactly once, at the offset it was written at.
 */
class CompactionTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of("log.cleaner.backoff.ms", "100"));

    private static final int KEYS = 50;
    private static final String PADDING = "p".repeat(2000);

    @Test
    void readingFromTheBeginningGivesEachKeysLatestValueOnce() {
        String topic = TestDirs.uniqueTopic("compacted");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            // Kafka 4 rejects segment.bytes below 1 MiB, so about 2 KiB values roll a segment every ~500 records
            Clients.createTopic(admin, topic, 1, Map.of("cleanup.policy", "compact",
                    "segment.bytes", Integer.toString(1024 * 1024), "min.cleanable.dirty.ratio", "0.01",
                    "delete.retention.ms", "100"));
        }
        Map<String, String> latest = new HashMap<>();
        Map<String, Long> latestOffset = new HashMap<>();
        int rounds = 60; // 3000 records, ~6 MiB: several segments, each key overwritten 60 times
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))) {
            Map<String, Future<RecordMetadata>> lastSend = new HashMap<>();
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < KEYS; k++) {
                    String key = "key-" + k;
                    // the last round deletes every tenth key
                    String value = round == rounds - 1 && k % 10 == 0 ? null : round + ":" + PADDING;
                    lastSend.put(key, producer.send(new ProducerRecord<>(topic, 0, key, value)));
                    latest.put(key, value);
                }
            }
            producer.flush();
            lastSend.forEach((key, sent) -> latestOffset.put(key, Clients.get(sent).offset()));
        }
        latest.values().removeIf(v -> v == null);
        long lastOverwrite = latestOffset.values().stream().mapToLong(Long::longValue).max().orElseThrow();

        // The segment holding the last overwrites is active until more data rolls it, and a tombstone only
        // goes in a clean after the one that started its delete.retention.ms: keep adding distinct filler
        // keys until the overwritten part of the log holds exactly one record per live key.
        AtomicReference<List<ConsumerRecord<String, String>>> compacted = new AtomicReference<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers());
             KafkaProducer<String, String> filler = Clients.producer(BROKER.bootstrapServers(),
                     Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))) {
            await("one record per live key").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> {
                        compacted.set(Clients.readAll(consumer, List.of(tp)).stream()
                                .filter(r -> r.offset() <= lastOverwrite).toList());
                        if (compacted.get().size() == latest.size()) {
                            return true;
                        }
                        for (int i = 0; i < 600; i++) { // > 1 MiB: the segment being written rolls
                            filler.send(new ProducerRecord<>(topic, 0, "filler-" + i, PADDING));
                        }
                        filler.flush();
                        return false;
                    });
        }

        Set<String> keys = new HashSet<>();
        for (ConsumerRecord<String, String> r : compacted.get()) {
            assertThat(keys.add(r.key())).as("key %s appears once", r.key()).isTrue();
            assertThat(r.value()).isEqualTo(latest.get(r.key()));
            assertThat(r.offset()).as("offset of %s", r.key()).isEqualTo(latestOffset.get(r.key()));
        }
        assertThat(keys).isEqualTo(latest.keySet());
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            assertThat(consumer.beginningOffsets(List.of(tp)).get(tp)).as("compaction keeps the log start").isZero();
        }
    }
}
