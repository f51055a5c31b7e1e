package io.gregor.broker.handlers;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicDeletionDisabledException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CreateTopics, DeleteTopics and CreatePartitions as the stock AdminClient uses them against a real broker. */
class AdminClientTopicsTest {
    @TempDir
    Path logDir;
    private Broker broker;
    private Admin admin;

    @BeforeEach
    void start() {
        broker = Broker.start(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", logDir.toString()));
        admin = admin(broker);
    }

    @AfterEach
    void stop() {
        if (admin != null) {
            admin.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static Admin admin(Broker broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    }

    static <T> T get(KafkaFuture<T> future) throws Exception {
        return future.get(20, TimeUnit.SECONDS);
    }

    static void assertFailsWith(KafkaFuture<?> future, Class<? extends Throwable> error, String messagePart) {
        assertThatThrownBy(() -> get(future)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(error).hasMessageContaining(messagePart);
    }

    @Test
    void createsTopicWithBrokerDefaultsAndReturnsItsConfig() throws Exception {
        CreateTopicsResult result = admin.createTopics(List.of(new NewTopic("orders", Optional.empty(), Optional.empty())
                .configs(Map.of("cleanup.policy", "compact", "retention.ms", "3600000"))));

        assertThat(get(result.numPartitions("orders"))).isEqualTo(1);
        assertThat(get(result.replicationFactor("orders"))).isEqualTo(1);
        Uuid id = get(result.topicId("orders"));
        assertThat(id).isNotEqualTo(Uuid.ZERO_UUID);
        Config config = get(result.config("orders"));
        assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
        assertThat(config.get("cleanup.policy").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(config.get("segment.bytes").value()).isEqualTo("1073741824");
        assertThat(config.get("segment.bytes").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);

        TopicDescription described = get(admin.describeTopics(List.of("orders")).allTopicNames()).get("orders");
        assertThat(described.topicId()).isEqualTo(id);
        assertThat(described.partitions()).hasSize(1);
    }

    @Test
    void createRefusesExistingInvalidAndUnplaceableTopics() throws Exception {
        get(admin.createTopics(List.of(new NewTopic("taken", 2, (short) 1))).all());

        CreateTopicsResult result = admin.createTopics(List.of(
                new NewTopic("taken", 1, (short) 1),
                new NewTopic("bad/name", 1, (short) 1),
                new NewTopic("no-partitions", 0, (short) 1),
                new NewTopic("three-copies", 1, (short) 3),
                new NewTopic("bad-config", 1, (short) 1).configs(Map.of("retention.ms", "soon")),
                new NewTopic("unknown-config", 1, (short) 1).configs(Map.of("no.such.key", "1"))));

        assertFailsWith(result.values().get("taken"), TopicExistsException.class, "Topic 'taken' already exists.");
        assertFailsWith(result.values().get("bad/name"), InvalidTopicException.class, "bad/name");
        assertFailsWith(result.values().get("no-partitions"), InvalidPartitionsException.class,
                "Number of partitions was set to an invalid non-positive value.");
        assertFailsWith(result.values().get("three-copies"), InvalidReplicationFactorException.class,
                "only 1 broker(s) are registered");
        assertFailsWith(result.values().get("bad-config"), InvalidConfigurationException.class, "retention.ms");
        assertFailsWith(result.values().get("unknown-config"), InvalidConfigurationException.class, "no.such.key");
        assertThat(get(admin.listTopics().names())).containsExactly("taken");
    }

    @Test
    void createWithManualAssignmentChecksPartitionIdsAndBrokers() throws Exception {
        CreateTopicsResult result = admin.createTopics(List.of(
                new NewTopic("manual", Map.of(0, List.of(0), 1, List.of(0), 2, List.of(0))),
                new NewTopic("unknown-broker", Map.of(0, List.of(5))),
                new NewTopic("gap", Map.of(0, List.of(0), 2, List.of(0))),
                new NewTopic("twice", Map.of(0, List.of(0, 0))),
                new NewTopic("empty", Map.of(0, List.<Integer>of()))));

        assertThat(get(result.numPartitions("manual"))).isEqualTo(3);
        assertThat(get(result.replicationFactor("manual"))).isEqualTo(1);
        assertFailsWith(result.values().get("unknown-broker"), InvalidReplicaAssignmentException.class,
                "includes broker 5, but no such broker is registered");
        assertFailsWith(result.values().get("gap"), InvalidReplicaAssignmentException.class,
                "partitions should be a consecutive 0-based integer sequence");
        assertFailsWith(result.values().get("twice"), InvalidReplicaAssignmentException.class, "more than once");
        assertFailsWith(result.values().get("empty"), InvalidReplicaAssignmentException.class, "empty replica list");
        assertThat(get(admin.describeTopics(List.of("manual")).allTopicNames()).get("manual").partitions()).hasSize(3);
    }

    @Test
    void validateOnlyCreatesNothing() throws Exception {
        CreateTopicsResult result = admin.createTopics(List.of(new NewTopic("dry", 4, (short) 1)),
                new CreateTopicsOptions().validateOnly(true));

        assertThat(get(result.numPartitions("dry"))).isEqualTo(4);
        assertThat(get(admin.listTopics().names())).doesNotContain("dry");
    }

    @Test
    void deletesByNameAndById() throws Exception {
        CreateTopicsResult created = admin.createTopics(List.of(new NewTopic("by-name", 1, (short) 1),
                new NewTopic("by-id", 2, (short) 1)));
        get(created.all());
        Uuid id = get(created.topicId("by-id"));

        get(admin.deleteTopics(List.of("by-name")).all());
        get(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(id))).all());

        assertThat(get(admin.listTopics().names())).isEmpty();
        assertFailsWith(admin.deleteTopics(List.of("by-name")).topicNameValues().get("by-name"),
                UnknownTopicOrPartitionException.class, "");
        assertFailsWith(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(id))).topicIdValues().get(id),
                UnknownTopicIdException.class, "");
        // A deleted topic's name is free again.
        get(admin.createTopics(List.of(new NewTopic("by-name", 1, (short) 1))).all());
    }

    @Test
    void deleteIsRefusedWhenDisabled(@TempDir Path otherDir) throws Exception {
        try (Broker locked = Broker.start(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", otherDir.toString(),
                "delete.topic.enable", "false")); Admin lockedAdmin = admin(locked)) {
            get(lockedAdmin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all());

            assertFailsWith(lockedAdmin.deleteTopics(List.of("kept")).all(), TopicDeletionDisabledException.class, "");
            assertThat(get(lockedAdmin.listTopics().names())).containsExactly("kept");
        }
    }

