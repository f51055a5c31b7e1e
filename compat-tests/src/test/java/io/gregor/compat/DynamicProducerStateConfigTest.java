package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code producer.id.expiration.ms}, which Kafka changes at runtime (DynamicProducerStateManagerConfig): lowered
 * with the stock {@code kafka-configs} tool, an idle producer's state expires without a restart, as
 * DescribeProducers shows.
 */
class DynamicProducerStateConfigTest {
    private TestBroker broker;

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private static List<ProducerState> producers(Admin admin, TopicPartition tp) throws Exception {
        return admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
    }

    @Test
    void loweredProducerIdExpirationExpiresAnIdleProducerWithoutARestart() throws Exception {
        broker = TestBroker.start("dyn-pid-expiry", Map.of("producer.id.expiration.check.interval.ms", "500"));
        String topic = TestDirs.uniqueTopic("dyn-pid-expiry");
        TopicPartition tp = new TopicPartition(topic, 0);
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(),
                Map.of("enable.idempotence", true))) {
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, "k", "v")));
        }
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            // the default (a day) keeps it
            assertThat(producers(admin, tp)).hasSize(1);

            ToolRunner.Result alter = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server",
                    broker.bootstrapServers(), "--entity-type", "brokers", "--entity-default", "--alter",
                    "--add-config", "producer.id.expiration.ms=1000");
            assertThat(alter.exitCode()).as(alter.describe()).isZero();

            await().atMost(Duration.ofSeconds(30)).until(() -> producers(admin, tp).isEmpty());
        }
    }
}
