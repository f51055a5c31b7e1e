package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.GroupTestSupport.createTopic;
import static io.gregor.compat.GroupTestSupport.produce;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka's online migration of a non-empty group between the classic and the consumer (KIP-848) protocols with
 * stock kafka-clients consumers: a consumer-protocol member joining a group of classic members turns it into a
 * consumer group that keeps them (upgrade), they share the partitions and keep committing, and when it leaves
 * the group is a classic group of the other two again (downgrade); the mixed group survives a restart; the
 * policy {@code disabled} refuses the upgrade with Kafka's error.
 */
class MixedGroupMigrationTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String TOPIC = "mixed-topic";
    private static final int PARTITIONS = 6;

    private static Map<String, String> overrides(String policy) {
        Map<String, String> o = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        o.put("group.consumer.heartbeat.interval.ms", "500");
        o.put("group.consumer.min.heartbeat.interval.ms", "500");
        if (policy != null) {
            o.put("group.consumer.migration.policy", policy);
        }
        return o;
    }

    @Test
    void aConsumerProtocolMemberUpgradesAClassicGroupSharesItsPartitionsAndItsLeavingDowngradesIt() throws Exception {
        try (TestBroker broker = TestBroker.start("mixed-upgrade", overrides(null))) {
            String bootstrap = broker.bootstrapServers();
            String group = "mixed-upgrade-group";
            createTopic(bootstrap, TOPIC, PARTITIONS);
            try (Member a = new Member(bootstrap, group, "classic", "a");
                 Member b = new Member(bootstrap, group, "classic", "b")) {
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a, b));
                produce(bootstrap, TOPIC, PARTITIONS, "one", 60);
                await().atMost(TIMEOUT).until(() -> committed(bootstrap, group) == 60);
                assertThat(describe(bootstrap, group).type()).isEqualTo(GroupType.CLASSIC);

                try (Member c = new Member(bootstrap, group, "consumer", "c")) {
                    await().atMost(TIMEOUT).untilAsserted(() -> {
                        ConsumerGroupDescription d = describe(bootstrap, group);
                        assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
                        assertThat(d.members()).hasSize(3);
                        // KIP-1099: the classic members show as not upgraded, the consumer-protocol one as upgraded
                        assertThat(d.members()).extracting(m -> m.upgraded().orElseThrow())
                                .containsExactlyInAnyOrder(false, false, true);
                    });
                    await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a, b, c));
                    produce(bootstrap, TOPIC, PARTITIONS, "two", 60);
                    await().atMost(TIMEOUT).until(() -> committed(bootstrap, group) == 120);
                    assertThat(c.records).isNotEmpty();
                }

                // the consumer-protocol member left: a classic group of the two again, which rebalanced
                await().atMost(TIMEOUT).untilAsserted(() -> {
                    ConsumerGroupDescription d = describe(bootstrap, group);
                    assertThat(d.type()).isEqualTo(GroupType.CLASSIC);
                    assertThat(d.members()).hasSize(2);
                });
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a, b));
                produce(bootstrap, TOPIC, PARTITIONS, "three", 60);
                await().atMost(TIMEOUT).until(() -> committed(bootstrap, group) == 180);
                a.assertRunning();
                b.assertRunning();
            }
        }
    }

    @Test
    void aMixedGroupSurvivesABrokerRestart() throws Exception {
        try (TestBroker broker = TestBroker.start("mixed-restart", overrides(null))) {
            String bootstrap = broker.bootstrapServers();
            String group = "mixed-restart-group";
            createTopic(bootstrap, TOPIC, PARTITIONS);
            try (Member a = new Member(bootstrap, group, "classic", "a");
                 Member b = new Member(bootstrap, group, "classic", "b")) {
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a, b));
                try (Member c = new Member(bootstrap, group, "consumer", "c")) {
                    await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a, b, c));
                    Set<String> before = memberIds(describe(bootstrap, group));
                    assertThat(before).hasSize(3);

                    broker.restart();

                    await().atMost(TIMEOUT).untilAsserted(() -> {
                        ConsumerGroupDescription d = describe(bootstrap, group);
                        assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
                        assertThat(memberIds(d)).isEqualTo(before);
                        assertThat(d.members()).extracting(m -> m.upgraded().orElseThrow())
                                .containsExactlyInAnyOrder(false, false, true);
                    });
                    produce(bootstrap, TOPIC, PARTITIONS, "after", 60);
                    await().atMost(TIMEOUT).until(() -> committed(bootstrap, group) == 60);
                    await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a, b, c));
                }
            }
        }
    }

    @Test
    void aClassicMemberThatDiesWithoutLeavingIsFencedAfterItsOwnSessionTimeout() throws Exception {
        try (TestBroker broker = TestBroker.start("mixed-session", overrides(null))) {
            String bootstrap = broker.bootstrapServers();
            String group = "mixed-session-group";
            createTopic(bootstrap, TOPIC, PARTITIONS);
            try (Member a = new Member(bootstrap, group, "classic", "a")) {
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a));
                // a classic member in another process, killed below: no LeaveGroup, only its 6 s session can end it
                Process doomed = ToolRunner.startTool(ToolRunner.CONSOLE_CONSUMER, "--bootstrap-server", bootstrap,
                        "--topic", TOPIC, "--group", group, "--consumer-property", "group.protocol=classic",
                        "--consumer-property", "session.timeout.ms=6000", "--consumer-property", "heartbeat.interval.ms=500");
                try (Member c = new Member(bootstrap, group, "consumer", "c")) {
                    try {
                        await().atMost(TIMEOUT).untilAsserted(() -> {
                            ConsumerGroupDescription d = describe(bootstrap, group);
                            assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
                            assertThat(d.members()).hasSize(3);
                            assertThat(a.assignment().size() + c.assignment().size()).isLessThan(PARTITIONS);
                        });
                    } finally {
                        doomed.destroyForcibly().waitFor();
                    }
                    await().atMost(TIMEOUT).untilAsserted(() -> {
                        assertThat(describe(bootstrap, group).members()).hasSize(2);
                        assertSharedOnce(a, c);
                    });
                }
            }
        }
    }

    @Test
    void theDisabledPolicyRefusesTheUpgradeAsKafkaDoes() throws Exception {
        try (TestBroker broker = TestBroker.start("mixed-disabled", overrides("disabled"))) {
            String bootstrap = broker.bootstrapServers();
            String group = "mixed-disabled-group";
            createTopic(bootstrap, TOPIC, PARTITIONS);
            try (Member a = new Member(bootstrap, group, "classic", "a")) {
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(a));
                try (Member c = new Member(bootstrap, group, "consumer", "c")) {
                    // Kafka answers the joining heartbeat GROUP_ID_NOT_FOUND ("... is not a consumer group")
                    await().atMost(TIMEOUT).until(() -> c.failure.get() != null);
                    assertThat(causes(c.failure.get())).anyMatch(t -> t instanceof GroupIdNotFoundException);
                }
                ConsumerGroupDescription d = describe(bootstrap, group);
                assertThat(d.type()).isEqualTo(GroupType.CLASSIC);
                assertThat(d.members()).hasSize(1);
                a.assertRunning();
            }
        }
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> out = new ArrayList<>();
        for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
            out.add(c);
        }
        return out;
    }

    /** Every member has partitions, and together they own each partition of the topic exactly once. */
    private static void assertSharedOnce(Member... members) {
        Set<TopicPartition> all = new HashSet<>();
        int count = 0;
        for (Member m : members) {
            Set<TopicPartition> mine = m.assignment();
            assertThat(mine).as(m.name + " owns partitions").isNotEmpty();
            all.addAll(mine);
            count += mine.size();
        }
        assertThat(all).hasSize(PARTITIONS);
        assertThat(count).as("no partition owned twice").isEqualTo(PARTITIONS);
    }

    private static ConsumerGroupDescription describe(String bootstrap, String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(bootstrap)) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                // the group changed type between the admin client's ConsumerGroupDescribe and its DescribeGroups
                // fallback (as with Kafka): not an answer yet, ask again
                throw new AssertionError("the group changed type while described", e);
            }
            throw e;
        }
    }

    private static Set<String> memberIds(ConsumerGroupDescription d) {
        Set<String> ids = new HashSet<>();
        for (MemberDescription m : d.members()) {
            ids.add(m.consumerId());
        }
        return ids;
    }

    /** The sum of the group's committed offsets over the topic's partitions. */
    private static long committed(String bootstrap, String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(bootstrap)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            long sum = 0;
            for (OffsetAndMetadata o : offsets.values()) {
                if (o != null) {
                    sum += o.offset();
                }
            }
            return sum;
        }
    }

    /** A stock KafkaConsumer of the topic with the given group.protocol, polling and committing on its own thread. */
    private static final class Member implements AutoCloseable {
        final String name;
        final List<ConsumerRecord<String, String>> records = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicReference<Set<TopicPartition>> assignment = new AtomicReference<>(Set.of());
        private final Thread thread;
        private volatile boolean running = true;

        Member(String bootstrap, String group, String protocol, String name) {
            this.name = name;
            Properties props = consumerProps(bootstrap, group);
            props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
            props.put(ConsumerConfig.CLIENT_ID_CONFIG, group + "-" + name);
            if (protocol.equals("consumer")) {
                // the consumer protocol takes its timeouts from the broker; the classic client settings are refused
                props.remove(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG);
                props.remove(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG);
            }
            thread = new Thread(() -> {
                try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
                    consumer.subscribe(List.of(TOPIC));
                    boolean uncommitted = false;
                    while (running) {
                        var polled = consumer.poll(Duration.ofMillis(100));
                        polled.forEach(records::add);
                        assignment.set(Set.copyOf(consumer.assignment()));
                        uncommitted |= !polled.isEmpty();
                        if (uncommitted) {
                            try {
                                consumer.commitSync();
                                uncommitted = false;
                            } catch (RetriableException | CommitFailedException | RebalanceInProgressException e) {
                                // a rebalance moved the member on meanwhile: commit again next time round
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        Set<TopicPartition> assignment() {
            assertRunning();
            return assignment.get();
        }

        void assertRunning() {
            if (failure.get() != null) {
                throw new AssertionError("consumer " + name + " failed", failure.get());
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(30_000);
        }
    }
}
