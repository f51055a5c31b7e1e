package io.gregor.testkit.example;

import io.gregor.testkit.GregorCluster;
import io.gregor.testkit.junit.GregorTest;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's example, kept compiling and passing. */
@GregorTest(brokers = 3)
class OrdersTest {
    @Test
    void producerRidesOutALeaderChange(GregorCluster cluster) throws Exception {
        cluster.faults().failNext(ApiKeys.PRODUCE, Errors.NOT_LEADER_OR_FOLLOWER, 3);
        try (var producer = new KafkaProducer<>(Map.of("bootstrap.servers", cluster.bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("orders", "order-1", "created")).get();
        }
        assertThat(cluster.trace().entries()).anyMatch(e -> e.errors().contains(Errors.NOT_LEADER_OR_FOLLOWER));
    }
}
