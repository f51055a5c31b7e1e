package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRegularExpression;
import org.apache.kafka.common.errors.UnsupportedAssignorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.ToolRunner.CONSUMER_GROUP_COMMAND;
import static io.gregor.compat.ToolRunner.runTool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stock kafka-clients 4.4 consumers with {@code group.protocol=consumer} (KIP-848) against Gregor: members
 * share partitions, join and leave, a static member restarts, a regex subscription picks up a new topic,
 * commits and the stock kafka-consumer-groups tool work; bad input gets Kafka's errors.
 */
class ConsumerProtocolGroupTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(overrides());

    private static Map<String, String> overrides() {
        Map<String, String> o = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        // quicker heartbeats so regex and membership changes show within a second
        o.put("group.consumer.min.heartbeat.interval.ms", "500");
        o.put("group.consumer.heartbeat.interval.ms", "500");
        o.put("group.consumer.min.session.timeout.ms", "10000");
        o.put("group.consumer.session.timeout.ms", "20000");
        return o;
    }

    private static String bootstrap() {
        return BROKER.bootstrapServers();
    }

    private static Set<TopicPartition> union(ConsumerProtocolMember... members) {
        Set<TopicPartition> all = new HashSet<>();
        int total = 0;
        for (ConsumerProtocolMember m : members) {
            all.addAll(m.assignment());
            total += m.assignment().size();
        }
        // disjoint: no partition held by two members at once
        assertThat(total).isEqualTo(all.size());
        return all;
    }

    private static Set<TopicPartition> partitions(String topic, int count) {
        Set<TopicPartition> out = new HashSet<>();
        for (int p = 0; p < count; p++) {
            out.add(new TopicPartition(topic, p));
        }
        return out;
    }

    private static ConsumerGroupDescription describe(String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(bootstrap())) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        }
    }

    @Test
    void membersShareJoinAndLeaveAndTheToolDescribesThem() throws Exception {
        String topic = "kip848-shared";
        String group = "kip848-share-group";
        GroupTestSupport.createTopic(bootstrap(), topic, 4);
        GroupTestSupport.produce(bootstrap(), topic, 4, "m", 40);
        Properties props = consumerProps(bootstrap(), group);
        try (ConsumerProtocolMember c1 = ConsumerProtocolMember.subscribed(props, List.of(topic), "c1");
             ConsumerProtocolMember c2 = ConsumerProtocolMember.subscribed(props, List.of(topic), "c2")) {
            await().atMost(WAIT).untilAsserted(() -> {
                assertThat(c1.assignment()).hasSize(2);
                assertThat(c2.assignment()).hasSize(2);
                assertThat(union(c1, c2)).isEqualTo(partitions(topic, 4));
            });
            await().atMost(WAIT).until(() -> c1.records.size() + c2.records.size() >= 40);

            ConsumerProtocolMember c3 = ConsumerProtocolMember.subscribed(props, List.of(topic), "c3");
            try {
                await().atMost(WAIT).untilAsserted(() -> {
                    assertThat(c1.assignment()).isNotEmpty();
                    assertThat(c2.assignment()).isNotEmpty();
                    assertThat(c3.assignment()).isNotEmpty();
                    assertThat(union(c1, c2, c3)).isEqualTo(partitions(topic, 4));
                });
                ConsumerGroupDescription description = describe(group);
                assertThat(description.type()).isEqualTo(GroupType.CONSUMER);
                assertThat(description.members()).hasSize(3);
                assertThat(description.partitionAssignor()).isEqualTo("uniform");

                try (Admin admin = GroupTestSupport.admin(bootstrap())) {
                    List<String> consumerGroups = admin.listGroups(ListGroupsOptions.forConsumerGroups()
                                    .withTypes(Set.of(GroupType.CONSUMER))).all().get(30, TimeUnit.SECONDS)
                            .stream().map(GroupListing::groupId).toList();
                    assertThat(consumerGroups).contains(group);
                }

                ToolRunner.Result members = runTool(CONSUMER_GROUP_COMMAND, "--bootstrap-server", bootstrap(),
                        "--describe", "--group", group, "--members", "--verbose");
                assertThat(members.exitCode()).as(members.describe()).isZero();
                assertThat(members.stdout()).as(members.describe()).contains(group).contains(topic + ":")
                        .contains("/127.0.0.1").contains("consumer-" + group);
                ToolRunner.Result offsets = runTool(CONSUMER_GROUP_COMMAND, "--bootstrap-server", bootstrap(),
                        "--describe", "--group", group);
                assertThat(offsets.exitCode()).as(offsets.describe()).isZero();
                assertThat(offsets.stdout()).as(offsets.describe()).contains("CURRENT-OFFSET").contains(topic);
            } finally {
                c3.close();
            }
            // c3 left: its partitions move to the two that stay
            await().atMost(WAIT).untilAsserted(() -> assertThat(union(c1, c2)).isEqualTo(partitions(topic, 4)));
            c1.close();
            await().atMost(WAIT).untilAsserted(() -> assertThat(c2.assignment()).isEqualTo(partitions(topic, 4)));
            // what the members read is committed (by whoever held each partition last)
            Map<TopicPartition, Long> expected = new HashMap<>();
            partitions(topic, 4).forEach(tp -> expected.put(tp, 10L));
            await().atMost(WAIT).untilAsserted(() -> {
                try (Admin admin = GroupTestSupport.admin(bootstrap())) {
                    Map<TopicPartition, Long> committed = new HashMap<>();
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                            .forEach((tp, o) -> committed.put(tp, o.offset()));
                    assertThat(committed).isEqualTo(expected);
                }
            });
        }
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(describe(group).groupState().toString()).isEqualToIgnoringCase("Empty"));
    }

    @Test
    void aRestartedStaticMemberTakesItsPartitionsBackWithoutARebalance() throws Exception {
        String topic = "kip848-static";
        String group = "kip848-static-group";
        GroupTestSupport.createTopic(bootstrap(), topic, 4);
        Properties a = consumerProps(bootstrap(), group);
        a.put("group.instance.id", "instance-a");
        Properties b = consumerProps(bootstrap(), group);
        b.put("group.instance.id", "instance-b");
        try (ConsumerProtocolMember memberB = ConsumerProtocolMember.subscribed(b, List.of(topic), "static-b")) {
            Set<TopicPartition> aHad;
            ConsumerProtocolMember memberA = ConsumerProtocolMember.subscribed(a, List.of(topic), "static-a");
            try {
                await().atMost(WAIT).untilAsserted(() -> {
                    assertThat(memberA.assignment()).hasSize(2);
                    assertThat(memberB.assignment()).hasSize(2);
                    assertThat(union(memberA, memberB)).isEqualTo(partitions(topic, 4));
                    assertThat(describe(group).groupState().toString()).isEqualToIgnoringCase("Stable");
                });
                aHad = memberA.assignment();
            } finally {
                memberA.close(); // a static member leaves with epoch -2: its partitions wait for it
            }
            int epochBefore = describe(group).groupEpoch().orElseThrow();
            Set<TopicPartition> bHad = memberB.assignment();
            try (ConsumerProtocolMember restarted = ConsumerProtocolMember.subscribed(a, List.of(topic), "static-a2")) {
                await().atMost(WAIT).untilAsserted(() -> assertThat(restarted.assignment()).isEqualTo(aHad));
                assertThat(memberB.assignment()).isEqualTo(bHad);
                ConsumerGroupDescription after = describe(group);
                assertThat(after.groupEpoch().orElseThrow()).isEqualTo(epochBefore);
                assertThat(after.members()).hasSize(2);
            }
        }
    }

    @Test
    void aRegexSubscriptionPicksUpANewTopic() throws Exception {
        String group = "kip848-regex-group";
        GroupTestSupport.createTopic(bootstrap(), "kip848-rx-one", 2);
        Properties props = consumerProps(bootstrap(), group);
        try (ConsumerProtocolMember member = new ConsumerProtocolMember(props,
                (c, listener) -> c.subscribe(new SubscriptionPattern("kip848-rx-.*"), listener), "regex")) {
            await().atMost(WAIT).untilAsserted(() -> assertThat(member.assignment())
                    .isEqualTo(partitions("kip848-rx-one", 2)));
            try (Admin admin = GroupTestSupport.admin(bootstrap())) {
                admin.createTopics(List.of(new NewTopic("kip848-rx-two", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            Set<TopicPartition> both = partitions("kip848-rx-one", 2);
            both.addAll(partitions("kip848-rx-two", 3));
            await().atMost(WAIT).untilAsserted(() -> assertThat(member.assignment()).isEqualTo(both));
        }
    }

    @Test
    void anEmptyClassicGroupBecomesAConsumerGroupWithItsOffsetsAndBack() throws Exception {
        String topic = "kip848-convert";
        String group = "kip848-convert-group";
        GroupTestSupport.createTopic(bootstrap(), topic, 2);
        GroupTestSupport.produce(bootstrap(), topic, 2, "old", 20);
        try (KafkaConsumer<String, String> classic = GroupTestSupport.consumer(bootstrap(), group)) {
            classic.subscribe(List.of(topic));
            GroupTestSupport.pollRecords(classic, 20, WAIT);
            classic.commitSync();
        }
        assertThat(describe(group).type()).isEqualTo(GroupType.CLASSIC);

        // a consumer-protocol member takes the empty classic group over and starts from its commits
        GroupTestSupport.produce(bootstrap(), topic, 2, "new", 4);
        try (ConsumerProtocolMember member = ConsumerProtocolMember.subscribed(consumerProps(bootstrap(), group),
                List.of(topic), "converted")) {
            await().atMost(WAIT).untilAsserted(() -> {
                assertThat(member.assignment()).isEqualTo(partitions(topic, 2));
                assertThat(member.records).hasSize(4);
            });
            assertThat(member.records).allSatisfy(r -> assertThat(r.value()).startsWith("new-"));
            assertThat(describe(group).type()).isEqualTo(GroupType.CONSUMER);
            ToolRunner.Result list = runTool(CONSUMER_GROUP_COMMAND, "--bootstrap-server", bootstrap(), "--list", "--type");
            assertThat(list.exitCode()).as(list.describe()).isZero();
            assertThat(list.stdoutLines()).as(list.describe())
                    .anySatisfy(l -> assertThat(l).contains(group).containsIgnoringCase("consumer"));
        }

        // once it is empty again, a classic member turns it back into a classic group
        try (KafkaConsumer<String, String> classic = GroupTestSupport.consumer(bootstrap(), group)) {
            classic.subscribe(List.of(topic));
            await().atMost(WAIT).untilAsserted(() -> {
                classic.poll(Duration.ofMillis(100));
                assertThat(classic.assignment()).isEqualTo(partitions(topic, 2));
            });
            assertThat(describe(group).type()).isEqualTo(GroupType.CLASSIC);
            assertThat(classic.committed(partitions(topic, 2)).values())
                    .allSatisfy(o -> assertThat(o.offset()).isEqualTo(12L));
        }
    }

    @Test
    void anUnknownAssignorOrAnInvalidRegexIsRefusedToTheStockClient() throws Exception {
        String topic = "kip848-bad";
        GroupTestSupport.createTopic(bootstrap(), topic, 1);
        Properties unknownAssignor = consumerProps(bootstrap(), "kip848-bad-assignor");
        unknownAssignor.put("group.remote.assignor", "no-such-assignor");
        assertThat(failureOf(ConsumerProtocolMember.subscribed(unknownAssignor, List.of(topic), "bad-assignor")))
                .isInstanceOf(UnsupportedAssignorException.class);

        Properties props = consumerProps(bootstrap(), "kip848-bad-regex");
        assertThat(failureOf(new ConsumerProtocolMember(props,
                (c, listener) -> c.subscribe(new SubscriptionPattern("kip848-(unclosed"), listener), "bad-regex")))
                .isInstanceOf(InvalidRegularExpression.class);
    }

    private static Throwable failureOf(ConsumerProtocolMember member) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            await().atMost(WAIT).until(() -> {
                failure.set(member.failure());
                return failure.get() != null;
            });
        } finally {
            member.close();
        }
        return failure.get();
    }
}
