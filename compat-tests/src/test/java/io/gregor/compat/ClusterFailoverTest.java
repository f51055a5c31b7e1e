package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three broker JVMs on a real ZooKeeper, RF 3 with min.insync.replicas=2: an idempotent acks=all producer
 * and a consumer keep going while the leader of a partition (and possibly the controller) dies by SIGKILL,
 * and every acknowledged record is read exactly once, at the offset it was acknowledged with.
 */
class ClusterFailoverTest {
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    @Test
    void killingTheLeaderLosesNoAcknowledgedRecord() throws Exception {
        cluster.start("failover", 3, Map.of(
                "zookeeper.session.timeout.ms", "6000",
                "replica.lag.time.max.ms", "4000"));
        String topic = TestDirs.uniqueTopic("failover");
        int partitions = 3;
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get();
        }
        Map<String, ConsumerRecord<String, String>> consumed = new ConcurrentHashMap<>();
        List<String> duplicates = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean consuming = new AtomicBoolean(true);
        Thread consumerThread = new Thread(() -> {
            try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap())) {
                consumer.assign(Clients.partitions(topic, partitions));
                consumer.seekToBeginning(Clients.partitions(topic, partitions));
                while (consuming.get()) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        if (consumed.putIfAbsent(r.value(), r) != null) {
                            duplicates.add(r.value());
                        }
                    }
                }
            }
        }, "failover-consumer");
        consumerThread.start();

        try (AckedLoad load = new AckedLoad(cluster.bootstrap(), topic, partitions)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> load.ackedIn(1) >= 500);
            int victim;
            try (Admin admin = Clients.admin(cluster.bootstrap())) {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                victim = d.partitions().get(0).leader().id();
            }
            int epochBefore;
            try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
                epochBefore = Integer.parseInt(new String(zk.getData("/controller_epoch", false, null), StandardCharsets.UTF_8));
            }
            cluster.broker(victim).kill();
            load.enterPhase(2);
            // the survivors take over once ZooKeeper drops the dead broker's session
            try (Admin admin = Clients.admin(cluster.bootstrap())) {
                await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
                    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    for (TopicPartitionInfo p : d.partitions()) {
                        assertThat(p.leader()).isNotNull();
                        assertThat(p.leader().id()).isNotEqualTo(victim);
                        assertThat(p.isr()).hasSize(2);
                    }
                });
            }
            // the controller wrote the election: a new leader epoch in the state znode; the dead broker is out of every ISR
            try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
                for (int p = 0; p < partitions; p++) {
                    ClusterControlledShutdownTest.State s = ClusterControlledShutdownTest.State.parse(new String(
                            zk.getData("/brokers/topics/" + topic + "/partitions/" + p + "/state", false, null),
                            StandardCharsets.UTF_8));
                    assertThat(s.leader()).isNotEqualTo(victim);
                    if (p == 0) {
                        // it lost its leader (the others may only have had the ISR shrunk by their leader)
                        assertThat(s.leaderEpoch()).as("leader epoch of partition 0").isPositive();
                    }
                    assertThat(s.isr()).doesNotContain(victim);
                }
            }
            load.enterPhase(3);
            // every partition, the one that lost its leader too, takes acks=all writes again
            await().atMost(Duration.ofSeconds(90)).until(() -> load.ackedIn(3) >= 1000);
            try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
                String controller = new String(zk.getData("/controller", false, null), StandardCharsets.UTF_8);
                int epochAfter = Integer.parseInt(new String(zk.getData("/controller_epoch", false, null), StandardCharsets.UTF_8));
                if (!controller.contains("\"brokerid\":" + victim + ",")) {
                    assertThat(epochAfter).isGreaterThanOrEqualTo(epochBefore);
                }
                assertThat(controller).doesNotContain("\"brokerid\":" + victim + ",");
            }
            load.finish();
            assertThat(load.failed()).isEmpty();
            Map<String, AckedLoad.Ack> acked = load.acked();
            await().atMost(Duration.ofSeconds(60)).until(() -> consumed.keySet().containsAll(acked.keySet()));
            consuming.set(false);
            consumerThread.join(10_000);
            assertThat(duplicates).isEmpty();
            for (Map.Entry<String, AckedLoad.Ack> e : acked.entrySet()) {
                ConsumerRecord<String, String> r = consumed.get(e.getKey());
                assertThat(r.partition()).isEqualTo(e.getValue().partition());
                assertThat(r.offset()).as("offset of %s", e.getKey()).isEqualTo(e.getValue().offset());
            }
        } finally {
            consuming.set(false);
        }
    }
}
