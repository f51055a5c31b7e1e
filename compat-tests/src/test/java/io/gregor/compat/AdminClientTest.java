package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The AdminClient calls kafka-topics, kafka-configs and operators' scripts rely on. */
class AdminClientTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static Admin admin;

    @BeforeAll
    static void openAdmin() {
        admin = Clients.admin(BROKER.bootstrapServers());
    }

    @AfterAll
    static void closeAdmin() {
        if (admin != null) {
            admin.close();
        }
    }

    private static int nodeId() {
        Collection<Node> nodes = Clients.get(admin.describeCluster().nodes());
        assertThat(nodes).hasSize(1);
        return nodes.iterator().next().id();
    }

    private static TopicDescription describe(String topic) {
        return Clients.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
    }

    private static Config topicConfig(Admin client, String topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return Clients.get(client.describeConfigs(List.of(resource)).all()).get(resource);
    }

    @Test
    void createTopicWithConfigsShowsOverridesAsTopicConfigAndTheRestAsDefaults() {
        String topic = TestDirs.uniqueTopic("with-configs");
        Clients.get(admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1)
                .configs(Map.of("retention.ms", "123456", "max.message.bytes", "200000")))).all());

        Config config = topicConfig(admin, topic);
        ConfigEntry retention = config.get("retention.ms");
        assertThat(retention.value()).isEqualTo("123456");
        assertThat(retention.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(retention.isDefault()).isFalse();
        assertThat(config.get("max.message.bytes").value()).isEqualTo("200000");

        ConfigEntry segmentBytes = config.get("segment.bytes");
        assertThat(segmentBytes).as("segment.bytes is described even when not overridden").isNotNull();
        assertThat(segmentBytes.value()).isEqualTo("1073741824");
        assertThat(segmentBytes.source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
        assertThat(segmentBytes.isDefault()).isTrue();
        assertThat(config.get("cleanup.policy").value()).isEqualTo("delete");
        assertThat(config.get("cleanup.policy").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);

        assertThat(describe(topic).partitions()).hasSize(3);
    }

    @Test
    void createTopicWithReplicaAssignment() {
        String topic = TestDirs.uniqueTopic("assigned");
        int node = nodeId();
        Clients.get(admin.createTopics(List.of(new NewTopic(topic,
                Map.of(0, List.of(node), 1, List.of(node))))).all());

        TopicDescription description = describe(topic);
        assertThat(description.partitions()).hasSize(2);
        for (TopicPartitionInfo p : description.partitions()) {
            assertThat(p.replicas()).extracting(Node::id).containsExactly(node);
            assertThat(p.leader().id()).isEqualTo(node);
        }
    }

    @Test
    void validateOnlyCreatesNothing() {
        String topic = TestDirs.uniqueTopic("validate-only");
        Clients.get(admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1)),
                new CreateTopicsOptions().validateOnly(true)).all());

        assertThat(Clients.get(admin.listTopics().names())).doesNotContain(topic);
        // A real create afterwards succeeds, so validation left no trace behind.
        Clients.createTopic(admin, topic, 2, Map.of());
        assertThat(Clients.get(admin.listTopics().names())).contains(topic);
    }

    @Test
    void listAndDescribeTopics() {
        String a = TestDirs.uniqueTopic("list-a");
        String b = TestDirs.uniqueTopic("list-b");
        Clients.createTopic(admin, a, 1, Map.of());
        Clients.createTopic(admin, b, 4, Map.of());

        assertThat(Clients.get(admin.listTopics().names())).contains(a, b);

        Map<String, TopicDescription> descriptions = Clients.get(admin.describeTopics(List.of(a, b)).allTopicNames());
        int node = nodeId();
        assertThat(descriptions.get(b).name()).isEqualTo(b);
        assertThat(descriptions.get(b).isInternal()).isFalse();
        assertThat(descriptions.get(b).partitions()).extracting(TopicPartitionInfo::partition)
                .containsExactly(0, 1, 2, 3);
        for (TopicDescription d : descriptions.values()) {
            assertThat(d.topicId()).as("topic id of %s", d.name()).isNotNull().isNotEqualTo(Uuid.ZERO_UUID);
            for (TopicPartitionInfo p : d.partitions()) {
                assertThat(p.leader()).isNotNull();
                assertThat(p.leader().id()).isEqualTo(node);
                assertThat(p.isr()).extracting(Node::id).containsExactly(node);
            }
        }
        assertThat(descriptions.get(a).topicId()).isNotEqualTo(descriptions.get(b).topicId());
    }

    @Test
    void incrementalAlterConfigsSetAndDelete() {
        String topic = TestDirs.uniqueTopic("incremental");
        Clients.createTopic(admin, topic, 1, Map.of("retention.ms", "100000"));
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);

        Clients.get(admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("segment.ms", "3600000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE)))).all());

        Config config = topicConfig(admin, topic);
        assertThat(config.get("segment.ms").value()).isEqualTo("3600000");
        assertThat(config.get("segment.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(config.get("retention.ms").value()).as("deleted override falls back to the default")
                .isEqualTo("604800000");
        assertThat(config.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    }

    /**
     * Legacy AlterConfigs (API 33) replaces a topic's whole override set. Admin 4.x no longer exposes it
     * (only incrementalAlterConfigs), so it goes over a raw connection the way older clients send it.
     */
    @Test
    void legacyAlterConfigsReplacesAllOverrides() throws Exception {
        String topic = TestDirs.uniqueTopic("legacy-alter");
        Clients.createTopic(admin, topic, 1, Map.of("retention.ms", "100000", "segment.ms", "7200000"));

        AlterConfigsRequestData.AlterableConfigCollection configs = new AlterConfigsRequestData.AlterableConfigCollection();
        configs.add(new AlterConfigsRequestData.AlterableConfig().setName("max.message.bytes").setValue("300000"));
        AlterConfigsRequestData.AlterConfigsResourceCollection resources =
                new AlterConfigsRequestData.AlterConfigsResourceCollection();
        resources.add(new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic).setConfigs(configs));
        AlterConfigsResponseData response;
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(20))) {
            response = raw.roundTrip(ApiKeys.ALTER_CONFIGS, (short) 1,
                    new AlterConfigsRequestData().setResources(resources).setValidateOnly(false),
                    AlterConfigsResponseData::new);
        }
        assertThat(response.responses()).hasSize(1);
        assertThat(response.responses().get(0).errorCode()).as("error: %s", response.responses().get(0).errorMessage())
                .isZero();

        Config config = topicConfig(admin, topic);
        assertThat(config.get("max.message.bytes").value()).isEqualTo("300000");
        assertThat(config.get("retention.ms").source()).as("overrides not in the request are removed")
                .isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
        assertThat(config.get("segment.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void topicConfigsAndIdSurviveRestart() {
        try (TestBroker broker = TestBroker.start("admin-restart", Map.of())) {
            String topic = TestDirs.uniqueTopic("persisted");
            Uuid id;
            try (Admin a = Clients.admin(broker.bootstrapServers())) {
                Clients.createTopic(a, topic, 2, Map.of("retention.ms", "222222"));
                Clients.get(a.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                        List.of(new AlterConfigOp(new ConfigEntry("segment.ms", "4000000"),
                                AlterConfigOp.OpType.SET)))).all());
                id = Clients.get(a.describeTopics(List.of(topic)).allTopicNames()).get(topic).topicId();
            }

            broker.restart();

            try (Admin a = Clients.admin(broker.bootstrapServers())) {
                Config config = topicConfig(a, topic);
                assertThat(config.get("retention.ms").value()).isEqualTo("222222");
                assertThat(config.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
                assertThat(config.get("segment.ms").value()).isEqualTo("4000000");
                TopicDescription d = Clients.get(a.describeTopics(List.of(topic)).allTopicNames()).get(topic);
                assertThat(d.partitions()).hasSize(2);
                assertThat(d.topicId()).as("topic id is stable across restarts").isEqualTo(id);
            }
        }
    }

    @Test
    void createPartitionsAddsWritablePartitions() {
        String topic = TestDirs.uniqueTopic("grow");
        Clients.createTopic(admin, topic, 1, Map.of());

        Clients.get(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all());

        assertThat(describe(topic).partitions()).hasSize(3);
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            RecordMetadata md = Clients.get(producer.send(new ProducerRecord<>(topic, 2, "k", "in-new-partition")));
            assertThat(md.partition()).isEqualTo(2);
            assertThat(md.offset()).isZero();
        }
    }

    @Test
    void deleteTopicRemovesIt() {
        String topic = TestDirs.uniqueTopic("doomed");
        Clients.createTopic(admin, topic, 2, Map.of());
        Uuid oldId = describe(topic).topicId();
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, "k", "v")));
        }

        Clients.get(admin.deleteTopics(List.of(topic)).all());

        await().atMost(Clients.TIMEOUT).untilAsserted(() ->
                assertThat(Clients.get(admin.listTopics().names())).doesNotContain(topic));
        assertThatThrownBy(() -> describe(topic)).isInstanceOf(UnknownTopicOrPartitionException.class);

        // The name is free again, and the new topic starts empty under a new id.
        await().atMost(Clients.TIMEOUT).ignoreException(TopicExistsException.class)
                .untilAsserted(() -> Clients.createTopic(admin, topic, 1, Map.of()));
        assertThat(describe(topic).topicId()).isNotEqualTo(oldId);
        TopicPartition tp = new TopicPartition(topic, 0);
        assertThat(Clients.get(admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all()).get(tp).offset()).isZero();
    }

    @Test
    void replicationFactorAboveBrokerCountIsRejected() {
        String topic = TestDirs.uniqueTopic("rf2");
        assertThatThrownBy(() -> Clients.get(admin.createTopics(List.of(new NewTopic(topic, 1, (short) 2))).all()))
                .isInstanceOf(InvalidReplicationFactorException.class);
        assertThat(Clients.get(admin.listTopics().names())).doesNotContain(topic);
    }

    @Test
    void duplicateCreateIsRejected() {
        String topic = TestDirs.uniqueTopic("dup");
        Clients.createTopic(admin, topic, 1, Map.of());
        assertThatThrownBy(() -> Clients.createTopic(admin, topic, 1, Map.of()))
                .isInstanceOf(TopicExistsException.class);
    }

    @Test
    void describeClusterShowsTheOneBroker() {
        DescribeClusterResult cluster = admin.describeCluster();
        Collection<Node> nodes = Clients.get(cluster.nodes());
        assertThat(nodes).hasSize(1);
        Node node = nodes.iterator().next();
        assertThat(node.host()).isEqualTo("127.0.0.1");
        assertThat(node.port()).isEqualTo(BROKER.broker().port());
        assertThat(Clients.get(cluster.clusterId())).isNotBlank();
        Node controller = Clients.get(cluster.controller());
        assertThat(controller).isNotNull();
        assertThat(controller.id()).isEqualTo(node.id());
    }

    @Test
    void describeLogDirsShowsTheDirAndPartitionSizes() throws Exception {
        String topic = TestDirs.uniqueTopic("logdirs");
        Clients.createTopic(admin, topic, 2, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "some value " + i));
            }
            producer.flush();
        }
        int node = nodeId();

        Map<Integer, Map<String, LogDirDescription>> all =
                Clients.get(admin.describeLogDirs(List.of(node)).allDescriptions());
        Map<String, LogDirDescription> dirs = all.get(node);
        assertThat(dirs).as("log dirs of node %d", node).hasSize(1);
        Map.Entry<String, LogDirDescription> dir = dirs.entrySet().iterator().next();
        assertThat(Path.of(dir.getKey()).toRealPath()).isEqualTo(BROKER.broker().logDir().toRealPath());
        assertThat(dir.getValue().error()).isNull();
        Map<TopicPartition, ReplicaInfo> replicas = dir.getValue().replicaInfos();
        assertThat(replicas).containsKeys(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
        assertThat(replicas.get(new TopicPartition(topic, 0)).size()).as("bytes of partition 0").isPositive();
        assertThat(replicas.get(new TopicPartition(topic, 1)).size()).as("bytes of empty partition 1").isZero();
    }

    @Test
    void deleteRecordsMovesTheLogStartOffset() {
        String topic = TestDirs.uniqueTopic("delete-records");
        Clients.createTopic(admin, topic, 1, Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
            }
            producer.flush();
        }

        long lowWatermark = Clients.get(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4)))
                .lowWatermarks().get(tp)).lowWatermark();

        assertThat(lowWatermark).isEqualTo(4);
        assertThat(Clients.get(admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all()).get(tp).offset())
                .isEqualTo(4);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, 4L);
            List<ConsumerRecord<String, String>> records = Clients.readFromBeginning(consumer, List.of(tp), 6);
            assertThat(records).extracting(ConsumerRecord::offset).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
            assertThat(records.get(0).value()).isEqualTo("v4");
        }
    }

    @Test
    void describeConfigsOfAnUnknownTopicFails() {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, TestDirs.uniqueTopic("missing"));
        assertThatThrownBy(() -> Clients.get(admin.describeConfigs(List.of(resource)).all()))
                .isInstanceOf(UnknownTopicOrPartitionException.class);
    }
}
