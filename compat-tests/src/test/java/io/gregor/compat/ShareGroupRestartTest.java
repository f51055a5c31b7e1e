package io.gregor.compat;

import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A share group is persisted in {@code __consumer_offsets} as Kafka writes it (ShareGroupMetadata,
 * ShareGroupStatePartitionMetadata): after a restart of its broker, with no member left, Kafka's
 * kafka-share-groups tool still lists it and describes its start offset, and a member simply rejoins.
 */
class ShareGroupRestartTest {
    private static final String SHARE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";

    @Test
    void aShareGroupOutlivesARestartOfItsBroker() throws Exception {
        try (TestBroker broker = TestBroker.start("share-group-restart", GroupTestSupport.BROKER_OVERRIDES)) {
            String bootstrap = broker.bootstrapServers();
            String topic = TestDirs.uniqueTopic("restart-queue");
            String group = topic + "-group";
            GroupTestSupport.createTopic(bootstrap, topic, 1);
            ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
            GroupTestSupport.produce(bootstrap, topic, 1, "r", 10);
            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                    ShareConsumerTest.shareProps(bootstrap, group, true, 6))) {
                c.subscribe(List.of(topic));
                List<Long> got = new ArrayList<>();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        // the first six accepted, the rest released
                        c.acknowledge(r, got.size() < 6 ? AcknowledgeType.ACCEPT : AcknowledgeType.RELEASE);
                        got.add(r.offset());
                    }
                    c.commitSync();
                    return got.size() >= 6;
                });
            }

            broker.restart();

            ToolRunner.Result list = ToolRunner.runTool(SHARE_GROUP_COMMAND, "--bootstrap-server", bootstrap, "--list");
            assertThat(list.exitCode()).as(list.describe()).isZero();
            assertThat(list.stdoutLines()).as(list.describe()).contains(group);
            ToolRunner.Result offsets = ToolRunner.runTool(SHARE_GROUP_COMMAND, "--bootstrap-server", bootstrap,
                    "--describe", "--group", group);
            assertThat(offsets.exitCode()).as(offsets.describe()).isZero();
            String row = offsets.stdoutLines().stream().filter(l -> l.contains(topic)).findFirst()
                    .orElseThrow(() -> new AssertionError(offsets.describe()));
            // GROUP TOPIC PARTITION START-OFFSET LAG
            assertThat(row.trim().split("\\s+")).as(offsets.describe()).contains(group, topic, "0", "6", "4");

            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                    ShareConsumerTest.shareProps(bootstrap, group, true, 10))) {
                c.subscribe(List.of(topic));
                List<Long> got = ShareConsumerTest.offsets(
                        ShareConsumerTest.acceptUntil(c, Duration.ofSeconds(60), accepted -> accepted.size() >= 4));
                assertThat(got).containsExactly(6L, 7L, 8L, 9L);
            }
        }
    }
}
