package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * DeleteRecords in a 3-broker cluster answers as Kafka's does: once the low watermark, the smallest log start
 * offset of the replicas on live brokers, reached the offset, so when the stock AdminClient's deleteRecords
 * returns, every replica has dropped the records (each broker has checkpointed the new log start). A replica on
 * a broker that is down does not hold the answer back. Followers learn the leader's log start from a fetch answer
 * and report theirs in their next fetch; parked follower fetches (replica.fetch.wait.max.ms=2000) make answering
 * before them visible.
 */
class DeleteRecordsClusterTest {
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    @Test
    void deleteRecordsAnswersOnceEveryLiveReplicaMovedItsLogStart() throws Exception {
        cluster.start("delrecs", 3, Map.of("zookeeper.session.timeout.ms", "6000", "replica.fetch.wait.max.ms", "2000"));
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            String topic = TestDirs.uniqueTopic("delrecs");
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(1, 2, 3))))).all().get();
            TopicPartition tp = new TopicPartition(topic, 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeTopics(List.of(topic)).allTopicNames()
                    .get().get(topic).partitions().get(0).isr().stream().map(Node::id).toList().size() == 3);
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(),
                    Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
                }
                producer.flush();
            }

            assertThat(deleteBefore(admin, tp, 50)).as("low watermark").isEqualTo(50);
            for (int id = 1; id <= 3; id++) {
                assertThat(logStart(id, topic)).as("broker %d's log start when the answer came", id).isEqualTo(50);
            }

            cluster.broker(3).stop();
            await("broker 3 unregistered").atMost(Duration.ofSeconds(30))
                    .until(() -> admin.describeCluster().nodes().get().size() == 2);
            assertThat(deleteBefore(admin, tp, 80)).as("low watermark without broker 3").isEqualTo(80);
            for (int id = 1; id <= 2; id++) {
                assertThat(logStart(id, topic)).as("broker %d's log start when the answer came", id).isEqualTo(80);
            }
            assertThat(logStart(3, topic)).isEqualTo(50);
        }
    }

    private static long deleteBefore(Admin admin, TopicPartition tp, long offset) throws Exception {
        return admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(offset))).lowWatermarks().get(tp).get()
                .lowWatermark();
    }

    /** The log start offset a broker checkpointed for partition 0 of {@code topic} (0 when not listed). */
    private long logStart(int broker, String topic) throws IOException {
        Path checkpoint = cluster.broker(broker).logDir().resolve("log-start-offset-checkpoint");
        if (!Files.exists(checkpoint)) {
            return 0;
        }
        return Files.readAllLines(checkpoint).stream().filter(l -> l.startsWith(topic + " 0 "))
                .mapToLong(l -> Long.parseLong(l.substring(topic.length() + 3).trim())).findFirst().orElse(0);
    }
}
