package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Three in-process brokers sharing a real ZooKeeper server under a chroot: Kafka's znode tree and JSON,
 * replication with acks=all, the replication factor check, and a controller that goes away.
 */
class ClusterTest {
    private static final String CHROOT = "/gregor";
    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<java.nio.file.Path> dirs = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Broker b : brokers) {
            b.close();
        }
        zookeeper.close();
        dirs.forEach(TestDirs::deleteRecursively);
    }

    private Broker startBroker(int id) {
        return startBroker(id, Map.of());
    }

    private Broker startBroker(int id, Map<String, String> extra) {
        java.nio.file.Path dir = TestDirs.newDataDir("cluster-" + id);
        dirs.add(dir);
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("zookeeper.connect", zookeeper.connectString() + CHROOT);
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("offsets.topic.replication.factor", "3");
        props.put("replica.lag.time.max.ms", "5000");
        props.put("controlled.shutdown.max.retries", "1");
        props.put("controlled.shutdown.retry.backoff.ms", "5000");
        props.putAll(extra);
        Broker b = Broker.start(props);
        brokers.add(b);
        return b;
    }

    private String bootstrap() {
        return brokers.stream().map(Broker::bootstrapServers).collect(Collectors.joining(","));
    }

    private static String read(ZooKeeper zk, String path) throws Exception {
        return new String(zk.getData(path, false, null), StandardCharsets.UTF_8);
    }

    @Test
    void threeBrokersKeepKafkasZnodeTreeReplicateWithAcksAllAndRefuseTooManyReplicas() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String topic = TestDirs.uniqueTopic("replicated");
        try (Admin admin = Clients.admin(bootstrap())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get();
            ExecutionException tooMany = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic(TestDirs.uniqueTopic("rf4"), 1, (short) 4))).all().get());
            assertThat(tooMany.getCause()).isInstanceOf(InvalidReplicationFactorException.class);

            // every broker describes the whole cluster: 3 brokers, each partition with 3 replicas in sync
            for (Broker b : brokers) {
                try (Admin one = Clients.admin(b.bootstrapServers())) {
                    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                        TopicDescription d = one.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                        assertThat(d.partitions()).hasSize(3);
                        for (TopicPartitionInfo p : d.partitions()) {
                            assertThat(p.replicas()).extracting(Node::id).containsExactlyInAnyOrder(1, 2, 3);
                            assertThat(p.isr()).hasSize(3);
                            assertThat(p.leader().id()).isEqualTo(p.replicas().get(0).id());
                        }
                    });
                }
            }
        }

        try (ZooKeeper zk = zookeeper.client("")) {
            assertThat(zk.getChildren("/", false)).contains("gregor");
            assertThat(zk.getChildren(CHROOT, false)).contains("cluster", "controller", "controller_epoch", "brokers",
                    "config", "admin", "isr_change_notification", "latest_producer_id_block", "consumers");
        }
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            assertThat(read(zk, "/cluster/id")).matches("\\{\"version\":\"1\",\"id\":\"[A-Za-z0-9_-]{22}\"}");
            assertThat(zk.getChildren("/brokers/ids", false)).containsExactlyInAnyOrder("1", "2", "3");
            assertThat(zk.exists("/brokers/ids/1", false).getEphemeralOwner()).isNotZero();
            String reg = read(zk, "/brokers/ids/1");
            assertThat(reg).contains("\"version\":5", "\"endpoints\":[\"PLAINTEXT://127.0.0.1:" + brokers.get(0).port() + "\"]",
                    "\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"}", "\"jmx_port\":-1",
                    "\"host\":\"127.0.0.1\"", "\"port\":" + brokers.get(0).port());
            String assignment = read(zk, "/brokers/topics/" + topic);
            assertThat(assignment).contains("\"version\":3", "\"partitions\":{\"0\":[", "\"topic_id\":\"",
                    "\"adding_replicas\":{}", "\"removing_replicas\":{}");
            String state = read(zk, "/brokers/topics/" + topic + "/partitions/0/state");
            assertThat(state).matches("\\{\"controller_epoch\":\\d+,\"leader\":[123],\"version\":1,\"leader_epoch\":0,\"isr\":\\[[123],[123],[123]]}");
            assertThat(read(zk, "/config/topics/" + topic)).isEqualTo("{\"version\":1,\"config\":{\"min.insync.replicas\":\"2\"}}");
            assertThat(read(zk, "/controller")).matches("\\{\"version\":1,\"brokerid\":[123],\"timestamp\":\"\\d+\"}");
            assertThat(Integer.parseInt(read(zk, "/controller_epoch"))).isPositive();
        }

        // acks=all through whichever broker leads; the consumer reads everything from all partitions
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap(), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int i = 0; i < 300; i++) {
                producer.send(new ProducerRecord<>(topic, i % 3, null, "v" + i)).get();
            }
        }
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap())) {
            consumer.assign(Clients.partitions(topic, 3));
            consumer.seekToBeginning(Clients.partitions(topic, 3));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    seen.add(r.value());
                }
                return seen.size() >= 300;
            });
        }
        assertThat(Set.copyOf(seen)).hasSize(300);
        // every replica ends with the same log, byte for byte
        for (int p = 0; p < 3; p++) {
            String segment = topic + "-" + p + "/00000000000000000000.log";
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                byte[] first = java.nio.file.Files.readAllBytes(dirs.get(0).resolve(segment));
                assertThat(first).isNotEmpty();
                for (java.nio.file.Path dir : dirs) {
                    assertThat(java.nio.file.Files.readAllBytes(dir.resolve(segment))).isEqualTo(first);
                }
            });
        }
    }

    @Test
    void whenTheControllerGoesAnotherBrokerTakesOverWithAHigherEpochAndLeadersMove() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String topic = TestDirs.uniqueTopic("failover");
        int controller;
        int epochBefore;
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> zk.exists("/controller", false) != null);
            controller = Integer.parseInt(read(zk, "/controller").replaceAll(".*\"brokerid\":(\\d+).*", "$1"));
            epochBefore = Integer.parseInt(read(zk, "/controller_epoch"));
        }
        try (Admin admin = Clients.admin(bootstrap())) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get();
        }
        Broker gone = brokers.stream().filter(b -> b.brokerId() == controller).findFirst().orElseThrow();
        gone.close();
        brokers.remove(gone);
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(zk.exists("/controller", false)).isNotNull();
                assertThat(read(zk, "/controller")).doesNotContain("\"brokerid\":" + controller + ",");
                assertThat(Integer.parseInt(read(zk, "/controller_epoch"))).isGreaterThan(epochBefore);
            });
        }
        try (Admin admin = Clients.admin(bootstrap())) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                for (TopicPartitionInfo p : d.partitions()) {
                    assertThat(p.leader()).isNotNull();
                    assertThat(p.leader().id()).isNotEqualTo(controller);
                    assertThat(p.isr()).extracting(Node::id).doesNotContain(controller).hasSize(2);
                }
            });
        }
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap(), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int p = 0; p < 3; p++) {
                assertThat(producer.send(new ProducerRecord<>(topic, p, null, "after")).get().offset()).isZero();
            }
        }
    }

    @Test
    void aBrokerWhoseSessionExpiresRegistersAgainAndKeepsServing() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String topic = TestDirs.uniqueTopic("expiry");
        try (Admin admin = Clients.admin(bootstrap())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get();
        }
        int victim;
        long oldSession;
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            String state = read(zk, "/brokers/topics/" + topic + "/partitions/0/state");
            victim = Integer.parseInt(state.replaceAll(".*\"leader\":(\\d+).*", "$1"));
            oldSession = zk.exists("/brokers/ids/" + victim, false).getEphemeralOwner();
            zookeeper.expireSession(oldSession);
            // its registration goes with the session, then comes back from a new session
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                org.apache.zookeeper.data.Stat reg = zk.exists("/brokers/ids/" + victim, false);
                assertThat(reg).isNotNull();
                assertThat(reg.getEphemeralOwner()).isNotEqualTo(oldSession).isNotZero();
            });
            // the controller moved its leadership away meanwhile; it rejoins every ISR as a follower
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (int p = 0; p < 3; p++) {
                    assertThat(read(zk, "/brokers/topics/" + topic + "/partitions/" + p + "/state"))
                            .contains("\"isr\":[").matches(".*\"isr\":\\[\\d,\\d,\\d].*");
                }
            });
        }
        Broker expired = brokers.stream().filter(b -> b.brokerId() == victim).findFirst().orElseThrow();
        try (Admin admin = Clients.admin(expired.bootstrapServers())) {
            assertThat(admin.describeCluster().nodes().get()).hasSize(3);
        }
        try (KafkaProducer<String, String> producer = Clients.producer(expired.bootstrapServers(),
                Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int p = 0; p < 3; p++) {
                producer.send(new ProducerRecord<>(topic, p, null, "after-expiry")).get();
            }
        }
        // the expired broker's replicas have the records too: its fetchers run on the new session
        for (int p = 0; p < 3; p++) {
            String segment = topic + "-" + p + "/00000000000000000000.log";
            java.nio.file.Path dir = dirs.get(brokers.indexOf(expired));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                    new String(java.nio.file.Files.readAllBytes(dir.resolve(segment)), StandardCharsets.ISO_8859_1))
                    .contains("after-expiry"));
        }
    }

    /** Expires the ZooKeeper session of the leader of partition 0 and waits until it is back in every ISR, not leading it. */
    private int moveLeadershipOfPartitionZeroAway(String topic) throws Exception {
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            int preferred = expireLeaderOfPartitionZero(zk, topic)[0];
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                String s = read(zk, "/brokers/topics/" + topic + "/partitions/0/state");
                assertThat(s).matches(".*\"isr\":\\[\\d,\\d,\\d].*").doesNotContain("\"leader\":" + preferred + ",");
            });
            return preferred;
        }
    }

    /** Expires the ZooKeeper session of partition 0's leader; returns that broker's id and the leader epoch it led in. */
    private int[] expireLeaderOfPartitionZero(ZooKeeper zk, String topic) throws Exception {
        String state = read(zk, "/brokers/topics/" + topic + "/partitions/0/state");
        int leader = Integer.parseInt(state.replaceAll(".*\"leader\":(\\d+).*", "$1"));
        int epoch = Integer.parseInt(state.replaceAll(".*\"leader_epoch\":(\\d+).*", "$1"));
        zookeeper.expireSession(zk.exists("/brokers/ids/" + leader, false).getEphemeralOwner());
        return new int[] {leader, epoch};
    }

    private int leaderOfPartitionZero(String topic) throws Exception {
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            return Integer.parseInt(read(zk, "/brokers/topics/" + topic + "/partitions/0/state")
                    .replaceAll(".*\"leader\":(\\d+).*", "$1"));
        }
    }

    @Test
    void theLeaderElectionToolMovesLeadershipBackToThePreferredReplica() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String topic = TestDirs.uniqueTopic("preferred");
        try (Admin admin = Clients.admin(bootstrap())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get();
        }
        int preferred = moveLeadershipOfPartitionZeroAway(topic);

        ToolRunner.Result run = ToolRunner.runTool("org.apache.kafka.tools.LeaderElectionCommand",
                "--bootstrap-server", bootstrap(), "--election-type", "PREFERRED", "--all-topic-partitions");
        assertThat(run.exitCode()).as(run.describe()).isZero();
        assertThat(run.stdout()).as(run.describe()).contains("Successfully completed leader election (PREFERRED) for partitions " + topic + "-0");
        assertThat(leaderOfPartitionZero(topic)).isEqualTo(preferred);

        // nothing left to do: every partition is led by its preferred replica, and unclean finds leaders everywhere
        try (Admin admin = Clients.admin(bootstrap())) {
            var results = admin.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED,
                    Set.of(new org.apache.kafka.common.TopicPartition(topic, 1))).partitions().get();
            assertThat(results.get(new org.apache.kafka.common.TopicPartition(topic, 1)))
                    .hasValueSatisfying(e -> assertThat(e).isInstanceOf(org.apache.kafka.common.errors.ElectionNotNeededException.class));
            var unclean = admin.electLeaders(org.apache.kafka.common.ElectionType.UNCLEAN,
                    Set.of(new org.apache.kafka.common.TopicPartition(topic, 2))).partitions().get();
            assertThat(unclean.get(new org.apache.kafka.common.TopicPartition(topic, 2)))
                    .hasValueSatisfying(e -> assertThat(e).isInstanceOf(org.apache.kafka.common.errors.ElectionNotNeededException.class));
        }
    }

    @Test
    void autoLeaderRebalanceReturnsLeadershipToThePreferredReplica() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startBroker(id, Map.of("leader.imbalance.check.interval.seconds", "1"));
        }
        String topic = TestDirs.uniqueTopic("rebalance");
        try (Admin admin = Clients.admin(bootstrap())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
        }
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            int[] led = expireLeaderOfPartitionZero(zk, topic);
            int preferred = led[0];
            // Leadership moves away (epoch + 1) and, once the broker is back in the ISR, returns (epoch + 2): the
            // broker prefers 1 partition and leads none, 100 % > leader.imbalance.per.broker.percentage. With a
            // 1 s check the return can come before a poll sees the partition led elsewhere, so the epoch tells.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                String s = read(zk, "/brokers/topics/" + topic + "/partitions/0/state");
                assertThat(s).contains("\"leader\":" + preferred + ",").matches(".*\"isr\":\\[\\d,\\d,\\d].*");
                assertThat(Integer.parseInt(s.replaceAll(".*\"leader_epoch\":(\\d+).*", "$1"))).isGreaterThanOrEqualTo(led[1] + 2);
            });
        }
    }
}
