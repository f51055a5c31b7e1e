package io.gregor.compat;

import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.intercept.TraceRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a Kafka 4.4 client or tool gets from Gregor as from a Kafka 4.4 broker: OffsetCommit/OffsetFetch v10 by
 * topic id, features in ApiVersions and UpdateFeatures ({@code kafka-features}), client telemetry answered with
 * no subscription, ApiVersions v5's REBOOTSTRAP_REQUIRED, and every client API at the newest version the client
 * knows unless Kafka itself caps it.
 */
class Kafka44ProtocolTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of("group.initial.rebalance.delay.ms", "0"));

    private static final String FEATURE_COMMAND = "org.apache.kafka.tools.FeatureCommand";

    /**
     * Client APIs Gregor serves below kafka-clients 4.4's newest version, and why. Everything else a client or
     * tool sends is served up to the newest version.
     */
    private static final Map<ApiKeys, String> CAPPED = Map.of();

    private static RequestTrace trace;

    @BeforeAll
    static void start() {
        trace = BROKER.broker().broker().requestTrace();
        trace.setEnabled(true);
    }

    @AfterAll
    static void stop() {
        trace.setEnabled(false);
    }

    private static List<TraceRecord> sent(String clientId, ApiKeys api) {
        return trace.entries().stream().filter(r -> clientId.equals(r.clientId()) && r.apiKey() == api.id).toList();
    }

    @Test
    void offsetsCommittedAndFetchedByTopicIdWithV10AreTheConsumersOffsets() throws Exception {
        String topic = TestDirs.uniqueTopic("offsets-v10");
        String group = "offsets-v10-group";
        Uuid topicId;
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            Clients.createTopic(admin, topic, 2, Map.of());
            topicId = Clients.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).topicId();
            Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()); // creates __consumer_offsets
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(20))) {
            OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId(group)
                    .setGenerationIdOrMemberEpoch(-1).setMemberId("")
                    .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setTopicId(topicId)
                            .setPartitions(List.of(
                                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                            .setCommittedOffset(2).setCommittedMetadata("m0"),
                                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(1)
                                            .setCommittedOffset(1)))));
            await("a commit once the group's coordinator has loaded").atMost(Clients.TIMEOUT)
                    .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                        OffsetCommitResponseData response = raw.roundTrip(ApiKeys.OFFSET_COMMIT, (short) 10,
                                commit.duplicate(), OffsetCommitResponseData::new);
                        assertThat(response.topics()).singleElement().satisfies(t -> {
                            assertThat(t.topicId()).isEqualTo(topicId);
                            assertThat(t.partitions()).allSatisfy(p -> assertThat(p.errorCode()).isZero());
                        });
                    });

            OffsetFetchResponseData byId = raw.roundTrip(ApiKeys.OFFSET_FETCH, (short) 10, new OffsetFetchRequestData()
                            .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group)
                                    .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(topicId)
                                            .setPartitionIndexes(List.of(0, 1)))))),
                    OffsetFetchResponseData::new);
            OffsetFetchResponseData all = raw.roundTrip(ApiKeys.OFFSET_FETCH, (short) 10, new OffsetFetchRequestData()
                            .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group)
                                    .setTopics(null))),
                    OffsetFetchResponseData::new);
            for (OffsetFetchResponseData answer : List.of(byId, all)) {
                assertThat(answer.groups()).singleElement().satisfies(g -> assertThat(g.topics()).singleElement().satisfies(t -> {
                    assertThat(t.topicId()).isEqualTo(topicId);
                    assertThat(t.partitions()).extracting(OffsetFetchResponseData.OffsetFetchResponsePartitions::committedOffset)
                            .containsExactly(2L, 1L);
                }));
            }
        }

        // a stock 4.4 consumer (OffsetFetch by name) reads the same offsets
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(java.util.Set.of(p0, p1));
            assertThat(committed.get(p0).offset()).isEqualTo(2);
            assertThat(committed.get(p0).metadata()).isEqualTo("m0");
            assertThat(committed.get(p1).offset()).isEqualTo(1);
        }

        // the record in __consumer_offsets is Kafka 4.4's OffsetCommitValue v4 with the topic id, as Kafka's formatter reads it
        int offsetsPartition = Utils.abs(group.hashCode()) % 50; // offsets.topic.num.partitions
        ToolRunner.Result records = ToolRunner.runTool(ToolRunner.CONSOLE_CONSUMER, "--bootstrap-server",
                BROKER.bootstrapServers(), "--topic", "__consumer_offsets", "--partition", String.valueOf(offsetsPartition),
                "--offset", "earliest", "--formatter", "org.apache.kafka.tools.consumer.OffsetsMessageFormatter",
                "--timeout-ms", "5000");
        assertThat(records.stdout()).as(records.describe())
                .contains("\"topic\":\"" + topic + "\",\"partition\":0}},\"value\":{\"version\":4,\"data\":{\"offset\":2,")
                .contains("\"metadata\":\"m0\"")
                .contains("\"topicId\":\"" + topicId + "\"");
    }

    @Test
    void offsetsOfAnUnknownTopicIdAreAnsweredUnknownTopicId() throws Exception {
        Uuid unknown = Uuid.randomUuid();
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(20))) {
            // the id is looked up before the group: the answer does not wait for the coordinator
            OffsetCommitResponseData[] commit = {raw.roundTrip(ApiKeys.OFFSET_COMMIT, (short) 10, new OffsetCommitRequestData()
                    .setGroupId("unknown-id-group").setGenerationIdOrMemberEpoch(-1).setMemberId("")
                    .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setTopicId(unknown)
                            .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                    .setPartitionIndex(0).setCommittedOffset(5))))),
                    OffsetCommitResponseData::new)};
            assertThat(commit[0].topics()).singleElement().satisfies(t -> {
                assertThat(t.topicId()).isEqualTo(unknown);
                assertThat(t.partitions()).singleElement()
                        .satisfies(p -> assertThat(Errors.forCode(p.errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_ID));
            });

            OffsetFetchResponseData fetch = raw.roundTrip(ApiKeys.OFFSET_FETCH, (short) 10, new OffsetFetchRequestData()
                            .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("unknown-id-group")
                                    .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(unknown)
                                            .setPartitionIndexes(List.of(0)))))),
                    OffsetFetchResponseData::new);
            assertThat(fetch.groups()).singleElement().satisfies(g -> assertThat(g.topics()).singleElement().satisfies(t -> {
                assertThat(t.topicId()).isEqualTo(unknown);
                assertThat(t.partitions()).singleElement().satisfies(p -> {
                    assertThat(Errors.forCode(p.errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_ID);
                    assertThat(p.committedOffset()).isEqualTo(-1);
                });
            }));
        }
    }

    @Test
    void kafkaFeaturesDescribesAndUpdatesTheFinalizedLevels() {
        ToolRunner.Result describe = ToolRunner.runTool(FEATURE_COMMAND, "--bootstrap-server", BROKER.bootstrapServers(),
                "describe");
        assertThat(describe.exitCode()).as(describe.describe()).isZero();
        assertThat(describe.stdoutLines()).as(describe.describe()).anySatisfy(line -> assertThat(line).matches(
                "Feature: transaction\\.version\\s+SupportedMinVersion: 0\\s+SupportedMaxVersion: 2\\s+"
                        + "FinalizedVersionLevel: 2\\s+Epoch: 1"));
        // the KIP-848 consumer protocol is served, so group.version 1 is finalized as in Kafka 4.x
        assertThat(describe.stdoutLines()).as(describe.describe()).anySatisfy(line -> assertThat(line).matches(
                "Feature: group\\.version\\s+SupportedMinVersion: 0\\s+SupportedMaxVersion: 1\\s+"
                        + "FinalizedVersionLevel: 1\\s+Epoch: 1"));
        // share groups are served, so share.version 1 is finalized (2, dead-letter queues, is not supported)
        assertThat(describe.stdoutLines()).as(describe.describe()).anySatisfy(line -> assertThat(line).matches(
                "Feature: share\\.version\\s+SupportedMinVersion: 0\\s+SupportedMaxVersion: 1\\s+"
                        + "FinalizedVersionLevel: 1\\s+Epoch: 1"));
        ToolRunner.Result shareToCurrent = ToolRunner.runTool(FEATURE_COMMAND, "--bootstrap-server",
                BROKER.bootstrapServers(), "upgrade", "--feature", "share.version=1");
        assertThat(shareToCurrent.exitCode()).as(shareToCurrent.describe()).isZero();
        ToolRunner.Result shareToDlq = ToolRunner.runTool(FEATURE_COMMAND, "--bootstrap-server",
                BROKER.bootstrapServers(), "upgrade", "--feature", "share.version=2");
        assertThat(shareToDlq.exitCode()).as(shareToDlq.describe()).isNotZero();
        assertThat(shareToDlq.stdout() + shareToDlq.stderr()).as(shareToDlq.describe())
                .contains("Invalid update version 2 for feature share.version", "only supports versions 0-1");

        ToolRunner.Result upgradeToCurrent = ToolRunner.runTool(FEATURE_COMMAND, "--bootstrap-server",
                BROKER.bootstrapServers(), "upgrade", "--feature", "transaction.version=2");
        assertThat(upgradeToCurrent.exitCode()).as(upgradeToCurrent.describe()).isZero();
        assertThat(upgradeToCurrent.stdout()).as(upgradeToCurrent.describe()).contains("transaction.version was upgraded to 2");

        ToolRunner.Result downgrade = ToolRunner.runTool(FEATURE_COMMAND, "--bootstrap-server", BROKER.bootstrapServers(),
                "downgrade", "--feature", "transaction.version=1");
        assertThat(downgrade.exitCode()).as(downgrade.describe()).isNotZero();
        assertThat(downgrade.stdout() + downgrade.stderr()).as(downgrade.describe())
                .contains("Invalid update version 1 for feature transaction.version");

        ToolRunner.Result unknown = ToolRunner.runTool(FEATURE_COMMAND, "--bootstrap-server", BROKER.bootstrapServers(),
                "upgrade", "--feature", "no.such.version=1");
        assertThat(unknown.exitCode()).as(unknown.describe()).isNotZero();
        assertThat(unknown.stdout() + unknown.stderr()).as(unknown.describe())
                .contains("Invalid update version 1 for feature no.such.version", "does not support this feature");
    }

    @Test
    void clientTelemetryIsAnsweredWithNoSubscriptionSoTheClientPushesNothing() {
        String clientId = "telemetry-client";
        String topic = TestDirs.uniqueTopic("telemetry");
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of(ProducerConfig.CLIENT_ID_CONFIG, clientId))) {
            Clients.get(producer.send(new ProducerRecord<>(topic, "v")));
            await("the client's GetTelemetrySubscriptions").atMost(Clients.TIMEOUT)
                    .until(() -> !sent(clientId, ApiKeys.GET_TELEMETRY_SUBSCRIPTIONS).isEmpty());
            Clients.get(producer.send(new ProducerRecord<>(topic, "v")));
        }
        List<TraceRecord> subscriptions = sent(clientId, ApiKeys.GET_TELEMETRY_SUBSCRIPTIONS);
        assertThat(subscriptions).hasSize(1).allSatisfy(r -> assertThat(r.errorCodes()).isEmpty());
        assertThat(sent(clientId, ApiKeys.PUSH_TELEMETRY)).as("no metrics asked for, none pushed").isEmpty();
    }

    @Test
    void apiVersionsNamingAnotherClusterOrNodeGetsRebootstrapRequired() throws Exception {
        String clusterId;
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            clusterId = Clients.get(admin.describeCluster().clusterId());
        }
        short version = ApiKeys.API_VERSIONS.latestVersion();
        assertThat(version).isGreaterThanOrEqualTo((short) 5);
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(10))) {
            assertThat(apiVersions(raw, version, clusterId, 0).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(Errors.forCode(apiVersions(raw, version, Uuid.randomUuid().toString(), 0).errorCode()))
                    .isEqualTo(Errors.REBOOTSTRAP_REQUIRED);
            assertThat(Errors.forCode(apiVersions(raw, version, clusterId, 7).errorCode()))
                    .isEqualTo(Errors.REBOOTSTRAP_REQUIRED);
            assertThat(apiVersions(raw, version, null, -1).errorCode()).isEqualTo(Errors.NONE.code());
            // Kafka 4.4 leaves Metadata v13's top-level error at NONE: a client rebootstraps on REBOOTSTRAP_REQUIRED only
            MetadataResponseData metadata = raw.roundTrip(ApiKeys.METADATA, ApiKeys.METADATA.latestVersion(),
                    new MetadataRequestData().setTopics(null), MetadataResponseData::new);
            assertThat(metadata.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(metadata.clusterId()).isEqualTo(clusterId);
            ApiVersionsResponseData badName = raw.roundTrip(ApiKeys.API_VERSIONS, version, new ApiVersionsRequestData()
                    .setClientSoftwareName("not a name!").setClientSoftwareVersion("1"), ApiVersionsResponseData::new);
            assertThat(Errors.forCode(badName.errorCode())).isEqualTo(Errors.INVALID_REQUEST);
        }
    }

    private static ApiVersionsResponseData apiVersions(RawKafkaConnection raw, short version, String clusterId, int nodeId)
            throws Exception {
        return raw.roundTrip(ApiKeys.API_VERSIONS, version, new ApiVersionsRequestData().setClientSoftwareName("gregor-compat")
                .setClientSoftwareVersion("1").setClusterId(clusterId).setNodeId(nodeId), ApiVersionsResponseData::new);
    }

    @Test
    void everyClientApiIsServedAtTheNewestVersionKafkaClients44Knows() throws Exception {
        ApiVersionsResponseData data;
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(10))) {
            data = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 4, new ApiVersionsRequestData()
                    .setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"), ApiVersionsResponseData::new);
        }
        Map<String, String> behind = new TreeMap<>();
        for (ApiVersionsResponseData.ApiVersion v : data.apiKeys()) {
            ApiKeys api = ApiKeys.forId(v.apiKey());
            // a Kafka 4.4 broker advertises the newest stable version (unstable ones only with unstable.api.versions.enable)
            short newest = api.latestVersion(false);
            if (v.maxVersion() != newest && !CAPPED.containsKey(api)) {
                behind.put(api.name, v.maxVersion() + " < " + newest);
            }
        }
        assertThat(behind).as("APIs served below kafka-clients' newest version without a reason in CAPPED").isEmpty();
    }
}
