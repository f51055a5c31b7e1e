package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Partition reassignment in a three-broker ZooKeeper cluster (broker JVMs), driven by the stock
 * {@code kafka-reassign-partitions} tool and Admin: a partition moves from brokers 1,2 to 2,3 (its leader 1
 * leaves) under an acks=all producer without losing an acknowledged record; a throttled move stays in progress
 * until {@code --cancel} reverts it; bad targets get Kafka's errors; racks show and steer replica placement.
 */
class ReassignPartitionsTest {
    private static final String TOOL = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";

    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    private static Path reassignmentFile(String topic, List<Integer> replicas) throws Exception {
        Path file = TestDirs.newDataDir("reassign").resolve("reassignment.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"version\":1,\"partitions\":[{\"topic\":\"" + topic + "\",\"partition\":0,\"replicas\":"
                + replicas + "}]}");
        return file;
    }

    private ToolRunner.Result tool(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = cluster.bootstrap();
        System.arraycopy(args, 0, all, 2, args.length);
        return ToolRunner.runTool(TOOL, all);
    }

    private static TopicPartitionInfo describe(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        return d.partitions().get(0);
    }

    private static List<Integer> ids(Collection<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    private void createOnBrokers(Admin admin, String topic, List<Integer> replicas) throws Exception {
        await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
        admin.createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)))).all().get();
        await().atMost(Duration.ofSeconds(30)).until(() -> ids(describe(admin, topic).isr()).size() == replicas.size());
        assertThat(ids(describe(admin, topic).replicas())).containsExactlyElementsOf(replicas);
    }

    private boolean hostsCopy(int broker, String topic) {
        return Files.exists(cluster.broker(broker).logDir().resolve(topic + "-0"));
    }

    @Test
    void toolMovesAPartitionAwayFromItsLeaderUnderAckedLoadWithNothingLost() throws Exception {
        cluster.start("reassign", 3, Map.of("zookeeper.session.timeout.ms", "6000"));
        String topic = TestDirs.uniqueTopic("moving");
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            createOnBrokers(admin, topic, List.of(1, 2));
            assertThat(describe(admin, topic).leader().id()).isEqualTo(1);
            Path json = reassignmentFile(topic, List.of(2, 3));
            try (AckedLoad load = new AckedLoad(cluster.bootstrap(), topic, 1)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> load.ackedIn(1) >= 500);

                ToolRunner.Result execute = tool("--reassignment-json-file", json.toString(), "--execute");
                assertThat(execute.exitCode()).as(execute.describe()).isZero();
                assertThat(execute.stdout()).as(execute.describe())
                        .contains("Successfully started partition reassignment for " + topic + "-0");

                await("--verify reports the move complete").atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                            ToolRunner.Result verify = tool("--reassignment-json-file", json.toString(), "--verify");
                            assertThat(verify.exitCode()).as(verify.describe()).isZero();
                            assertThat(verify.stdout()).as(verify.describe())
                                    .contains("Reassignment of partition " + topic + "-0 is completed.");
                        });
                TopicPartitionInfo moved = describe(admin, topic);
                assertThat(ids(moved.replicas())).containsExactly(2, 3);
                assertThat(moved.leader().id()).as("leadership left the removed broker 1").isIn(2, 3);
                assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
                await("broker 1 deletes its copy").atMost(Duration.ofSeconds(30)).until(() -> !hostsCopy(1, topic));
                assertThat(hostsCopy(3, topic)).isTrue();

                load.enterPhase(2);
                await("writes go on after the move").atMost(Duration.ofSeconds(30)).until(() -> load.ackedIn(2) >= 200);
                load.finish();
                assertThat(load.failed()).as("records that failed").isEmpty();
                assertThat(load.acked()).hasSize((int) load.sent());
                try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap())) {
                    Map<String, Long> read = new HashMap<>();
                    for (ConsumerRecord<String, String> r : Clients.readAll(consumer, List.of(new TopicPartition(topic, 0)))) {
                        read.put(r.value(), r.offset());
                    }
                    load.acked().forEach((value, ack) -> assertThat(read.get(value))
                            .as("acknowledged record %s at offset %d", value, ack.offset()).isEqualTo(ack.offset()));
                }
            }
        }
    }

    @Test
    void throttledMoveStaysInProgressUntilCancelRevertsIt() throws Exception {
        // small replica fetches, so a 1 kB/s throttle keeps broker 3 from catching up on a few MB for minutes
        cluster.start("reassign-cancel", 3, Map.of("zookeeper.session.timeout.ms", "6000",
                "replica.fetch.max.bytes", "10240"));
        String topic = TestDirs.uniqueTopic("throttled");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            createOnBrokers(admin, topic, List.of(1, 2));
            String value = "x".repeat(1000);
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(),
                    Map.of(ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 20))) {
                for (int i = 0; i < 3000; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, null, value));
                }
                producer.flush();
            }
            Path json = reassignmentFile(topic, List.of(1, 3));
            ToolRunner.Result execute = tool("--reassignment-json-file", json.toString(), "--execute",
                    "--throttle", "1000");
            assertThat(execute.exitCode()).as(execute.describe()).isZero();
            assertThat(execute.stdout()).as(execute.describe()).contains("The inter-broker throttle limit was set to 1000 B/s");
            Config topicConfig = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, topic)))
                    .all().get().values().iterator().next();
            assertThat(topicConfig.get("follower.replication.throttled.replicas").value()).isEqualTo("0:3");
            assertThat(brokerConfig(admin, 3).get("follower.replication.throttled.rate").value()).isEqualTo("1000");

            Map<TopicPartition, PartitionReassignment> ongoing = admin.listPartitionReassignments().reassignments().get();
            assertThat(ongoing).containsKey(tp);
            assertThat(ongoing.get(tp).replicas()).containsExactly(1, 3, 2);
            assertThat(ongoing.get(tp).addingReplicas()).containsExactly(3);
            assertThat(ongoing.get(tp).removingReplicas()).containsExactly(2);
            await("broker 3 starts copying").atMost(Duration.ofSeconds(30)).until(() -> hostsCopy(3, topic));

            ToolRunner.Result verify = tool("--reassignment-json-file", json.toString(), "--verify", "--preserve-throttles");
            assertThat(verify.stdout()).as(verify.describe())
                    .contains("Reassignment of partition " + topic + "-0 is still in progress.");
            assertThat(ids(describe(admin, topic).isr())).as("throttled broker 3 has not caught up").doesNotContain(3);

            ToolRunner.Result cancel = tool("--reassignment-json-file", json.toString(), "--cancel");
            assertThat(cancel.exitCode()).as(cancel.describe()).isZero();
            assertThat(cancel.stdout()).as(cancel.describe())
                    .contains("Successfully cancelled partition reassignment for: " + topic + "-0");
            assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
            TopicPartitionInfo reverted = describe(admin, topic);
            assertThat(ids(reverted.replicas())).containsExactly(1, 2);
            assertThat(ids(reverted.isr())).containsExactlyInAnyOrder(1, 2);
            await("broker 3 deletes its partial copy").atMost(Duration.ofSeconds(30)).until(() -> !hostsCopy(3, topic));
            Config cleared = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, topic)))
                    .all().get().values().iterator().next();
            assertThat(cleared.get("follower.replication.throttled.replicas").value()).isEmpty();
            assertThat(brokerConfig(admin, 3).get("follower.replication.throttled.rate")).isNull();

            try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap())) {
                List<ConsumerRecord<String, String>> all = Clients.readAll(consumer, List.of(tp));
                assertThat(all).hasSize(3000);
            }

            // a cancel with nothing in progress is the tool's no-op, and Kafka's error through Admin
            ToolRunner.Result again = tool("--reassignment-json-file", json.toString(), "--cancel");
            assertThat(again.stdout()).as(again.describe()).contains("None of the specified partition reassignments are active.");
        }
    }

    @Test
    void badTargetsGetKafkasErrorsAndRacksSteerPlacement() throws Exception {
        Map<Integer, String> racks = Map.of(1, "rack-a", 2, "rack-a", 3, "rack-b");
        cluster.start("reassign-errors", 3, Map.of("zookeeper.session.timeout.ms", "6000"),
                id -> Map.of("broker.rack", racks.get(id)));
        String topic = TestDirs.uniqueTopic("errors");
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            createOnBrokers(admin, topic, List.of(1, 2));
            Map<Integer, String> described = new HashMap<>();
            admin.describeCluster().nodes().get().forEach(n -> described.put(n.id(), n.rack()));
            assertThat(described).isEqualTo(racks);

            assertReassignmentFails(admin, new TopicPartition(topic, 0), List.of(1, 4), InvalidReplicaAssignmentException.class);
            assertReassignmentFails(admin, new TopicPartition(topic, 0), List.of(2, 2), InvalidReplicaAssignmentException.class);
            assertReassignmentFails(admin, new TopicPartition(topic, 7), List.of(1, 2), UnknownTopicOrPartitionException.class);
            assertReassignmentFails(admin, new TopicPartition("no-such-topic", 0), List.of(1, 2),
                    UnknownTopicOrPartitionException.class);
            assertThatThrownBy(() -> admin.alterPartitionReassignments(Map.of(new TopicPartition(topic, 0),
                    Optional.empty())).all().get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(NoReassignmentInProgressException.class);
            assertThat(ids(describe(admin, topic).replicas())).containsExactly(1, 2);

            // the pre-KIP-455 request znode still works: the controller runs it and deletes the znode when done
            try (org.apache.zookeeper.ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
                zk.create("/admin/reassign_partitions", ("{\"version\":1,\"partitions\":[{\"topic\":\"" + topic
                                + "\",\"partition\":0,\"replicas\":[3,1]}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, org.apache.zookeeper.CreateMode.PERSISTENT);
                await("the znode reassignment completes").atMost(Duration.ofSeconds(30))
                        .until(() -> zk.exists("/admin/reassign_partitions", false) == null);
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(ids(describe(admin, topic).replicas())).containsExactly(3, 1));

            // rack-aware placement: with broker 3 alone in rack-b every partition of RF 2 has a replica there
            String spread = TestDirs.uniqueTopic("racks");
            admin.createTopics(List.of(new NewTopic(spread, 12, (short) 2))).all().get();
            List<TopicPartitionInfo> partitions = admin.describeTopics(List.of(spread)).allTopicNames().get()
                    .get(spread).partitions();
            for (TopicPartitionInfo p : partitions) {
                Set<String> racksOfReplicas = p.replicas().stream().map(Node::rack).collect(Collectors.toSet());
                assertThat(racksOfReplicas).as("partition %d on %s", p.partition(), ids(p.replicas()))
                        .containsExactlyInAnyOrder("rack-a", "rack-b");
            }

            // --generate proposes a rack-aware plan for the topic
            Path topicsJson = TestDirs.newDataDir("reassign-generate").resolve("topics.json");
            Files.createDirectories(topicsJson.getParent());
            Files.writeString(topicsJson, "{\"version\":1,\"topics\":[{\"topic\":\"" + spread + "\"}]}");
            ToolRunner.Result generate = tool("--topics-to-move-json-file", topicsJson.toString(),
                    "--broker-list", "1,2,3", "--generate");
            assertThat(generate.exitCode()).as(generate.describe()).isZero();
            assertThat(generate.stdout()).as(generate.describe()).contains("Proposed partition reassignment configuration");
        }
    }

    @Test
    void aSingleBrokerAnswersReassignmentsAsTheOnlyReplicaThereIs() throws Exception {
        try (TestBroker broker = TestBroker.start("reassign-single", Map.of("broker.rack", "rack-1"));
             Admin admin = Clients.admin(broker.bootstrapServers())) {
            String topic = TestDirs.uniqueTopic("single");
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            Node self = admin.describeCluster().nodes().get().iterator().next();
            assertThat(self.rack()).isEqualTo("rack-1");
            TopicPartition tp = new TopicPartition(topic, 0);
            admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(self.id())))))
                    .all().get();
            assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
            assertReassignmentFails(admin, tp, List.of(self.id() + 1), InvalidReplicaAssignmentException.class);
            assertReassignmentFails(admin, new TopicPartition(topic, 1), List.of(self.id()),
                    UnknownTopicOrPartitionException.class);
            assertThatThrownBy(() -> admin.alterPartitionReassignments(Map.of(tp, Optional.empty())).all().get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(NoReassignmentInProgressException.class);
        }
    }

    private static Config brokerConfig(Admin admin, int broker) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(broker));
        return admin.describeConfigs(List.of(resource)).all().get().get(resource);
    }

    private static void assertReassignmentFails(Admin admin, TopicPartition tp, List<Integer> target,
                                                Class<? extends Throwable> expected) {
        assertThatThrownBy(() -> admin.alterPartitionReassignments(Map.of(tp,
                Optional.of(new NewPartitionReassignment(target)))).all().get())
                .as("reassigning %s to %s", tp, target)
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(expected);
    }
}
