package io.gregor.testkit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A single-broker GregorCluster as a test uses it, through the public contract and stock clients only. */
class GregorClusterTest {

    @Test
    void stockProducerAndConsumerRoundTripThroughStart() throws Exception {
        Path dataDir;
        try (GregorCluster cluster = GregorCluster.start()) {
            dataDir = cluster.dataDir();
            assertThat(cluster.brokers()).hasSize(1);
            assertThat(cluster.broker(0).isRunning()).isTrue();
            assertThat(cluster.bootstrapServers()).isEqualTo(cluster.broker(0).bootstrapServers()).startsWith("127.0.0.1:");
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("orders", "k" + i, "v" + i)).get();
                }
            }
            assertThat(TestClients.readValues(cluster.bootstrapServers(), "orders", 1, 10))
                    .containsExactly("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9");
        }
        assertThat(dataDir).as("the temp data dir is deleted on close").doesNotExist();
    }

    @Test
    void stopAndStartKeepPortAndData() throws Exception {
        try (GregorCluster cluster = GregorCluster.start()) {
            GregorNode node = cluster.broker(0);
            String before = node.bootstrapServers();
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
                producer.send(new ProducerRecord<>("kept", "before-stop")).get();
            }
            node.stop();
            assertThat(node.isRunning()).isFalse();
            node.start();
            assertThat(node.isRunning()).isTrue();
            assertThat(node.bootstrapServers()).isEqualTo(before);
            assertThat(TestClients.readValues(cluster.bootstrapServers(), "kept", 1, 1)).containsExactly("before-stop");
        }
    }

    @Test
    void killedSingleBrokerRecoversItsAcknowledgedRecordsOnStart() throws Exception {
        try (GregorCluster cluster = GregorCluster.start()) {
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>("crashing", "r" + i)).get();
                }
            }
            cluster.broker(0).kill();
            assertThat(cluster.broker(0).isRunning()).isFalse();
            assertThat(cluster.broker(0).dataDir().resolve(".kafka_cleanshutdown"))
                    .as("a crash leaves no clean-shutdown marker").doesNotExist();
            cluster.broker(0).start();
            assertThat(TestClients.readValues(cluster.bootstrapServers(), "crashing", 1, 5))
                    .containsExactly("r0", "r1", "r2", "r3", "r4");
        }
    }

    @Test
    void resetLeavesNoTopicAndNoGroupBehind() throws Exception {
        try (GregorCluster cluster = GregorCluster.start()) {
            String bootstrap = cluster.bootstrapServers();
            TestClients.createTopic(bootstrap, "a", 3, 1);
            TestClients.createTopic(bootstrap, "b", 1, 1);
            try (KafkaProducer<String, String> producer = TestClients.producer(bootstrap, Map.of())) {
                producer.send(new ProducerRecord<>("a", "x")).get();
            }
            try (KafkaConsumer<String, String> consumer = TestClients.consumer(bootstrap,
                    Map.of(ConsumerConfig.GROUP_ID_CONFIG, "readers"))) {
                consumer.subscribe(List.of("a"));
                await().atMost(TestClients.TIMEOUT).until(() -> !consumer.poll(Duration.ofMillis(200)).isEmpty());
                consumer.commitSync();
            }
            try (Admin admin = TestClients.admin(bootstrap)) {
                assertThat(admin.listTopics().names().get()).contains("a", "b");
                assertThat(groupIds(admin)).contains("readers");

                cluster.reset();

                assertThat(admin.listTopics().names().get()).isEmpty();
                assertThat(groupIds(admin)).isEmpty();
            }
            // the names are free again, and the new topic starts empty
            TestClients.createTopic(bootstrap, "a", 1, 1);
            try (KafkaProducer<String, String> producer = TestClients.producer(bootstrap, Map.of())) {
                producer.send(new ProducerRecord<>("a", "after-reset")).get();
            }
            assertThat(TestClients.readValues(bootstrap, "a", 1, 1)).containsExactly("after-reset");
        }
    }

    private static List<String> groupIds(Admin admin) throws Exception {
        List<String> ids = new ArrayList<>();
        for (ConsumerGroupListing g : admin.listConsumerGroups().all().get()) {
            ids.add(g.groupId());
        }
        return ids;
    }

    @Test
    void brokerPropertiesReachTheBroker() throws Exception {
        try (GregorCluster cluster = GregorCluster.builder().brokerProperty("num.partitions", "4").start();
             Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
                producer.send(new ProducerRecord<>("auto-created", "x")).get();
            }
            assertThat(admin.describeTopics(List.of("auto-created")).allTopicNames().get().get("auto-created")
                    .partitions()).hasSize(4);
        }
    }

    @Test
    void dataDirIsUsedAndKept(@org.junit.jupiter.api.io.TempDir Path dir) {
        try (GregorCluster cluster = GregorCluster.builder().dataDir(dir.resolve("cluster")).start()) {
            assertThat(cluster.broker(0).dataDir()).startsWith(dir);
        }
        assertThat(Files.exists(dir.resolve("cluster/broker-0/meta.properties"))).isTrue();
    }

    @Test
    void aClusterOnAKeptDataDirComesBackWithItsTopicsAndRecords(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        // ZooKeeper's data and the brokers' logs both stay in the kept dir
        try (GregorCluster cluster = GregorCluster.builder().brokers(2).dataDir(dir).start()) {
            TestClients.createTopic(cluster.bootstrapServers(), "kept", 2, 2);
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(),
                    Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
                producer.send(new ProducerRecord<>("kept", 0, "k", "before-restart")).get();
            }
        }
        try (GregorCluster cluster = GregorCluster.builder().brokers(2).dataDir(dir).start();
             Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            assertThat(admin.describeTopics(List.of("kept")).allTopicNames().get().get("kept").partitions())
                    .hasSize(2);
            assertThat(TestClients.readValues(cluster.bootstrapServers(), "kept", 2, 1)).containsExactly("before-restart");
        }
    }

    @Test
    void badUseGetsClearMessages() {
        try (GregorCluster cluster = GregorCluster.start()) {
            assertThatThrownBy(() -> cluster.broker(1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("No broker 1 in this cluster: its broker ids are 0..0");
            assertThatThrownBy(() -> cluster.broker(0).start()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Broker 0 is already running");
            cluster.broker(0).stop();
            assertThatThrownBy(() -> cluster.broker(0).stop()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Broker 0 is not running");
        }
        assertThatThrownBy(() -> GregorCluster.builder().brokerProperty("num.partitons", "3").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Not a broker property: num.partitons");
        assertThatThrownBy(() -> GregorCluster.builder().brokerProperty("log.dirs", "/tmp/x").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'log.dirs' is set by GregorCluster itself");
        assertThatThrownBy(() -> GregorCluster.builder().brokerProperty("num.partitions", "many").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("num.partitions");
        assertThatThrownBy(() -> GregorCluster.builder().brokers(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one broker");
    }
}
