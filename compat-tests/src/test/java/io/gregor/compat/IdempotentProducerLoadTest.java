package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default (idempotent) producer with five requests in flight per connection: every record arrives
 * exactly once and in send order per partition.
 */
class IdempotentProducerLoadTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final int PARTITIONS = 4;
    private static final int RECORDS = 20_000;

    @Test
    void everyRecordExactlyOnceInPerPartitionOrder() {
        String topic = TestDirs.uniqueTopic("idempotent");
        Clients.createTopic(BROKER.bootstrapServers(), topic, PARTITIONS);

        Map<Integer, List<String>> sent = new HashMap<>();
        ConcurrentLinkedQueue<Exception> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger acked = new AtomicInteger();
        // Small batches keep several produce requests in flight at once, which is what idempotence guards.
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(), Map.of(
                ProducerConfig.BATCH_SIZE_CONFIG, 2048,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5))) {
            for (int i = 0; i < RECORDS; i++) {
                int partition = i % PARTITIONS;
                String value = "p" + partition + "-" + i;
                sent.computeIfAbsent(partition, p -> new ArrayList<>()).add(value);
                producer.send(new ProducerRecord<>(topic, partition, null, value), (md, e) -> {
                    if (e != null) {
                        failures.add(e);
                    } else {
                        acked.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        assertThat(failures).as("send failures").isEmpty();
        assertThat(acked).hasValue(RECORDS);

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            List<ConsumerRecord<String, String>> records =
                    Clients.readFromBeginning(consumer, Clients.partitions(topic, PARTITIONS), RECORDS);
            Map<Integer, List<String>> received = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                received.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r.value());
            }
            for (int p = 0; p < PARTITIONS; p++) {
                assertThat(received.get(p)).as("partition %d: exactly once, in send order", p)
                        .containsExactlyElementsOf(sent.get(p));
            }
            assertThat(consumer.endOffsets(Clients.partitions(topic, PARTITIONS)).values())
                    .as("no duplicate or stray records past what was sent")
                    .containsOnly((long) RECORDS / PARTITIONS);
        }
    }
}
