package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static io.gregor.compat.GroupTestSupport.consumer;
import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.GroupTestSupport.createTopic;
import static io.gregor.compat.GroupTestSupport.pollRecords;
import static io.gregor.compat.GroupTestSupport.produce;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Stock consumers in groups against one broker: rebalancing, hand-over, independent groups, commits, resets. */
class ConsumerGroupTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(GroupTestSupport.BROKER_OVERRIDES);

    private static String bootstrap() {
        return BROKER.bootstrapServers();
    }

    @Test
    void rebalanceSplitsPartitionsAndMovesThemWhenMembersLeaveOrDie() throws Exception {
        createTopic(bootstrap(), "rebalance", 3);
        Properties props = consumerProps(bootstrap(), "rebalance-group");
        try (PollingConsumer a = new PollingConsumer(props, "rebalance", "a");
             PollingConsumer b = new PollingConsumer(props, "rebalance", "b")) {
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(sizes(a, b)).containsExactlyInAnyOrder(2, 1));
            assertThat(union(a, b)).hasSize(3);

            // A third member in another process: 1/1/1.
            Process third = ToolRunner.startTool(ToolRunner.CONSOLE_CONSUMER,
                    "--bootstrap-server", bootstrap(), "--topic", "rebalance", "--group", "rebalance-group",
                    "--consumer-property", "session.timeout.ms=6000", "--consumer-property", "heartbeat.interval.ms=500");
            try {
                await().atMost(TIMEOUT).untilAsserted(() -> {
                    assertThat(sizes(a, b)).containsExactly(1, 1);
                    assertThat(union(a, b)).hasSize(2);
                });
            } finally {
                // Killed, not closed: no LeaveGroup, so only the session timeout can free its partition.
                third.destroyForcibly().waitFor();
            }
            long killedAt = System.nanoTime();
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(union(a, b)).hasSize(3));
            assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(6 + 10));

            a.close();
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(b.assignment()).hasSize(3));
        }
    }

    @Test
    void secondConsumerContinuesExactlyWhereTheFirstStopped() {
        createTopic(bootstrap(), "handover", 3);
        produce(bootstrap(), "handover", 3, "v", 30);
        Set<String> seenByA = new HashSet<>();
        Properties partOnly = consumerProps(bootstrap(), "handover-group");
        partOnly.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "4");
        try (KafkaConsumer<String, String> a = new KafkaConsumer<>(partOnly)) {
            a.subscribe(List.of("handover"));
            pollRecords(a, 12, TIMEOUT).forEach(r -> seenByA.add(r.value()));
            assertThat(seenByA).hasSize(12);
            a.commitSync();
        }
        produce(bootstrap(), "handover", 3, "w", 30);
        Properties props = consumerProps(bootstrap(), "handover-group");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        try (KafkaConsumer<String, String> b = new KafkaConsumer<>(props)) {
            b.subscribe(List.of("handover"));
            List<ConsumerRecord<String, String>> rest = pollRecords(b, 60 - seenByA.size(), TIMEOUT);
            Set<String> seenByB = rest.stream().map(ConsumerRecord::value).collect(Collectors.toSet());
            assertThat(seenByB).hasSize(rest.size()).doesNotContainAnyElementsOf(seenByA);
            Set<String> all = new HashSet<>(seenByA);
            all.addAll(seenByB);
            assertThat(all).hasSize(60);
            assertThat(b.poll(Duration.ofMillis(500))).isEmpty();
        }
    }

    @Test
    void twoGroupsReadTheSameTopicIndependently() {
        createTopic(bootstrap(), "shared", 3);
        produce(bootstrap(), "shared", 3, "s", 21);
        try (KafkaConsumer<String, String> one = consumer(bootstrap(), "group-one");
             KafkaConsumer<String, String> two = consumer(bootstrap(), "group-two")) {
            one.subscribe(List.of("shared"));
            two.subscribe(List.of("shared"));
            assertThat(pollRecords(one, 21, TIMEOUT)).hasSize(21);
            one.commitSync();
            assertThat(pollRecords(two, 21, TIMEOUT)).hasSize(21);
            Set<TopicPartition> partitions = Set.of(new TopicPartition("shared", 0), new TopicPartition("shared", 1),
                    new TopicPartition("shared", 2));
            Map<TopicPartition, OffsetAndMetadata> committedByOne = one.committed(partitions);
            Map<TopicPartition, OffsetAndMetadata> committedByTwo = two.committed(partitions);
            assertThat(committedByOne.values()).extracting(OffsetAndMetadata::offset).containsOnly(7L);
            assertThat(committedByTwo.values()).containsOnlyNulls();
        }
    }

    @Test
    void autoCommitCommitsWhatWasPolled() {
        createTopic(bootstrap(), "autocommit", 3);
        produce(bootstrap(), "autocommit", 3, "a", 30);
        Properties props = consumerProps(bootstrap(), "autocommit-group");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
        props.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "200");
        TopicPartition tp = new TopicPartition("autocommit", 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(props)) {
            c.subscribe(List.of("autocommit"));
            pollRecords(c, 30, TIMEOUT);
            await().atMost(TIMEOUT).untilAsserted(() -> {
                c.poll(Duration.ofMillis(100));
                OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
                assertThat(committed).isNotNull();
                assertThat(committed.offset()).isEqualTo(10L);
            });
        }
    }

    @Test
    void autoOffsetResetEarliestLatestAndNone() {
        createTopic(bootstrap(), "reset", 3);
        produce(bootstrap(), "reset", 3, "old", 15);
        Properties earliest = consumerProps(bootstrap(), "reset-earliest");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(earliest)) {
            c.subscribe(List.of("reset"));
            assertThat(pollRecords(c, 15, TIMEOUT)).extracting(ConsumerRecord::value).contains("old-0", "old-14");
        }
        Properties latest = consumerProps(bootstrap(), "reset-latest");
        latest.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(latest)) {
            c.subscribe(List.of("reset"));
            await().atMost(TIMEOUT).until(() -> {
                c.poll(Duration.ofMillis(100));
                return c.assignment().size() == 3;
            });
            // The position is resolved to the log end before new records arrive.
            assertThat(c.position(new TopicPartition("reset", 0))).isEqualTo(5L);
            produce(bootstrap(), "reset", 3, "new", 3);
            assertThat(pollRecords(c, 3, TIMEOUT)).extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrder("new-0", "new-1", "new-2");
        }
        Properties none = consumerProps(bootstrap(), "reset-none");
        none.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(none)) {
            c.subscribe(List.of("reset"));
            assertThatThrownBy(() -> {
                for (int i = 0; i < 600; i++) {
                    c.poll(Duration.ofMillis(100));
                }
            }).isInstanceOf(NoOffsetForPartitionException.class);
        }
    }

    @Test
    void standaloneAssignConsumerCommitsWithoutMembership() {
        createTopic(bootstrap(), "standalone", 3);
        produce(bootstrap(), "standalone", 3, "x", 12);
        TopicPartition tp = new TopicPartition("standalone", 0);
        try (KafkaConsumer<String, String> c = consumer(bootstrap(), "standalone-group")) {
            c.assign(List.of(tp));
            pollRecords(c, 4, TIMEOUT);
            c.commitSync(Map.of(tp, new OffsetAndMetadata(3L, "my metadata")));
        }
        try (KafkaConsumer<String, String> c = consumer(bootstrap(), "standalone-group")) {
            OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
            assertThat(committed.offset()).isEqualTo(3L);
            assertThat(committed.metadata()).isEqualTo("my metadata");
            c.assign(List.of(tp));
            assertThat(pollRecords(c, 1, TIMEOUT)).extracting(ConsumerRecord::value).containsExactly("x-9");
        }
    }

    @Test
    void cooperativeStickyMembersShareTheTopic() throws Exception {
        createTopic(bootstrap(), "cooperative", 3);
        Properties props = consumerProps(bootstrap(), "cooperative-group");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        try (PollingConsumer a = new PollingConsumer(props, "cooperative", "coop-a")) {
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(a.assignment()).hasSize(3));
            try (PollingConsumer b = new PollingConsumer(props, "cooperative", "coop-b")) {
                await().atMost(TIMEOUT).untilAsserted(() -> {
                    assertThat(sizes(a, b)).containsExactly(2, 1);
                    assertThat(union(a, b)).hasSize(3);
                });
            }
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(a.assignment()).hasSize(3));
        }
    }

    @Test
    void staticMemberRestartKeepsItsAssignmentWithoutRebalance() throws Exception {
        createTopic(bootstrap(), "static", 3);
        Properties a = consumerProps(bootstrap(), "static-group");
        a.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-a");
        Properties b = consumerProps(bootstrap(), "static-group");
        b.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-b");
        try (PollingConsumer first = new PollingConsumer(a, "static", "static-a");
             PollingConsumer other = new PollingConsumer(b, "static", "static-b")) {
            await().atMost(TIMEOUT).untilAsserted(() -> {
                assertThat(sizes(first, other)).containsExactly(2, 1);
                assertThat(union(first, other)).hasSize(3);
            });
            Set<TopicPartition> before = first.assignment();
            int otherRebalances = other.assignments.get();
            first.close(); // a static member's close does not leave the group
            try (PollingConsumer again = new PollingConsumer(a, "static", "static-a2")) {
                await().atMost(TIMEOUT).untilAsserted(() -> assertThat(again.assignment()).isEqualTo(before));
                assertThat(other.assignment()).isNotEmpty().doesNotContainAnyElementsOf(before);
                // The other member never took part in a rebalance: the restart was invisible to it.
                assertThat(other.assignments.get()).isEqualTo(otherRebalances);
            }
        }
    }

    private static List<Integer> sizes(PollingConsumer... consumers) {
        return java.util.Arrays.stream(consumers).map(c -> c.assignment().size()).sorted((x, y) -> y - x).toList();
    }

    private static Set<TopicPartition> union(PollingConsumer... consumers) {
        Set<TopicPartition> all = new HashSet<>();
        for (PollingConsumer c : consumers) {
            all.addAll(c.assignment());
        }
        return all;
    }

}
