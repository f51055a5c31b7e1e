package io.gregor.compat;

import io.gregor.testkit.GregorCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Share groups' offsets in a three-broker cluster where the share-partition leader is neither the group
 * coordinator nor (necessarily) the share coordinator, as Kafka 4.4 runs them: the group coordinator initializes
 * a subscribed partition's state with its share coordinator before assigning it (InitializeShareGroupState with
 * the group epoch as state epoch), and after {@code kafka-share-groups --reset-offsets} or {@code
 * --delete-offsets} on the empty group, the next consumer starts where the reset put the group, although the
 * leader had served the group before (it dropped its copy when the group's last share session there ended).
 */
class ClusterShareGroupResetTest {
    private static final String SHARE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";
    private static final int RECORDS = 6;

    private GregorCluster cluster;
    private Path dir;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (dir != null) {
            TestDirs.deleteRecursively(dir);
        }
    }

    @Test
    void aResetOrDeletedOffsetIsWhereTheNextConsumerStartsOnARemoteLeader() throws Exception {
        dir = TestDirs.newDataDir("share-reset-cluster");
        GregorCluster.Builder builder = GregorCluster.builder().brokers(3).dataDir(dir).trace(false);
        Map.of("offsets.topic.num.partitions", "3", "share.coordinator.state.topic.num.partitions", "3",
                "group.initial.rebalance.delay.ms", "0").forEach(builder::brokerProperty);
        cluster = builder.start();
        String bootstrap = cluster.bootstrapServers();
        String topic = TestDirs.uniqueTopic("reset-queue");
        int leader;
        Uuid topicId;
        try (Admin admin = Clients.admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            TopicDescription d = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic),
                            t -> t.partitions().get(0).leader() != null);
            leader = d.partitions().get(0).leader().id();
            topicId = d.topicId();
        }
        int port = cluster.broker(leader).port();
        String group = null;
        for (int i = 0; group == null; i++) {
            String candidate = topic + "-group-" + i;
            if (coordinator(port, FindCoordinatorRequest.CoordinatorType.GROUP, candidate) != leader) {
                group = candidate;
            }
        }
        ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
        GroupTestSupport.produce(bootstrap, topic, 1, "r", RECORDS);

        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(bootstrap, group, true, RECORDS))) {
            c.subscribe(List.of(topic));
            assertThat(consumeAll(c)).as("the first consumer, from the earliest offset").startsWith(0L);
            // the group coordinator initialized the partition's state before assigning it, with the group epoch
            // as state epoch (a share-partition leader alone would start it at state epoch 0)
            ReadShareGroupStateSummaryResponseData.PartitionResult summary = summary(port, group, topicId);
            assertThat(summary.stateEpoch()).as("state epoch").isPositive();

            ToolRunner.Result busy = tool(bootstrap, "--reset-offsets", "--to-earliest", "--execute", "--topic", topic,
                    "--group", group);
            assertThat(busy.stdout() + busy.stderr()).as(busy.describe()).containsIgnoringCase("not empty");
        }

        ToolRunner.Result reset = tool(bootstrap, "--reset-offsets", "--to-offset", "2", "--execute", "--topic", topic,
                "--group", group);
        assertThat(reset.exitCode()).as(reset.describe()).isZero();
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(bootstrap, group, true, RECORDS))) {
            c.subscribe(List.of(topic));
            assertThat(consumeAll(c)).as("the records again, from the offset reset to").startsWith(2L);
        }

        ToolRunner.Result delete = tool(bootstrap, "--delete-offsets", "--topic", topic, "--group", group);
        assertThat(delete.exitCode()).as(delete.describe()).isZero();
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(bootstrap, group, true, RECORDS))) {
            c.subscribe(List.of(topic));
            assertThat(consumeAll(c)).as("offsets deleted: share.auto.offset.reset=earliest again").startsWith(0L);
        }
    }

    /** Polls and accepts until the last record was delivered; the offsets delivered. */
    private static List<Long> consumeAll(KafkaShareConsumer<String, String> c) {
        return ShareConsumerTest.offsets(ShareConsumerTest.acceptUntil(c, Duration.ofSeconds(30),
                got -> ShareConsumerTest.offsets(got).contains((long) RECORDS - 1)));
    }

    /** ReadShareGroupStateSummary, as a broker asks the share coordinator of the state key. */
    private ReadShareGroupStateSummaryResponseData.PartitionResult summary(int anyPort, String group, Uuid topicId) {
        return await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            int shareCoordinator = coordinator(anyPort, FindCoordinatorRequest.CoordinatorType.SHARE,
                    group + ":" + topicId + ":0");
            int port = cluster.broker(shareCoordinator).port();
            try (RawKafkaConnection raw = new RawKafkaConnection(port, Duration.ofSeconds(10))) {
                ReadShareGroupStateSummaryRequestData request = new ReadShareGroupStateSummaryRequestData()
                        .setGroupId(group);
                request.topics().add(new ReadShareGroupStateSummaryRequestData.ReadStateSummaryData().setTopicId(topicId)
                        .setPartitions(List.of(new ReadShareGroupStateSummaryRequestData.PartitionData()
                                .setPartition(0).setLeaderEpoch(-1))));
                return raw.roundTrip(ApiKeys.READ_SHARE_GROUP_STATE_SUMMARY, (short) 1, request,
                        ReadShareGroupStateSummaryResponseData::new).results().get(0).partitions().get(0);
            }
        }, p -> p.errorCode() == Errors.NONE.code());
    }

    private static int coordinator(int port, FindCoordinatorRequest.CoordinatorType type, String key) {
        return await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            try (RawKafkaConnection raw = new RawKafkaConnection(port, Duration.ofSeconds(10))) {
                FindCoordinatorResponseData answer = raw.roundTrip(ApiKeys.FIND_COORDINATOR, (short) 6,
                        new FindCoordinatorRequestData().setKeyType(type.id()).setCoordinatorKeys(List.of(key)),
                        FindCoordinatorResponseData::new);
                FindCoordinatorResponseData.Coordinator c = answer.coordinators().get(0);
                return c.errorCode() == Errors.NONE.code() ? c.nodeId() : -1;
            }
        }, id -> id >= 0);
    }

    private static ToolRunner.Result tool(String bootstrap, String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        all.addAll(List.of(args));
        return ToolRunner.runTool(SHARE_GROUP_COMMAND, all.toArray(String[]::new));
    }
}
