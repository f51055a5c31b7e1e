package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.Topic;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code __share_group_state} holds Kafka's records as Kafka's share coordinator writes them: a ShareUpdate per
 * acknowledgement written, a ShareSnapshot every {@code share.coordinator.snapshot.update.records.per.snapshot}
 * updates. Many acknowledgements across a restart: the restarted broker rebuilds the state from snapshots and
 * updates (nothing acknowledged comes back), and Kafka's own ShareGroupStateMessageFormatter reads every record.
 */
class ShareGroupStateLogTest {
    private static final String FORMATTER = "org.apache.kafka.tools.consumer.group.share.ShareGroupStateMessageFormatter";
    private static final int RECORDS = 40;
    private static final int UPDATES_PER_SNAPSHOT = 4;

    /**
     * Polls and accepts until {@code done} and the accepted offsets hold all of {@code wanted}, releasing the
     * first delivery of {@code releaseOnce} (a state batch of its own); returns every offset accepted.
     */
    private static Set<Long> acceptUntil(KafkaShareConsumer<String, String> c, Set<Long> done, Set<Long> wanted,
                                         long releaseOnce) {
        Set<Long> accepted = new TreeSet<>();
        boolean[] released = {false};
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                if (r.offset() == releaseOnce && !released[0]) {
                    c.acknowledge(r, AcknowledgeType.RELEASE);
                    released[0] = true;
                    continue;
                }
                c.acknowledge(r, AcknowledgeType.ACCEPT);
                assertThat(accepted.add(r.offset())).as("offset %d delivered again after its acceptance", r.offset())
                        .isTrue();
                assertThat(done).as("offset %d accepted before the restart, delivered again", r.offset())
                        .doesNotContain(r.offset());
            }
            c.commitSync();
            Set<Long> all = new TreeSet<>(done);
            all.addAll(accepted);
            return all.containsAll(wanted);
        });
        return accepted;
    }

    private static Set<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void acknowledgementsAreShareUpdatesBetweenSnapshotsAndSurviveARestart() throws Exception {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        overrides.put("share.coordinator.state.topic.num.partitions", "1");
        overrides.put("share.coordinator.snapshot.update.records.per.snapshot", Integer.toString(UPDATES_PER_SNAPSHOT));
        try (TestBroker broker = TestBroker.start("share-state-log", overrides)) {
            String bootstrap = broker.bootstrapServers();
            String topic = TestDirs.uniqueTopic("state-log");
            String group = topic + "-group";
            GroupTestSupport.createTopic(bootstrap, topic, 1);
            ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
            GroupTestSupport.produce(bootstrap, topic, 1, "r", RECORDS);

            // a few records per poll, each poll's acknowledgements one state write
            Set<Long> before;
            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                    ShareConsumerTest.shareProps(bootstrap, group, true, 2))) {
                c.subscribe(List.of(topic));
                before = acceptUntil(c, Set.of(), range(0, RECORDS / 2), 3);
            }

            broker.restart();

            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                    ShareConsumerTest.shareProps(bootstrap, group, true, 2))) {
                c.subscribe(List.of(topic));
                // the state rebuilt from snapshots and updates: no acknowledged record comes back
                acceptUntil(c, before, range(0, RECORDS), RECORDS - 5);
            }

            TopicPartition state = new TopicPartition(Topic.SHARE_GROUP_STATE_TOPIC_NAME, 0);
            long end;
            try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                end = admin.listOffsets(Map.of(state, OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS)
                        .get(state).offset();
            }
            ToolRunner.Result records = ToolRunner.runTool(ToolRunner.CONSOLE_CONSUMER, "--bootstrap-server", bootstrap,
                    "--topic", state.topic(), "--partition", "0", "--offset", "earliest",
                    "--max-messages", Long.toString(end), "--timeout-ms", "30000", "--formatter", FORMATTER);
            assertThat(records.exitCode()).as(records.describe()).isZero();
            // the formatter ends no record with a line break: one JSON object per record, back to back
            List<String> lines = java.util.Arrays.stream(records.stdout().trim().split("(?<=})(?=\\{\"key\")"))
                    .filter(l -> l.contains("\"groupId\":\"" + group + "\"")).toList();
            List<String> updates = lines.stream().filter(l -> l.startsWith("{\"key\":{\"type\":1,")).toList();
            List<String> snapshots = lines.stream().filter(l -> l.startsWith("{\"key\":{\"type\":0,")).toList();
            assertThat(lines).as(records.describe()).hasSize((int) end);
            // two records a poll: about one update a poll (a poll's acknowledgements may also land in two writes)
            assertThat(updates.size()).as(records.describe()).isGreaterThanOrEqualTo(RECORDS / 4);
            // a snapshot at the first write and after every UPDATES_PER_SNAPSHOT updates, none more
            assertThat(snapshots.size()).as(records.describe())
                    .isBetween(2, 1 + updates.size() / UPDATES_PER_SNAPSHOT);
            // the released record: available again after one delivery, in the update that released it
            assertThat(String.join("\n", updates)).as(records.describe())
                    .contains("{\"firstOffset\":3,\"lastOffset\":3,\"deliveryState\":0,\"deliveryCount\":1}");
            assertThat(snapshots.get(snapshots.size() - 1)).as(records.describe()).contains("\"stateBatches\":");

            // the last snapshot plus the updates after it say where the group is: all 40 done
            ToolRunner.Result describe = ToolRunner.runTool("org.apache.kafka.tools.consumer.group.ShareGroupCommand",
                    "--bootstrap-server", bootstrap, "--describe", "--group", group, "--offsets");
            assertThat(describe.exitCode()).as(describe.describe()).isZero();
            String row = describe.stdoutLines().stream().filter(l -> l.contains(topic)).findFirst()
                    .orElseThrow(() -> new AssertionError(describe.describe()));
            assertThat(row.trim().split("\\s+")).as(describe.describe()).contains(Integer.toString(RECORDS));
        }
    }

    /**
     * The topic is Kafka's: cleanup.policy=delete, and the share coordinator deletes what later snapshots made
     * redundant ({@code share.coordinator.state.topic.prune.interval.ms}); what is left starts with a snapshot,
     * and a restarted broker rebuilds the state from it.
     */
    @Test
    void prunedStateStartsWithASnapshotAndSurvivesARestart() throws Exception {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        overrides.put("share.coordinator.state.topic.num.partitions", "1");
        overrides.put("share.coordinator.snapshot.update.records.per.snapshot", "2");
        overrides.put("share.coordinator.state.topic.prune.interval.ms", "500");
        try (TestBroker broker = TestBroker.start("share-state-prune", overrides)) {
            String bootstrap = broker.bootstrapServers();
            String topic = TestDirs.uniqueTopic("state-prune");
            String group = topic + "-group";
            GroupTestSupport.createTopic(bootstrap, topic, 1);
            ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
            GroupTestSupport.produce(bootstrap, topic, 1, "r", 12);
            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                    ShareConsumerTest.shareProps(bootstrap, group, true, 2))) {
                c.subscribe(List.of(topic));
                acceptUntil(c, Set.of(), range(0, 12), 5);
            }
            TopicPartition state = new TopicPartition(Topic.SHARE_GROUP_STATE_TOPIC_NAME, 0);
            long[] bounds = new long[2];
            try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, state.topic());
                assertThat(admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
                        .get("cleanup.policy").value()).isEqualTo("delete");
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    bounds[0] = admin.listOffsets(Map.of(state, OffsetSpec.earliest())).all().get(30, TimeUnit.SECONDS)
                            .get(state).offset();
                    bounds[1] = admin.listOffsets(Map.of(state, OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS)
                            .get(state).offset();
                    return bounds[0] > 0;
                });
            }
            ToolRunner.Result records = ToolRunner.runTool(ToolRunner.CONSOLE_CONSUMER, "--bootstrap-server", bootstrap,
                    "--topic", state.topic(), "--partition", "0", "--offset", "earliest",
                    "--max-messages", "1", "--timeout-ms", "30000", "--formatter", FORMATTER);
            assertThat(records.exitCode()).as(records.describe()).isZero();
            assertThat(records.stdout()).as(records.describe() + " from offset " + bounds[0] + " of " + bounds[1])
                    .startsWith("{\"key\":{\"type\":0,");

            broker.restart();

            ToolRunner.Result describe = ToolRunner.runTool("org.apache.kafka.tools.consumer.group.ShareGroupCommand",
                    "--bootstrap-server", bootstrap, "--describe", "--group", group, "--offsets");
            assertThat(describe.exitCode()).as(describe.describe()).isZero();
            String row = describe.stdoutLines().stream().filter(l -> l.contains(topic)).findFirst()
                    .orElseThrow(() -> new AssertionError(describe.describe()));
            List<String> columns = List.of(row.trim().split("\\s+"));
            assertThat(columns.subList(columns.size() - 2, columns.size())).as(describe.describe())
                    .containsExactly("12", "0");
        }
    }
}
