package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.ToolRunner.CONSOLE_CONSUMER;
import static io.gregor.compat.ToolRunner.CONSUMER_GROUP_COMMAND;
import static io.gregor.compat.ToolRunner.runTool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The stock kafka-consumer-groups tool (ConsumerGroupCommand of kafka-tools 4.4) against Gregor: what the seed
 * note shows users running, asserted on the tool's own output.
 */
class ConsumerGroupCommandTest {
    private static final String TOPIC = "tool-topic";

    private static final String OFFSETS_FORMATTER = "org.apache.kafka.tools.consumer.OffsetsMessageFormatter";
    private static final String GROUP_METADATA_FORMATTER =
            "org.apache.kafka.tools.consumer.GroupMetadataMessageFormatter";

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(GroupTestSupport.BROKER_OVERRIDES);
    @TempDir
    static Path dir;

    private static String bootstrap() {
        return BROKER.bootstrapServers();
    }

    @BeforeAll
    static void seedTopic() {
        GroupTestSupport.createTopic(bootstrap(), TOPIC, 3);
        GroupTestSupport.produce(bootstrap(), TOPIC, 3, "m", 30); // 10 records per partition
    }

    /** A consumer group that subscribed, then committed 4/5/10 of 10 per partition and left: Empty. */
    private static void inactiveGroup(String group) {
        try (KafkaConsumer<String, String> c = GroupTestSupport.consumer(bootstrap(), group)) {
            c.subscribe(List.of(TOPIC));
            GroupTestSupport.pollRecords(c, 30, Duration.ofSeconds(60));
            c.commitSync(Map.of(tp(0), new OffsetAndMetadata(4), tp(1), new OffsetAndMetadata(5),
                    tp(2), new OffsetAndMetadata(10)));
        }
    }

    private static TopicPartition tp(int p) {
        return new TopicPartition(TOPIC, p);
    }

    private static String[] args(String... rest) {
        String[] all = new String[rest.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = bootstrap();
        System.arraycopy(rest, 0, all, 2, rest.length);
        return all;
    }

    private static ToolRunner.Result tool(String... rest) {
        ToolRunner.Result r = runTool(CONSUMER_GROUP_COMMAND, args(rest));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        return r;
    }

    /** The row of a describe table for a partition: columns split on blanks. */
    private static List<String> row(ToolRunner.Result r, String group, int partition) {
        return r.stdoutLines().stream().map(l -> List.of(l.trim().split("\\s+")))
                .filter(cols -> cols.size() >= 6 && cols.get(0).equals(group) && cols.get(1).equals(TOPIC)
                        && cols.get(2).equals(Integer.toString(partition)))
                .findFirst().orElseThrow(() -> new AssertionError("no row for " + partition + "\n" + r.describe()));
    }

    private static Map<Integer, Long> committed(String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(bootstrap())) {
            Map<Integer, Long> out = new HashMap<>();
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .forEach((tp, o) -> out.put(tp.partition(), o == null ? null : o.offset()));
            return out;
        }
    }

    @Test
    void listDescribeAndStateOfAnInactiveGroup() {
        inactiveGroup("seed-group");
        // read-only runs against a group that no longer changes: side by side
        List<ToolRunner.Result> runs = ToolRunner.concurrently(() -> tool("--list"),
                () -> tool("--describe", "--group", "seed-group"), () -> tool("--describe", "--all-groups"),
                () -> tool("--describe", "--group", "seed-group", "--state"));
        assertThat(runs.get(0).stdoutLines()).contains("seed-group");

        ToolRunner.Result describe = runs.get(1);
        assertThat(describe.stdout() + describe.stderr()).contains("Consumer group 'seed-group' has no active members.");
        assertThat(describe.stdout()).contains("CURRENT-OFFSET").contains("LOG-END-OFFSET").contains("LAG");
        assertThat(row(describe, "seed-group", 0).subList(3, 6)).containsExactly("4", "10", "6");
        assertThat(row(describe, "seed-group", 1).subList(3, 6)).containsExactly("5", "10", "5");
        assertThat(row(describe, "seed-group", 2).subList(3, 6)).containsExactly("10", "10", "0");

        ToolRunner.Result all = runs.get(2);
        assertThat(row(all, "seed-group", 0).subList(3, 6)).containsExactly("4", "10", "6");

        ToolRunner.Result state = runs.get(3);
        assertThat(state.stdout()).contains("seed-group").contains("Empty");
    }

