package io.gregor.broker.handlers;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static io.gregor.broker.handlers.AdminClientTopicsTest.assertFailsWith;
import static io.gregor.broker.handlers.AdminClientTopicsTest.get;
import static org.assertj.core.api.Assertions.assertThat;

/** DescribeConfigs and IncrementalAlterConfigs as the stock AdminClient (and so kafka-configs) uses them. */
class AdminClientConfigsTest {
    @TempDir
    Path logDir;
    private Broker broker;
    private Admin admin;
    private final ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "events");

    @BeforeEach
    void start() throws Exception {
        broker = Broker.start(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", logDir.toString(),
                "log.retention.hours", "48"));
        admin = AdminClientTopicsTest.admin(broker);
        get(admin.createTopics(List.of(new NewTopic("events", 1, (short) 1)
                .configs(Map.of("max.message.bytes", "2048")))).all());
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

    private Config describe(ConfigResource resource) throws Exception {
        return get(admin.describeConfigs(List.of(resource)).all()).get(resource);
    }

    private void alter(ConfigResource resource, AlterConfigOp... ops) throws Exception {
        get(admin.incrementalAlterConfigs(Map.of(resource, List.of(ops))).all());
    }

    private static AlterConfigOp op(String key, String value, OpType type) {
        return new AlterConfigOp(new ConfigEntry(key, value), type);
    }

    @Test
    void describesTopicOverridesBrokerValuesAndDefaultsWithSynonyms() throws Exception {
        Config config = get(admin.describeConfigs(List.of(topic),
                new DescribeConfigsOptions().includeSynonyms(true).includeDocumentation(true)).all()).get(topic);

        ConfigEntry maxBytes = config.get("max.message.bytes");
        assertThat(maxBytes.value()).isEqualTo("2048");
        assertThat(maxBytes.source()).isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(maxBytes.isReadOnly()).isFalse();
        assertThat(maxBytes.type()).isEqualTo(ConfigEntry.ConfigType.INT);
        assertThat(maxBytes.documentation()).isNotBlank();
        assertThat(maxBytes.synonyms()).extracting(ConfigEntry.ConfigSynonym::name)
                .containsExactly("max.message.bytes", "message.max.bytes");

        ConfigEntry retention = config.get("retention.ms");
        assertThat(retention.value()).isEqualTo("172800000");
        assertThat(retention.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(retention.synonyms().get(0).name()).isEqualTo("log.retention.hours");

        assertThat(config.get("segment.bytes").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void describeWithoutOptionsOmitsSynonymsAndDocumentationAndFiltersKeys() throws Exception {
        Config config = describe(topic);
        assertThat(config.get("retention.ms").synonyms()).isEmpty();
        assertThat(config.get("retention.ms").documentation()).isNull();

        ConfigResource brokerResource = new ConfigResource(ConfigResource.Type.BROKER, "0");
        Config brokerConfig = describe(brokerResource);
        ConfigEntry logDirs = brokerConfig.get("log.dirs");
        assertThat(logDirs.value()).isEqualTo(logDir.toString());
        assertThat(logDirs.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(logDirs.isReadOnly()).isTrue();
        assertThat(brokerConfig.get("num.partitions").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void describeAnswersClusterDefaultsLoggersAndUnknownTopics() throws Exception {
        ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
        ConfigResource loggers = new ConfigResource(ConfigResource.Type.BROKER_LOGGER, "0");
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, "missing");

        var result = admin.describeConfigs(List.of(clusterDefault, loggers, missing)).values();
        assertThat(get(result.get(clusterDefault)).entries()).isEmpty();
        assertThat(get(result.get(loggers)).entries()).isEmpty();
        assertFailsWith(result.get(missing), UnknownTopicOrPartitionException.class, "missing");
    }

    @Test
    void setAndDeleteChangeOverridesDurably() throws Exception {
        alter(topic, op("retention.ms", "60000", OpType.SET), op("max.message.bytes", null, OpType.DELETE));

        Config config = describe(topic);
        assertThat(config.get("retention.ms").value()).isEqualTo("60000");
        assertThat(config.get("retention.ms").source()).isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(config.get("max.message.bytes").value()).isEqualTo("1048588");
        assertThat(config.get("max.message.bytes").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);

        // The overrides are on disk: a restarted broker still has them.
        admin.close();
        broker.close();
        broker = Broker.start(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", logDir.toString()));
        admin = AdminClientTopicsTest.admin(broker);
        assertThat(describe(topic).get("retention.ms").value()).isEqualTo("60000");
    }

    @Test
    void appendAndSubtractStartFromTheEffectiveList() throws Exception {
        alter(topic, op("cleanup.policy", "compact", OpType.APPEND));
        assertThat(describe(topic).get("cleanup.policy").value()).isEqualTo("delete,compact");

        alter(topic, op("cleanup.policy", "delete", OpType.SUBTRACT));
        assertThat(describe(topic).get("cleanup.policy").value()).isEqualTo("compact");

        assertFailsWith(admin.incrementalAlterConfigs(Map.of(topic, List.of(op("retention.ms", "1", OpType.APPEND)))).all(),
                InvalidConfigurationException.class, "Can't APPEND to key retention.ms because its type is not LIST.");
    }

    @Test
    void refusesInvalidValuesUnknownTopicsAndBrokerChangesWithoutChangingAnything() throws Exception {
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, "missing");
        ConfigResource brokerResource = new ConfigResource(ConfigResource.Type.BROKER, "0");
        Map<ConfigResource, Collection<AlterConfigOp>> ops = Map.of(
                topic, List.of(op("retention.ms", "later", OpType.SET)),
                missing, List.of(op("retention.ms", "1", OpType.SET)),
                brokerResource, List.of(op("num.partitions", "1", OpType.SET)));

        var result = admin.incrementalAlterConfigs(ops).values();

        assertFailsWith(result.get(topic), InvalidConfigurationException.class, "retention.ms");
        assertFailsWith(result.get(missing), UnknownTopicOrPartitionException.class, "missing");
        assertFailsWith(result.get(brokerResource), InvalidRequestException.class,
                "Cannot update these configs dynamically: Set(num.partitions)");
        assertThat(describe(topic).get("retention.ms").source()).isNotEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
    }

    @Test
    void validateOnlyChecksButKeepsTheOverrides() throws Exception {
        get(admin.incrementalAlterConfigs(Map.of(topic, List.of(op("retention.ms", "1000", OpType.SET))),
                new AlterConfigsOptions().validateOnly(true)).all());
        assertThat(describe(topic).get("retention.ms").value()).isEqualTo("172800000");

        assertFailsWith(admin.incrementalAlterConfigs(Map.of(topic, List.of(op("retention.ms", "x", OpType.SET))),
                new AlterConfigsOptions().validateOnly(true)).all(), InvalidConfigurationException.class, "retention.ms");
    }
}
