package io.gregor.compat;

import io.gregor.testkit.GregorCluster;
import io.gregor.testkit.TraceEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.GroupTestSupport.createTopic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Classic-protocol consumers that start together (group.initial.rebalance.delay.ms=0): however their joins
 * interleave with the first rebalance (a member alone in generation 1 is told REBALANCE_IN_PROGRESS on its
 * SyncGroup, or on its heartbeat once Stable, as in Kafka), they end up sharing the topic in one generation.
 */
class ClassicGroupJoinTest {
    private static Path dir;
    private static GregorCluster cluster;

    @BeforeAll
    static void start() {
        dir = TestDirs.newDataDir("classic-join");
        cluster = GregorCluster.builder().dataDir(dir).trace(true)
                .brokerProperty("group.initial.rebalance.delay.ms", "0").start();
    }

    @AfterAll
    static void stop() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            TestDirs.deleteRecursively(dir);
        }
    }

    @Test
    void threeConsumersStartedTogetherShareTheTopicInOneGeneration() throws Exception {
        String topic = TestDirs.uniqueTopic("together");
        createTopic(cluster.bootstrapServers(), topic, 12);
        String group = topic + "-group";
        Properties props = consumerProps(cluster.bootstrapServers(), group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        cluster.trace().clear();
        List<PollingConsumer> consumers = new ArrayList<>();
        try {
            for (String name : List.of("a", "b", "c")) {
                consumers.add(new PollingConsumer(props, topic, name));
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                Set<TopicPartition> all = new HashSet<>();
                int count = 0;
                for (PollingConsumer c : consumers) {
                    Set<TopicPartition> mine = c.assignment();
                    assertThat(mine).isNotEmpty();
                    all.addAll(mine);
                    count += mine.size();
                }
                assertThat(all).hasSize(12);
                assertThat(count).isEqualTo(12);
            });
            // each member's last SyncGroup answer (the assignment it consumes with) is of one and the same generation
            Map<String, String> lastSyncGeneration = new HashMap<>();
            for (TraceEntry e : cluster.trace().entries()) {
                if (e.apiKey() == ApiKeys.SYNC_GROUP && e.errors().isEmpty() && e.request().contains(group)) {
                    lastSyncGeneration.put(e.clientId(), generation(e.request()));
                }
            }
            assertThat(lastSyncGeneration).as(cluster.trace().dump()).hasSize(3);
            assertThat(new HashSet<>(lastSyncGeneration.values())).as(cluster.trace().dump()).hasSize(1);
        } finally {
            for (PollingConsumer c : consumers) {
                c.close();
            }
        }
    }

    private static String generation(String fields) {
        Matcher m = Pattern.compile("generationId=(-?\\d+)").matcher(fields);
        return m.find() ? m.group(1) : fields;
    }
}
