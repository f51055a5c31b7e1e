package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Each acks setting delivers; acks=0 gets no offsets back but the consumer still sees every record. */
class AcksTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final int RECORDS = 300;

    @ParameterizedTest(name = "acks={0}")
    @ValueSource(strings = {"0", "1", "all"})
    void everyRecordIsDelivered(String acks) {
        String topic = TestDirs.uniqueTopic("acks-" + acks);
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);

        List<Future<RecordMetadata>> results = new ArrayList<>();
        // Idempotence requires acks=all, so weaker acks come with it off, as a user must configure them.
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(), Map.of(
                ProducerConfig.ACKS_CONFIG, acks,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, acks.equals("all"),
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
                ProducerConfig.LINGER_MS_CONFIG, 5))) {
            for (int i = 0; i < RECORDS; i++) {
                results.add(producer.send(new ProducerRecord<>(topic, 0, null, "v" + i)));
            }
            producer.flush();
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata md = Clients.get(results.get(i));
                if (acks.equals("0")) {
                    assertThat(md.hasOffset()).as("acks=0 cannot know the offset").isFalse();
                } else {
                    assertThat(md.offset()).as("offset of record %d", i).isEqualTo(i);
                }
            }
        }

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            List<ConsumerRecord<String, String>> received =
                    Clients.readFromBeginning(consumer, Clients.partitions(topic, 1), RECORDS);
            assertThat(received).extracting(ConsumerRecord::value)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, RECORDS)
                            .mapToObj(i -> "v" + i).toList());
        }
    }
}
