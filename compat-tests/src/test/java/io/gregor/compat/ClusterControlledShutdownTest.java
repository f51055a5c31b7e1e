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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka's ZooKeeper-mode controlled shutdown, seen from outside: three broker JVMs on a real ZooKeeper, RF 3,
 * min.insync.replicas=2, an idempotent acks=all producer. SIGTERM to the leader of a partition makes the
 * controller move every leadership it had with a bumped leader epoch and take it out of every ISR, written to
 * the partition state znodes (as zookeeper-shell shows them) before the broker is gone; no acknowledged record
 * is lost or duplicated; restarted, the broker catches up and is back in every ISR.
 */
class ClusterControlledShutdownTest {
    private static final Pattern LEADER = Pattern.compile("\"leader\":(-?\\d+)");
    private static final Pattern EPOCH = Pattern.compile("\"leader_epoch\":(\\d+)");
    private static final Pattern ISR = Pattern.compile("\"isr\":\\[([0-9,]*)]");

    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    record State(int leader, int leaderEpoch, List<Integer> isr) {
        static State parse(String json) {
            Matcher l = LEADER.matcher(json);
            Matcher e = EPOCH.matcher(json);
            Matcher i = ISR.matcher(json);
            if (!l.find() || !e.find() || !i.find()) {
                throw new AssertionError("not a partition state: " + json);
            }
            List<Integer> isr = new ArrayList<>();
            for (String s : i.group(1).split(",")) {
                if (!s.isEmpty()) {
                    isr.add(Integer.parseInt(s));
                }
            }
            return new State(Integer.parseInt(l.group(1)), Integer.parseInt(e.group(1)), isr);
        }
    }

