package io.gregor.testkit.it;

import io.gregor.testkit.GregorCluster;
import io.gregor.testkit.TraceEntry;
import io.gregor.testkit.junit.GregorTest;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A test as an application writes it, run once per kafka-clients version on the class path (see the pom):
 * the embedded broker keeps its own relocated kafka-clients, the test's clients and ApiKeys/Errors are the
 * application's.
 */
@GregorTest
class OtherKafkaClientsTest {

    @Test
    void theEmbeddedBrokersNettySkipsFlightRecorderEventsAndTheApplicationsNettySettingsAreLeftAlone(
            GregorCluster cluster) {
        assertThat(cluster.brokers()).allMatch(node -> node.isRunning());
        // its relocated Netty reads its settings under the relocated names: the application's stay unset
        assertThat(System.getProperty("io.gregor.shaded.io.netty.jfr.enabled")).isEqualTo("false");
        assertThat(System.getProperty("io.netty.jfr.enabled")).isNull();
    }

    @Test
    void theApplicationsOwnClientsTalkToTheEmbeddedBroker(GregorCluster cluster) throws Exception {
        String expected = "kafka-clients-" + System.getProperty("expected.kafka.clients.version") + ".jar";
        assertThat(ApiKeys.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                .as("the application's kafka-clients").endsWith(expected);
        assertThat(KafkaProducer.class.getProtectionDomain().getCodeSource().getLocation().getPath()).endsWith(expected);

        if (System.getProperty("expected.kafka.clients.version").equals("3.7.2")) {
            assertThat(GregorCluster.class.getClassLoader().getResource("io/netty/channel/Channel.class"))
                    .as("no Netty on the application's class path").isNull();
        }

        cluster.faults().failNext(ApiKeys.PRODUCE, Errors.NOT_LEADER_OR_FOLLOWER, 2);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, "app-producer",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>("app-topic", "k" + i, "v" + i)).get();
            }
        }
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "app-group",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            consumer.subscribe(List.of("app-topic"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < 5 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            consumer.commitSync();
            assertThat(consumer.committed(java.util.Set.of(new TopicPartition("app-topic", 0)))).isNotEmpty();
        }
        assertThat(values).containsExactly("v0", "v1", "v2", "v3", "v4");

        List<TraceEntry> injected = cluster.trace().entries().stream()
                .filter(e -> e.apiKey() == ApiKeys.PRODUCE && e.errors().contains(Errors.NOT_LEADER_OR_FOLLOWER)).toList();
        assertThat(injected).hasSize(2).allMatch(e -> e.clientId().equals("app-producer") && e.injected());

        cluster.reset();
        assertThat(cluster.trace().entries()).isEmpty();
    }

    /** The broker's transaction and share-group state records come from Kafka jars the testkit must carry too. */
    @Test
    void aTransactionCommitsThroughTheEmbeddedBroker(GregorCluster cluster) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "app-txn",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("txn-topic", "k", "committed")).get();
            producer.commitTransaction();
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            TopicPartition tp = new TopicPartition("txn-topic", 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            assertThat(values).containsExactly("committed");
        }
    }
}