    @Test
    void membersStateAndOffsetsOfAnActiveGroup() throws Exception {
        Properties props = consumerProps(bootstrap(), "active-group");
        try (PollingConsumer member = new PollingConsumer(props, TOPIC, "active-member")) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(member.assignment()).hasSize(3));
            await().atMost(Duration.ofSeconds(60)).until(() -> member.records.size() == 30);

            // read-only runs against the one stable member: side by side
            List<ToolRunner.Result> runs = ToolRunner.concurrently(
                    () -> tool("--describe", "--group", "active-group", "--members", "--verbose"),
                    () -> tool("--describe", "--all-groups", "--members"),
                    () -> tool("--describe", "--group", "active-group", "--state"));
            ToolRunner.Result members = runs.get(0);
            assertThat(members.stdout()).contains("ASSIGNMENT").contains("/127.0.0.1")
                    .contains("consumer-active-group").contains(TOPIC + ":0,1,2");
            ToolRunner.Result allMembers = runs.get(1);
            assertThat(allMembers.stdout()).contains("active-group");

            ToolRunner.Result state = runs.get(2);
            assertThat(state.stdout()).contains("Stable").contains("range");

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                ToolRunner.Result describe = tool("--describe", "--group", "active-group");
                assertThat(row(describe, "active-group", 0).subList(3, 6)).containsExactly("10", "10", "0");
            });

            // Offsets of a topic the members subscribe to cannot be deleted, nor can a group with members.
            ToolRunner.Result deleteOffsets = runTool(CONSUMER_GROUP_COMMAND,
                    args("--delete-offsets", "--group", "active-group", "--topic", TOPIC));
            assertThat(deleteOffsets.stdout() + deleteOffsets.stderr()).as(deleteOffsets.describe())
                    .contains("GroupSubscribedToTopicException");
            ToolRunner.Result delete = runTool(CONSUMER_GROUP_COMMAND, args("--delete", "--group", "active-group"));
            assertThat(delete.stdout() + delete.stderr()).as(delete.describe()).contains("The group is not empty");
        }
    }

    @Test
    void resetOffsetsOfAnInactiveGroup() throws Exception {
        inactiveGroup("reset-group");
        String[] group = {"--group", "reset-group", "--topic", TOPIC};

        ToolRunner.Result dryRun = tool(concat(new String[]{"--reset-offsets", "--to-earliest", "--dry-run"}, group));
        assertThat(dryRun.stdout()).contains("NEW-OFFSET");
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 4L, 1, 5L, 2, 10L));

        tool(concat(new String[]{"--reset-offsets", "--to-earliest", "--execute"}, group));
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 0L, 1, 0L, 2, 0L));

        tool(concat(new String[]{"--reset-offsets", "--to-latest", "--execute"}, group));
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 10L, 1, 10L, 2, 10L));

        tool(concat(new String[]{"--reset-offsets", "--to-offset", "3", "--execute"}, group));
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 3L, 1, 3L, 2, 3L));

        tool(concat(new String[]{"--reset-offsets", "--shift-by", "2", "--execute"}, group));
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 5L, 1, 5L, 2, 5L));

        // Every record is older than a minute from now and newer than a day ago.
        String future = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS")
                .format(Instant.now().plusSeconds(60).atOffset(ZoneOffset.UTC)) + "Z";
        tool(concat(new String[]{"--reset-offsets", "--to-datetime", future, "--execute"}, group));
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 10L, 1, 10L, 2, 10L));

        tool(concat(new String[]{"--reset-offsets", "--by-duration", "P1D", "--execute"}, group));
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 0L, 1, 0L, 2, 0L));

        Path csv = dir.resolve("offsets.csv");
        Files.writeString(csv, TOPIC + ",0,7\n" + TOPIC + ",1,8\n" + TOPIC + ",2,9\n");
        tool("--reset-offsets", "--group", "reset-group", "--from-file", csv.toString(), "--execute");
        assertThat(committed("reset-group")).isEqualTo(Map.of(0, 7L, 1, 8L, 2, 9L));
    }

    @Test
    void deleteOffsetsAndDeleteGroup() throws Exception {
        inactiveGroup("delete-group");
        ToolRunner.Result deleteOffsets = tool("--delete-offsets", "--group", "delete-group",
                "--topic", TOPIC + ":0");
        assertThat(deleteOffsets.stdout()).contains("Request succeeded for deleting offsets from group delete-group.");
        assertThat(committed("delete-group")).isEqualTo(Map.of(1, 5L, 2, 10L));

        ToolRunner.Result delete = tool("--delete", "--group", "delete-group");
        assertThat(delete.stdout()).contains("Deletion of requested consumer groups ('delete-group') was successful.");
        assertThat(tool("--list").stdoutLines()).doesNotContain("delete-group");
        ToolRunner.Result gone = runTool(CONSUMER_GROUP_COMMAND, args("--describe", "--group", "delete-group"));
        // DescribeGroups v6 answers GROUP_ID_NOT_FOUND (KIP-1043), which the 4.x tool reports as is.
        assertThat(gone.stdout() + gone.stderr()).contains("Group delete-group not found.");
    }

    @Test
    void offsetsFormatterDecodesTheCommitsOfTheGroupsPartition() throws Exception {
        // This group id hashes to Integer.MIN_VALUE, whose abs is 0 for Kafka: partition 0.
        assertThat("polygenelubricants".hashCode()).isEqualTo(Integer.MIN_VALUE);
        inactiveGroup("polygenelubricants");
        // both readers wait out --timeout-ms after the last record, so they read side by side
        List<ToolRunner.Result> read = ToolRunner.concurrently(
                () -> runTool(CONSOLE_CONSUMER, args(
                        "--topic", "__consumer_offsets", "--partition", "0", "--offset", "earliest",
                        "--formatter", OFFSETS_FORMATTER, "--timeout-ms", "5000")),
                () -> runTool(CONSOLE_CONSUMER, args(
                        "--topic", "__consumer_offsets", "--partition", "0", "--offset", "earliest",
                        "--formatter", GROUP_METADATA_FORMATTER, "--timeout-ms", "5000")));
        ToolRunner.Result offsets = read.get(0);
        assertThat(offsets.stdout()).as(offsets.describe())
                .contains("{\"key\":{\"type\":1,\"data\":{\"group\":\"polygenelubricants\",\"topic\":\"tool-topic\",\"partition\":0}},"
                        + "\"value\":{\"version\":4,\"data\":{\"offset\":4,\"leaderEpoch\":")
                .contains("\"partition\":1}},\"value\":{\"version\":4,\"data\":{\"offset\":5,")
                .contains("\"partition\":2}},\"value\":{\"version\":4,\"data\":{\"offset\":10,");

        ToolRunner.Result metadata = read.get(1);
        assertThat(metadata.stdout()).as(metadata.describe())
                .contains("{\"key\":{\"type\":2,\"data\":{\"group\":\"polygenelubricants\"}},\"value\":{\"version\":3,"
                        + "\"data\":{\"protocolType\":\"consumer\"")
                .contains("\"protocol\":\"range\"");
        Optional<String> anyOtherGroup = offsets.stdoutLines().stream()
                .filter(l -> l.startsWith("{") && !l.contains("polygenelubricants")).findAny();
        assertThat(anyOtherGroup).as("partition 0 holds only this group here").isEmpty();
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
