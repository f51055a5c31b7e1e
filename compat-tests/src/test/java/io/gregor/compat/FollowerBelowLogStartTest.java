package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A replica whose log ends below its leader's log start offset (DeleteRecords, with old 1 MiB segments gone,
 * moved it while the replica was down or before the replica existed) restarts its log at the leader's log
 * start, as Kafka's follower does, instead of being told "out of range" forever: it joins the ISR and, once
 * leader, serves the same records at the same offsets from that log start on. A follower in the ISR takes a
 * later log start from its leader. Two broker JVMs on ZooKeeper.
 */
class FollowerBelowLogStartTest {
    private static final int SEGMENT_BYTES = 1024 * 1024; // Kafka 4's smallest segment.bytes
    private static final String PADDING = "x".repeat(40 * 1024); // ~25 records a segment
    private static final long DELETE_BEFORE = 80;

    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    private static TopicPartitionInfo describe(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        return d.partitions().get(0);
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    private String createTopic(Admin admin, String prefix, List<Integer> replicas) throws Exception {
        String topic = TestDirs.uniqueTopic(prefix);
        await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 2);
        admin.createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)).configs(Map.of(
                "segment.bytes", Integer.toString(SEGMENT_BYTES), "min.insync.replicas", "1")))).all().get();
        await().atMost(Duration.ofSeconds(30)).until(() -> ids(describe(admin, topic).isr()).size() == replicas.size());
        return topic;
    }

    private static String value(String label, int i) {
        return label + "-" + i + ":" + PADDING;
    }

    /** acks=all, one at a time: record i of the whole test lands at offset i. */
    private static void produce(String bootstrap, String topic, String label, int from, int to, List<String> written)
            throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of(
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024))) {
            for (int i = from; i < to; i++) {
                long offset = producer.send(new ProducerRecord<>(topic, 0, null, value(label, i))).get().offset();
                assertThat(offset).isEqualTo(written.size());
                written.add(value(label, i));
            }
        }
    }

    private void deleteRecordsBefore(Admin admin, String topic, long offset) throws Exception {
        TopicPartition tp = new TopicPartition(topic, 0);
        long low = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(offset)))
                .lowWatermarks().get(tp).get().lowWatermark();
        assertThat(low).isEqualTo(offset);
    }

    /** What a consumer reads from the earliest offset: the first offset, and every value from there. */
    private void assertServedFromLogStart(String topic, List<String> written, long logStart) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(),
                Map.of("max.partition.fetch.bytes", 2 * 1024 * 1024))) {
            assertThat(consumer.beginningOffsets(List.of(tp)).get(tp)).isEqualTo(logStart);
            assertThat(consumer.endOffsets(List.of(tp)).get(tp)).isEqualTo(written.size());
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<Long> offsets = new ArrayList<>();
            List<String> values = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    offsets.add(r.offset());
                    values.add(r.value());
                }
                return consumer.position(tp) >= written.size();
            });
            assertThat(offsets.get(0)).isEqualTo(logStart);
            assertThat(offsets).hasSize(written.size() - (int) logStart);
            assertThat(values).containsExactlyElementsOf(written.subList((int) logStart, written.size()));
        }
    }

    private void assertRestartedAtLogStart(int broker, String topic) throws Exception {
        assertThat(Files.readString(cluster.broker(broker).outputFile()))
                .contains(topic + "-0: log end offset")
                .contains("below the log start offset " + DELETE_BEFORE + " of leader 1; restarting the log there");
        assertThat(Files.exists(cluster.broker(broker).logDir().resolve(topic + "-0")
                .resolve(String.format("%020d.log", DELETE_BEFORE)))).isTrue();
    }

    @Test
    void aFollowerThatWasDownWhileTheLeaderDeletedItsRecordsRejoinsTheIsrAndServesTheSameRecords() throws Exception {
        cluster.start("belowstart", 2, Map.of("zookeeper.session.timeout.ms", "6000", "replica.lag.time.max.ms", "3000"));
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            String topic = createTopic(admin, "belowstart", List.of(1, 2));
            assertThat(describe(admin, topic).leader().id()).isEqualTo(1);
            List<String> written = new ArrayList<>();
            produce(cluster.bootstrap(), topic, "both", 0, 40, written);

            cluster.broker(2).stop();
            await().atMost(Duration.ofSeconds(30)).until(() -> ids(describe(admin, topic).isr()).equals(List.of(1)));
            produce(cluster.bootstrap(), topic, "leader-only", 40, 100, written);
            deleteRecordsBefore(admin, topic, DELETE_BEFORE); // broker 2's log (0..39) now ends below the leader's log start

            cluster.broker(2).start();
            await("broker 2 back in the ISR").atMost(Duration.ofSeconds(60))
                    .until(() -> ids(describe(admin, topic).isr()).containsAll(List.of(1, 2)));
            produce(cluster.bootstrap(), topic, "after", 100, 105, written);
            assertRestartedAtLogStart(2, topic);

            // a DeleteRecords while broker 2 follows in the ISR reaches it with the leader's next fetch answer
            deleteRecordsBefore(admin, topic, 90);
            await("broker 2 checkpoints log start offset 90").atMost(Duration.ofSeconds(30)).until(() ->
                    Files.readString(cluster.broker(2).logDir().resolve("log-start-offset-checkpoint"))
                            .contains(topic + " 0 90\n"));

            cluster.broker(1).stop(); // leadership moves to broker 2, the only one left
            await("broker 2 leads").atMost(Duration.ofSeconds(60)).until(() -> {
                Node leader = describe(admin, topic).leader();
                return leader != null && leader.id() == 2;
            });
            assertServedFromLogStart(topic, written, 90);
        }
    }

    @Test
    void aReplicaAddedByReassignmentAfterDeleteRecordsJoinsTheIsrAndTakesOver() throws Exception {
        cluster.start("newreplica", 2, Map.of("zookeeper.session.timeout.ms", "6000"));
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            String topic = createTopic(admin, "newreplica", List.of(1));
            List<String> written = new ArrayList<>();
            produce(cluster.bootstrap(), topic, "old", 0, 100, written);
            deleteRecordsBefore(admin, topic, DELETE_BEFORE);
            TopicPartition tp = new TopicPartition(topic, 0);

            admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(1, 2)))))
                    .all().get();
            await("broker 2 joins the ISR and the reassignment completes").atMost(Duration.ofSeconds(60))
                    .until(() -> admin.listPartitionReassignments().reassignments().get().isEmpty()
                            && ids(describe(admin, topic).isr()).containsAll(List.of(1, 2)));
            produce(cluster.bootstrap(), topic, "after", 100, 105, written);
            assertRestartedAtLogStart(2, topic);

            // broker 2 alone: it leads, and it must hold exactly what broker 1 held from the log start on
            admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(2)))))
                    .all().get();
            await("broker 2 leads alone").atMost(Duration.ofSeconds(60)).until(() -> {
                TopicPartitionInfo info = describe(admin, topic);
                return ids(info.replicas()).equals(List.of(2)) && info.leader() != null && info.leader().id() == 2;
            });
            cluster.broker(1).stop(); // nothing can come from broker 1 now
            assertServedFromLogStart(topic, written, DELETE_BEFORE);
        }
    }
}