    @Test
    void addsPartitionsWithKafkasChecks() throws Exception {
        get(admin.createTopics(List.of(new NewTopic("grow", 2, (short) 1))).all());

        get(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(3))).all());
        get(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(5, List.of(List.of(0), List.of(0))))).all());
        assertThat(get(admin.describeTopics(List.of("grow")).allTopicNames()).get("grow").partitions()).hasSize(5);

        assertFailsWith(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(4))).all(),
                InvalidPartitionsException.class, "The topic grow currently has 5 partition(s); 4 would not be an increase.");
        assertFailsWith(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(5))).all(),
                InvalidPartitionsException.class, "Topic already has 5 partition(s).");
        assertFailsWith(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(8, List.of(List.of(0))))).all(),
                InvalidReplicaAssignmentException.class,
                "Attempted to add 3 additional partition(s), but only 1 assignment(s) were specified.");
        assertFailsWith(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(6, List.of(List.of(3))))).all(),
                InvalidReplicaAssignmentException.class, "includes broker 3, but no such broker is registered");
        assertFailsWith(admin.createPartitions(Map.of("missing", NewPartitions.increaseTo(2))).all(),
                UnknownTopicOrPartitionException.class, "");

        get(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(9)),
                new CreatePartitionsOptions().validateOnly(true)).all());
        assertThat(get(admin.describeTopics(List.of("grow")).allTopicNames()).get("grow").partitions()).hasSize(5);
    }
}
