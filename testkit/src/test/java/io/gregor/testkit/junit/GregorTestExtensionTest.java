package io.gregor.testkit.junit;

import io.gregor.testkit.GregorCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** One cluster per class, handed to constructors, lifecycle methods and tests, started with the annotation's properties. */
@GregorTest(properties = {"num.partitions=2", "auto.create.topics.enable = true"})
class GregorTestExtensionTest {
    private static GregorCluster fromBeforeAll;
    private final GregorCluster fromConstructor;

    GregorTestExtensionTest(GregorCluster cluster) {
        this.fromConstructor = cluster;
    }

    @BeforeAll
    static void beforeAll(GregorCluster cluster) {
        fromBeforeAll = cluster;
        assertThat(cluster.broker(0).isRunning()).isTrue();
    }

    @BeforeEach
    void beforeEach(GregorCluster cluster) {
        assertThat(cluster).isSameAs(fromBeforeAll);
    }

    @Test
    void everyParameterGetsTheClassCluster(GregorCluster cluster) {
        assertThat(cluster).isSameAs(fromConstructor).isSameAs(fromBeforeAll);
        assertThat(cluster.brokers()).hasSize(1);
    }

    @Test
    void annotationPropertiesReachTheBroker(GregorCluster cluster) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            producer.send(new ProducerRecord<>("auto", "x")).get();
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            assertThat(admin.describeTopics(List.of("auto")).allTopicNames().get().get("auto").partitions()).hasSize(2);
        }
    }

    @AfterAll
    static void afterAll(GregorCluster cluster) {
        // still running here: JUnit closes it after the class's last callback
        assertThat(cluster.broker(0).isRunning()).isTrue();
    }
}
