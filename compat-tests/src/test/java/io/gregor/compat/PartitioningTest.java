package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Keyed records go where Kafka's default partitioner puts them and come back in order per partition. */
class PartitioningTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final int PARTITIONS = 6;
    private static final int RECORDS = 600;

    @Test
    void keyedRecordsLandOnMurmur2PartitionAndComeBackInOrderPerPartition() {
        String topic = TestDirs.uniqueTopic("keyed");
        Clients.createTopic(BROKER.bootstrapServers(), topic, PARTITIONS);

        Map<Integer, List<String>> sentValuesByPartition = new HashMap<>();
        Map<String, Integer> expectedPartitionOfKey = new HashMap<>();
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                String key = "key-" + (i % 37);
                int expected = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
                expectedPartitionOfKey.put(key, expected);
                sentValuesByPartition.computeIfAbsent(expected, p -> new ArrayList<>()).add("v" + i);
                acks.add(producer.send(new ProducerRecord<>(topic, key, "v" + i)));
            }
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata md = Clients.get(acks.get(i));
                assertThat(md.partition()).as("partition the producer reports for record %d", i)
                        .isEqualTo(expectedPartitionOfKey.get("key-" + (i % 37)));
            }
        }
        assertThat(sentValuesByPartition).as("keys spread over several partitions").hasSizeGreaterThan(3);

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            List<ConsumerRecord<String, String>> records =
                    Clients.readFromBeginning(consumer, Clients.partitions(topic, PARTITIONS), RECORDS);
            assertThat(records).hasSize(RECORDS);

            Map<Integer, List<String>> receivedByPartition = new HashMap<>();
            Map<Integer, Long> lastOffset = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                assertThat(r.partition()).as("partition of key %s", r.key())
                        .isEqualTo(expectedPartitionOfKey.get(r.key()));
                long previous = lastOffset.getOrDefault(r.partition(), -1L);
                assertThat(r.offset()).as("offsets in partition %d are consecutive", r.partition())
                        .isEqualTo(previous + 1);
                lastOffset.put(r.partition(), r.offset());
                receivedByPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r.value());
            }
            assertThat(receivedByPartition).isEqualTo(sentValuesByPartition);
        }
    }
}
