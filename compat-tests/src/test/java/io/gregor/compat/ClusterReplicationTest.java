package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Three broker JVMs on a real ZooKeeper, one partition replicated three times. Followers are cut off
 * with SIGSTOP (a frozen JVM fetches nothing but keeps its ZooKeeper session for a while) or killed with
 * SIGKILL, so the ISR and the seed's three HW/LEO cases happen on purpose rather than by chance. The
 * partition state is read from ZooKeeper, which a frozen broker cannot delay.
 */
class ClusterReplicationTest {
    private static final Pattern STATE = Pattern.compile("\"leader\":(-?\\d+).*\"leader_epoch\":(\\d+).*\"isr\":\\[([\\d,]*)]");
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    private String createTopic(String prefix, Map<String, String> configs) throws Exception {
        String topic = TestDirs.uniqueTopic(prefix);
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3).configs(configs))).all().get();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> state(topic).isr().size() == 3);
        return topic;
    }

    record State(int leader, int leaderEpoch, List<Integer> isr) {
    }

    private State state(String topic) throws Exception {
        try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
            String json = new String(zk.getData("/brokers/topics/" + topic + "/partitions/0/state", false, null),
                    StandardCharsets.UTF_8);
            Matcher m = STATE.matcher(json);
            assertThat(m.find()).as(json).isTrue();
            List<Integer> isr = m.group(3).isEmpty() ? List.of()
                    : Arrays.stream(m.group(3).split(",")).map(Integer::parseInt).toList();
            return new State(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), isr);
        }
    }

    private List<String> registeredBrokers() throws Exception {
        try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
            return zk.getChildren("/brokers/ids", false);
        }
    }

    private Path segment(int broker, String topic) {
        return cluster.broker(broker).logDir().resolve(topic + "-0").resolve("00000000000000000000.log");
    }

    /** Every replica holds the same log, byte for byte, containing {@code marker}. */
    private void awaitIdenticalReplicas(String topic, String marker) {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            byte[] first = Files.readAllBytes(segment(1, topic));
            assertThat(new String(first, StandardCharsets.ISO_8859_1)).contains(marker);
            for (int id = 2; id <= 3; id++) {
                assertThat(Files.readAllBytes(segment(id, topic))).as("segment of broker %d", id).isEqualTo(first);
            }
        });
    }

    private static KafkaProducer<String, String> producer(String bootstrap, String acks) {
        // no retries: each send shows exactly what the leader answered
        return Clients.producer(bootstrap, Map.of(ProducerConfig.ACKS_CONFIG, acks,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.RETRIES_CONFIG, 0));
    }

    private List<String> consumeAll(String topic) {
        List<String> seen = new ArrayList<>();
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    seen.add(r.value());
                }
                return consumer.position(tp) >= end;
            });
        }
        return seen;
    }

    @Test
    void aCutOffFollowerLeavesTheIsrAndRejoinsWhenItReturns() throws Exception {
        // the sessions outlive the pauses, so only the leader's lag check can drop a frozen follower
        cluster.start("cutoff", 3, Map.of("zookeeper.session.timeout.ms", "20000", "replica.lag.time.max.ms", "2000"));
        String topic = createTopic("cutoff", Map.of("min.insync.replicas", "2"));
        State initial = state(topic);
        int leader = initial.leader();
        List<Integer> followers = initial.isr().stream().filter(id -> id != leader).toList();
        String leaderOnly = cluster.broker(leader).bootstrapServers();

        try (KafkaProducer<String, String> producer = producer(leaderOnly, "all")) {
            producer.send(new ProducerRecord<>(topic, 0, null, "all-three")).get();

            cluster.broker(followers.get(0)).pause();
            await().atMost(Duration.ofSeconds(15)).until(() -> state(topic).isr().size() == 2);
            assertThat(state(topic).isr()).containsExactlyInAnyOrder(leader, followers.get(1));
            assertThat(state(topic).leaderEpoch()).isEqualTo(initial.leaderEpoch());
            // min.insync.replicas=2 is still met by the leader and the other follower
            producer.send(new ProducerRecord<>(topic, 0, null, "two-of-three")).get();

            cluster.broker(followers.get(1)).pause();
            await().atMost(Duration.ofSeconds(15)).until(() -> state(topic).isr().equals(List.of(leader)));
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topic, 0, null, "leader-alone")).get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(NotEnoughReplicasException.class);

            cluster.broker(followers.get(0)).resume();
            cluster.broker(followers.get(1)).resume();
            await().atMost(Duration.ofSeconds(30)).until(() -> state(topic).isr().size() == 3);
            assertThat(state(topic).leader()).isEqualTo(leader);
            producer.send(new ProducerRecord<>(topic, 0, null, "back-to-three")).get();
        }
        awaitIdenticalReplicas(topic, "back-to-three");
        assertThat(consumeAll(topic)).containsExactly("all-three", "two-of-three", "back-to-three");
    }

    /**
     * The seed's three cases in one partition: normal replication; the leader dies after its followers
     * copied a record (it survives: the new leader has it); the leader dies after writing a record no
     * follower copied (it is lost: acks=1 only, and the old leader truncates it when it returns, by the
     * leader-epoch rules). After each, the three replicas hold identical segment files.
     */
    @Test
    void theSeedsThreeHighWatermarkCasesEndWithIdenticalReplicas() throws Exception {
        cluster.start("hwcases", 3, Map.of("zookeeper.session.timeout.ms", "4000", "replica.lag.time.max.ms", "10000"));
        String topic = createTopic("hwcases", Map.of());
        List<String> expected = new ArrayList<>();

        // case 3, normal replication: acks=all writes reach every replica
        try (KafkaProducer<String, String> producer = producer(cluster.bootstrap(), "all")) {
            for (int i = 0; i < 20; i++) {
                String v = "normal-" + i;
                producer.send(new ProducerRecord<>(topic, 0, null, v)).get();
                expected.add(v);
            }
        }
        awaitIdenticalReplicas(topic, "normal-19");

        // case 2: the followers copied the record, then the leader dies before anything else happens
        State before = state(topic);
        int oldLeader = before.leader();
        try (KafkaProducer<String, String> producer = producer(cluster.bootstrap(), "1")) {
            producer.send(new ProducerRecord<>(topic, 0, null, "copied")).get();
        }
        expected.add("copied");
        awaitIdenticalReplicas(topic, "copied");
        cluster.broker(oldLeader).kill();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            State s = state(topic);
            return s.leader() != oldLeader && s.leader() >= 0;
        });
        State afterCase2 = state(topic);
        assertThat(afterCase2.leaderEpoch()).isGreaterThan(before.leaderEpoch());
        cluster.broker(oldLeader).start();
        await().atMost(Duration.ofSeconds(60)).until(() -> state(topic).isr().size() == 3);
        awaitIdenticalReplicas(topic, "copied");

        // case 1: the leader writes a record no follower copies (they are dead), then dies itself
        int leader = state(topic).leader();
        List<Integer> followers = cluster.brokers().keySet().stream().filter(id -> id != leader).toList();
        try (KafkaProducer<String, String> producer = producer(cluster.broker(leader).bootstrapServers(), "1")) {
            producer.partitionsFor(topic); // connected to the leader before its followers go
            for (int id : followers) {
                cluster.broker(id).kill();
            }
            producer.send(new ProducerRecord<>(topic, 0, null, "never-copied")).get();
        }
        cluster.broker(leader).kill();
        assertThat(new String(Files.readAllBytes(segment(leader, topic)), StandardCharsets.ISO_8859_1))
                .contains("never-copied");
        for (int id : followers) {
            assertThat(new String(Files.readAllBytes(segment(id, topic)), StandardCharsets.ISO_8859_1))
                    .doesNotContain("never-copied");
        }
        // nobody is left to shrink the ISR; once every session is gone the followers come back first
        await().atMost(Duration.ofSeconds(60)).until(() -> registeredBrokers().isEmpty());
        for (int id : followers) {
            cluster.broker(id).start();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> followers.contains(state(topic).leader()));
        cluster.broker(leader).start();
        await().atMost(Duration.ofSeconds(60)).until(() -> state(topic).isr().size() == 3);
        try (KafkaProducer<String, String> producer = producer(cluster.bootstrap(), "all")) {
            producer.send(new ProducerRecord<>(topic, 0, null, "after-failover")).get();
        }
        expected.add("after-failover");
        awaitIdenticalReplicas(topic, "after-failover");
        assertThat(new String(Files.readAllBytes(segment(leader, topic)), StandardCharsets.ISO_8859_1))
                .doesNotContain("never-copied");
        // by the leader-epoch rule (the new leader says where the old epoch ended), not by falling back to the HW
        assertThat(Files.readString(cluster.broker(leader).outputFile())).contains(topic + "-0: diverging from leader")
                .doesNotContain(topic + "-0: fetch offset");
        assertThat(consumeAll(topic)).containsExactlyElementsOf(expected);
    }
}
