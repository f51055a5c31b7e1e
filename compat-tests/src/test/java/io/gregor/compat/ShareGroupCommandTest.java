package io.gregor.compat;

import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Kafka's own kafka-share-groups tool (kafka-tools 4.4) against Gregor: list, describe, reset-offsets, delete. */
class ShareGroupCommandTest {
    private static final String SHARE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";
    private static TestBroker broker;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("share-groups-tool", GroupTestSupport.BROKER_OVERRIDES);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static ToolRunner.Result tool(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers()));
        all.addAll(List.of(args));
        return ToolRunner.runTool(SHARE_GROUP_COMMAND, all.toArray(String[]::new));
    }

    @Test
    void listDescribeResetAndDelete() throws Exception {
        String bootstrap = broker.bootstrapServers();
        String topic = TestDirs.uniqueTopic("tool-queue");
        String group = "tool-share-group";
        GroupTestSupport.createTopic(bootstrap, topic, 1);
        ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
        GroupTestSupport.produce(bootstrap, topic, 1, "t", 8);
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(bootstrap, group, true, 5))) {
            c.subscribe(List.of(topic));
            ShareConsumerTest.acceptUntil(c, Duration.ofSeconds(60), got -> got.size() >= 5);

            ToolRunner.Result list = tool("--list");
            assertThat(list.exitCode()).as(list.describe()).isZero();
            assertThat(list.stdoutLines()).as(list.describe()).contains(group);

            ToolRunner.Result members = tool("--describe", "--members", "--group", group);
            assertThat(members.exitCode()).as(members.describe()).isZero();
            assertThat(members.stdout()).as(members.describe()).contains(group).contains(topic);

            ToolRunner.Result offsets = tool("--describe", "--group", group);
            assertThat(offsets.exitCode()).as(offsets.describe()).isZero();
            String row = offsets.stdoutLines().stream().filter(l -> l.contains(topic)).findFirst()
                    .orElseThrow(() -> new AssertionError(offsets.describe()));
            // GROUP TOPIC PARTITION START-OFFSET LAG
            assertThat(row.trim().split("\\s+")).as(offsets.describe()).contains(group, topic, "0", "5", "3");

            ToolRunner.Result busy = tool("--reset-offsets", "--to-earliest", "--execute", "--topic", topic, "--group", group);
            assertThat(busy.stdout() + busy.stderr()).as(busy.describe()).containsIgnoringCase("not empty");
        }

        ToolRunner.Result reset = tool("--reset-offsets", "--to-earliest", "--execute", "--topic", topic, "--group", group);
        assertThat(reset.exitCode()).as(reset.describe()).isZero();
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(bootstrap, group, true, 20))) {
            c.subscribe(List.of(topic));
            List<Long> offsets = ShareConsumerTest.offsets(
                    ShareConsumerTest.acceptUntil(c, Duration.ofSeconds(60), got -> got.size() >= 8));
            assertThat(offsets).as("everything again from the earliest offset").startsWith(0L, 1L, 2L);
        }

        ToolRunner.Result delete = tool("--delete", "--group", group);
        assertThat(delete.exitCode()).as(delete.describe()).isZero();
        ToolRunner.Result after = tool("--list");
        assertThat(after.stdoutLines()).as(after.describe()).doesNotContain(group);
    }

    @Test
    void offsetsAreDeletedOnlyForTopicsTheGroupHasStateFor() throws Exception {
        String bootstrap = broker.bootstrapServers();
        String read = TestDirs.uniqueTopic("deleted-read");
        String neverRead = TestDirs.uniqueTopic("deleted-never");
        String group = "delete-offsets-group";
        GroupTestSupport.createTopic(bootstrap, read, 1);
        GroupTestSupport.createTopic(bootstrap, neverRead, 1);
        ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
        GroupTestSupport.produce(bootstrap, read, 1, "d", 3);
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(bootstrap, group, true, 5))) {
            c.subscribe(List.of(read));
            ShareConsumerTest.acceptUntil(c, Duration.ofSeconds(60), got -> got.size() >= 3);
        }
        try (Admin admin = GroupTestSupport.admin(bootstrap)) {
            // Kafka: a topic whose share partitions have no state for the group has no offsets to delete
            assertThatThrownBy(() -> admin.deleteShareGroupOffsets(group, Set.of(neverRead)).topicResult(neverRead)
                    .get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(UnknownTopicOrPartitionException.class)
                    .hasMessageContaining("There is no offset information to delete");
            admin.deleteShareGroupOffsets(group, Set.of(read)).topicResult(read).get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> admin.deleteShareGroupOffsets(group, Set.of(read)).topicResult(read)
                    .get(30, TimeUnit.SECONDS)).as("deleted once").hasCauseInstanceOf(UnknownTopicOrPartitionException.class);
        }
        ToolRunner.Result offsets = tool("--describe", "--group", group);
        assertThat(offsets.exitCode()).as(offsets.describe()).isZero();
        assertThat(offsets.stdout()).as(offsets.describe()).doesNotContain(read);
    }
}