    private Map<Integer, State> states(String topic, int partitions) throws Exception {
        Map<Integer, State> out = new HashMap<>();
        try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
            for (int p = 0; p < partitions; p++) {
                byte[] data = zk.getData("/brokers/topics/" + topic + "/partitions/" + p + "/state", false, null);
                out.put(p, State.parse(new String(data, StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    @Test
    void sigtermMovesLeadershipsWithBumpedEpochsAndLeavesTheIsrs() throws Exception {
        cluster.start("ctlshutdown", 3, Map.of(
                "zookeeper.session.timeout.ms", "6000",
                "replica.lag.time.max.ms", "4000"));
        String topic = TestDirs.uniqueTopic("ctlshutdown");
        int partitions = 3;
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get();
        }
        Map<String, ConsumerRecord<String, String>> consumed = new HashMap<>();
        List<String> duplicates = new ArrayList<>();
        try (AckedLoad load = new AckedLoad(cluster.bootstrap(), topic, partitions)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> load.ackedIn(1) >= 500);
            Map<Integer, State> before = states(topic, partitions);
            assertThat(before.values()).allSatisfy(s -> assertThat(s.isr()).hasSize(3));
            int victim = before.get(0).leader();

            cluster.broker(victim).stop();
            load.enterPhase(2);

            Map<Integer, State> after = states(topic, partitions);
            for (int p = 0; p < partitions; p++) {
                State was = before.get(p);
                State now = after.get(p);
                assertThat(now.isr()).as("ISR of partition %d after the shutdown", p).doesNotContain(victim)
                        .hasSize(2);
                if (was.leader() == victim) {
                    assertThat(now.leader()).as("leader of partition %d", p).isNotEqualTo(victim).isNotNegative();
                    assertThat(now.leaderEpoch()).as("leader epoch of partition %d", p)
                            .isGreaterThan(was.leaderEpoch());
                } else {
                    assertThat(now.leader()).as("leader of partition %d", p).isEqualTo(was.leader());
                }
            }
            // the producer keeps being acknowledged by the two survivors (min.insync.replicas=2)
            await().atMost(Duration.ofSeconds(60)).until(() -> load.ackedIn(2) >= 1000);

            cluster.broker(victim).start();
            load.enterPhase(3);
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
                    assertThat(states(topic, partitions).values())
                            .allSatisfy(s -> assertThat(s.isr()).contains(victim).hasSize(3)));
            // a preferred election gives partition 0 back to the restarted broker, at a new epoch: it then
            // serves every acknowledged record of it from its own, caught-up log
            State beforeElection = states(topic, partitions).get(0);
            try (Admin admin = Clients.admin(cluster.bootstrap())) {
                admin.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED,
                        java.util.Set.of(new org.apache.kafka.common.TopicPartition(topic, 0))).all().get();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    for (TopicPartitionInfo p : d.partitions()) {
                        assertThat(p.isr()).hasSize(3);
                    }
                    assertThat(d.partitions().get(0).leader().id()).isEqualTo(victim);
                });
            }
            State elected = states(topic, partitions).get(0);
            assertThat(elected.leader()).isEqualTo(victim);
            assertThat(elected.leaderEpoch()).isGreaterThan(beforeElection.leaderEpoch());
            await().atMost(Duration.ofSeconds(60)).until(() -> load.ackedIn(3) >= 500);
            load.finish();
            assertThat(load.failed()).isEmpty();

            Map<String, AckedLoad.Ack> acked = load.acked();
            try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap())) {
                consumer.assign(Clients.partitions(topic, partitions));
                consumer.seekToBeginning(Clients.partitions(topic, partitions));
                Map<org.apache.kafka.common.TopicPartition, Long> ends =
                        consumer.endOffsets(Clients.partitions(topic, partitions));
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ZERO).until(() -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        if (consumed.putIfAbsent(r.value(), r) != null) {
                            duplicates.add(r.value());
                        }
                    }
                    return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
                });
            }
            List<String> missing = acked.entrySet().stream().filter(e -> !consumed.containsKey(e.getKey()))
                    .map(e -> e.getKey() + "@" + e.getValue()).sorted().limit(20).toList();
            assertThat(missing).as("acknowledged but not read (first 20)").isEmpty();
            assertThat(duplicates).isEmpty();
            for (Map.Entry<String, AckedLoad.Ack> e : acked.entrySet()) {
                ConsumerRecord<String, String> r = consumed.get(e.getKey());
                assertThat(r.partition()).isEqualTo(e.getValue().partition());
                assertThat(r.offset()).as("offset of %s", e.getKey()).isEqualTo(e.getValue().offset());
            }
        }
    }

    /**
     * The other election that moves leadership to a chosen broker: with its only in-sync replica dead, an unclean
     * ElectLeaders makes the out-of-sync one leader, at a new leader epoch written to the state znode.
     */
    @Test
    void anUncleanElectionIsWrittenWithANewLeaderEpoch() throws Exception {
        // no load here: short timeouts only shorten the waits for the killed follower to leave the ISR and for
        // both brokers' sessions to expire
        cluster.start("unclean", 2, Map.of(
                "zookeeper.session.timeout.ms", "4000",
                "replica.lag.time.max.ms", "2000"));
        String topic = TestDirs.uniqueTopic("unclean");
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 2);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 2))).all().get();
        }
        State initial = states(topic, 1).get(0);
        int leader = initial.leader();
        int follower = leader == 1 ? 2 : 1;
        cluster.broker(follower).kill();
        await().atMost(Duration.ofSeconds(60)).until(() -> states(topic, 1).get(0).isr().equals(List.of(leader)));
        cluster.broker(leader).kill();
        awaitUnregistered(follower);
        awaitUnregistered(leader);
        cluster.broker(follower).start();
        await().atMost(Duration.ofSeconds(60)).until(() -> states(topic, 1).get(0).leader() == -1);
        State leaderless = states(topic, 1).get(0);
        assertThat(leaderless.isr()).as("the ISR keeps its last member").containsExactly(leader);

        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            admin.electLeaders(org.apache.kafka.common.ElectionType.UNCLEAN, java.util.Set.of(tp)).all().get();
        }
        State elected = states(topic, 1).get(0);
        assertThat(elected.leader()).isEqualTo(follower);
        assertThat(elected.isr()).containsExactly(follower);
        assertThat(elected.leaderEpoch()).isGreaterThan(leaderless.leaderEpoch());
    }

    private void awaitUnregistered(int broker) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (ZooKeeper zk = cluster.zookeeper().client(cluster.chroot())) {
                return zk.exists("/brokers/ids/" + broker, false) == null;
            }
        });
    }
}
