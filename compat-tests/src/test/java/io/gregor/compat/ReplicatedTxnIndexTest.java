package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Transactions on a replicated partition: the leader's markers reach the followers like any batch, each
 * replica indexes the aborted transaction in its own .txnindex, and after the leader dies a read_committed
 * consumer of the new leader still sees exactly the committed records.
 */
class ReplicatedTxnIndexTest {
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    private Path partitionFile(int broker, String topic, String name) {
        return cluster.broker(broker).logDir().resolve(topic + "-0").resolve(name);
    }

    private static byte[] bytes(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
    }

    /** The partition's files and sizes on each broker, for a failure message. */
    private String describe(String topic) {
        StringBuilder out = new StringBuilder();
        for (int id = 1; id <= 3; id++) {
            try (var files = Files.list(partitionFile(id, topic, "x").getParent())) {
                out.append("broker ").append(id).append(": ")
                        .append(files.map(f -> f.getFileName() + "=" + f.toFile().length()).sorted().toList()).append('\n');
            } catch (java.io.IOException e) {
                out.append("broker ").append(id).append(": ").append(e).append('\n');
            }
        }
        return out.toString();
    }

    private static int leaderOf(Admin admin, String topic) throws Exception {
        TopicPartitionInfo p = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0);
        return p.leader() == null ? -1 : p.leader().id();
    }

    @Test
    void abortsAreIndexedOnEveryReplicaAndTheNewLeaderServesReadCommitted() throws Exception {
        cluster.start("txn-cluster", 3, Map.of("zookeeper.session.timeout.ms", "4000"));
        String topic = TestDirs.uniqueTopic("txn-cluster");
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeTopics(List.of(topic)).allTopicNames()
                    .get().get(topic).partitions().get(0).isr().size() == 3);

            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(),
                    Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic))) {
                producer.initTransactions();
                for (String value : List.of("c1", "a1", "c2")) {
                    producer.beginTransaction();
                    producer.send(new ProducerRecord<>(topic, 0, null, value));
                    if (value.startsWith("a")) {
                        producer.flush(); // written, so the abort has something to mark
                        producer.abortTransaction();
                    } else {
                        producer.commitTransaction();
                    }
                }
            }
            // three records and three markers, byte for byte on every replica, each with its own abort index
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                byte[] log = bytes(partitionFile(1, topic, "00000000000000000000.log"));
                byte[] index = bytes(partitionFile(1, topic, "00000000000000000000.txnindex"));
                assertThat(index).as(describe(topic)).hasSize(34);
                for (int id = 2; id <= 3; id++) {
                    assertThat(bytes(partitionFile(id, topic, "00000000000000000000.log"))).as(describe(topic))
                            .isEqualTo(log);
                    assertThat(bytes(partitionFile(id, topic, "00000000000000000000.txnindex")))
                            .as(describe(topic)).isEqualTo(index);
                }
            });

            int oldLeader = leaderOf(admin, topic);
            cluster.broker(oldLeader).kill();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                int l = leaderOf(admin, topic);
                return l >= 0 && l != oldLeader;
            });
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(Clients.readFromBeginning(consumer, List.of(tp), 2).stream().map(ConsumerRecord::value))
                    .containsExactly("c1", "c2");
            assertThat(consumer.poll(Duration.ofMillis(500)).isEmpty()).isTrue();
        }
    }
}
