package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The group coordinator lives with the leadership of the group's {@code __consumer_offsets} partition: when
 * that broker dies by SIGKILL, the new leader loads the group from its replica, FindCoordinator points there,
 * and the group resumes from the offsets it committed (which were replicated before they were acknowledged).
 */
class ClusterGroupFailoverTest {
    private static final int OFFSETS_PARTITIONS = 5;
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    private KafkaConsumer<String, String> groupConsumer(String group) {
        return Clients.consumer(cluster.bootstrap(), Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000,
                ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500));
    }

    @Test
    void aGroupKeepsItsCommittedOffsetsWhenItsCoordinatorIsKilled() throws Exception {
        cluster.start("groups", 3, Map.of(
                "zookeeper.session.timeout.ms", "4000",
                "replica.lag.time.max.ms", "10000",
                "group.initial.rebalance.delay.ms", "0",
                "offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS)));
        String topic = TestDirs.uniqueTopic("grouped");
        String group = TestDirs.uniqueTopic("group");
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get();
        }
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int i = 0; i < 300; i++) {
                producer.send(new ProducerRecord<>(topic, i % 3, null, "v" + i));
            }
            producer.flush();
        }

        // the first member reads part of the topic and commits where it got to
        Map<TopicPartition, Long> committed = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, group, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 40))) {
            consumer.subscribe(List.of(topic));
            int[] seen = {0};
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                seen[0] += consumer.poll(Duration.ofMillis(200)).count();
                return seen[0] >= 100;
            });
            consumer.commitSync();
            for (TopicPartition tp : consumer.assignment()) {
                committed.put(tp, consumer.position(tp));
            }
        }
        assertThat(committed).hasSize(3);
        assertThat(committed.values().stream().mapToLong(Long::longValue).sum()).isBetween(100L, 299L);

        int coordinator;
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            coordinator = admin.describeConsumerGroups(List.of(group)).all().get().get(group).coordinator().id();
            assertThat(offsetsOf(admin, group)).isEqualTo(committed);
        }
        cluster.broker(coordinator).kill();

        // another broker leads the group's partition now, and serves the commits it replicated
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                    assertThat(admin.describeConsumerGroups(List.of(group)).all().get().get(group).coordinator().id())
                            .isNotEqualTo(coordinator));
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .untilAsserted(() -> assertThat(offsetsOf(admin, group)).isEqualTo(committed));
        }

        // a new member resumes exactly at the committed offsets and commits again through the new coordinator
        Map<TopicPartition, Long> firstOffsets = new HashMap<>();
        long remaining = 300 - committed.values().stream().mapToLong(Long::longValue).sum();
        long[] read = {0};
        try (KafkaConsumer<String, String> consumer = groupConsumer(group)) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    firstOffsets.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
                    read[0]++;
                }
                return read[0] >= remaining;
            });
            consumer.commitSync();
        }
        for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
            if (e.getValue() < 100) {
                assertThat(firstOffsets.get(e.getKey())).as("first offset read from %s", e.getKey()).isEqualTo(e.getValue());
            }
        }
        assertThat(read[0]).isEqualTo(remaining);
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            Map<TopicPartition, Long> end = new HashMap<>();
            for (int p = 0; p < 3; p++) {
                end.put(new TopicPartition(topic, p), 100L);
            }
            assertThat(offsetsOf(admin, group)).isEqualTo(end);
        }
    }

    private static Map<TopicPartition, Long> offsetsOf(Admin admin, String group) throws Exception {
        Map<TopicPartition, Long> out = new HashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e
                : admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet()) {
            out.put(e.getKey(), e.getValue().offset());
        }
        return out;
    }
}
