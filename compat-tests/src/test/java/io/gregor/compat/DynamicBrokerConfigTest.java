package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Dynamic broker configs on a single broker with the stock {@code kafka-configs} tool: a change takes effect
 * without a restart, is kept in a file beside the metadata across a restart, and bad changes get Kafka's errors.
 */
class DynamicBrokerConfigTest {
    private static final String BIG_VALUE = "x".repeat(5_000);

    private TestBroker broker;

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private ToolRunner.Result configs(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = broker.bootstrapServers();
        System.arraycopy(args, 0, all, 2, args.length);
        return ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, all);
    }

    private ToolRunner.Result succeeded(ToolRunner.Result result) {
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    private static void produceBig(KafkaProducer<String, String> producer, String topic) throws Exception {
        producer.send(new ProducerRecord<>(topic, BIG_VALUE)).get();
    }

    private static KafkaProducer<String, String> bigProducer(String bootstrap) {
        // the producer's own limit stays above the broker's, so the broker decides
        return Clients.producer(bootstrap, Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 10_000_000,
                ProducerConfig.RETRIES_CONFIG, 0));
    }

    @Test
    void messageMaxBytesLoweredRefusesALargeRecordAtOnceAndAfterARestart() throws Exception {
        broker = TestBroker.start("dynconfig-mmb", Map.of());
        String topic = TestDirs.uniqueTopic("dyn-mmb");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = bigProducer(broker.bootstrapServers())) {
            produceBig(producer, topic);

            ToolRunner.Result alter = succeeded(configs("--entity-type", "brokers", "--entity-name", "0",
                    "--alter", "--add-config", "message.max.bytes=2000"));
            assertThat(alter.stdout()).as(alter.describe()).contains("Completed updating config for broker 0.");

            // right after the tool returned: no restart, no wait
            assertThatThrownBy(() -> produceBig(producer, topic)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(RecordTooLargeException.class);
            producer.send(new ProducerRecord<>(topic, "small")).get();
        }

        ToolRunner.Result describe = succeeded(configs("--entity-type", "brokers", "--entity-name", "0", "--describe"));
        assertThat(describe.stdout()).as(describe.describe()).contains("Dynamic configs for broker 0 are:",
                "message.max.bytes=2000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=2000, "
                        + "DEFAULT_CONFIG:message.max.bytes=1048588}");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            ConfigEntry topicEntry = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, topic))
                    .get("max.message.bytes");
            assertThat(topicEntry.value()).isEqualTo("2000");
            assertThat(topicEntry.source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
        }

        broker.restart();
        try (KafkaProducer<String, String> producer = bigProducer(broker.bootstrapServers())) {
            assertThatThrownBy(() -> produceBig(producer, topic)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(RecordTooLargeException.class);
        }
        assertThat(succeeded(configs("--entity-type", "brokers", "--entity-name", "0", "--describe")).stdout())
                .contains("message.max.bytes=2000");

        // deleting the dynamic value brings the static one back, again at once
        succeeded(configs("--entity-type", "brokers", "--entity-name", "0", "--alter", "--delete-config",
                "message.max.bytes"));
        try (KafkaProducer<String, String> producer = bigProducer(broker.bootstrapServers())) {
            produceBig(producer, topic);
        }
    }

    @Test
    void clusterDefaultRetentionDeletesOldSegmentsOfTopicsWithoutAnOverride() throws Exception {
        broker = TestBroker.start("dynconfig-retention", Map.of("log.retention.check.interval.ms", "100"));
        String topic = TestDirs.uniqueTopic("dyn-retention");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            // segment.ms=1: each append after a millisecond rolls a new segment, so there are closed ones to delete
            Clients.createTopic(admin, topic, 1, Map.of("segment.ms", "1"));
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(topic, "v" + i)).get();
                }
            }
            assertThat(earliest(admin, tp)).isZero();

            ToolRunner.Result alter = succeeded(configs("--entity-type", "brokers", "--entity-default",
                    "--alter", "--add-config", "log.retention.ms=1"));
            assertThat(alter.stdout()).as(alter.describe()).contains("Completed updating default config for brokers in the cluster.");

            await().atMost(Duration.ofSeconds(30)).until(() -> earliest(admin, tp) > 0);
            ConfigEntry retention = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, topic)).get("retention.ms");
            assertThat(retention.value()).isEqualTo("1");
            assertThat(retention.source()).isEqualTo(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
        }
        ToolRunner.Result describe = succeeded(configs("--entity-type", "brokers", "--entity-default", "--describe"));
        assertThat(describe.stdout()).as(describe.describe()).contains("Default configs for brokers in the cluster are:",
                "log.retention.ms=1 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=1");
    }

    @Test
    void cleanerAndRequestThreadsResizeWithinKafkasBounds() throws Exception {
        broker = TestBroker.start("dynconfig-threads", Map.of());
        assertThat(broker.broker().logCleanerThreads()).isEqualTo(1);
        int ioThreads = broker.broker().requestThreads();

        succeeded(configs("--entity-type", "brokers", "--entity-name", "0", "--alter", "--add-config",
                "log.cleaner.threads=2,num.io.threads=" + (ioThreads + 1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> broker.broker().logCleanerThreads() == 2);
        assertThat(broker.broker().requestThreads()).isEqualTo(ioThreads + 1);

        // Kafka's rule: at most double at once; the generic message is Kafka's too
        ToolRunner.Result tooMany = configs("--entity-type", "brokers", "--entity-name", "0", "--alter",
                "--add-config", "log.cleaner.threads=5");
        assertThat(tooMany.exitCode()).as(tooMany.describe()).isNotZero();
        assertThat(tooMany.stdout() + tooMany.stderr()).as(tooMany.describe())
                .contains("InvalidRequestException", "Invalid dynamic configuration");
        assertThat(broker.broker().logCleanerThreads()).isEqualTo(2);
    }

    @Test
    void badChangesGetKafkasErrorsAndChangeNothing() throws Exception {
        broker = TestBroker.start("dynconfig-bad", Map.of());

        ToolRunner.Result nonDynamic = configs("--entity-type", "brokers", "--entity-name", "0", "--alter",
                "--add-config", "num.partitions=3");
        assertThat(nonDynamic.exitCode()).as(nonDynamic.describe()).isNotZero();
        assertThat(nonDynamic.stdout() + nonDynamic.stderr()).as(nonDynamic.describe())
                .contains("InvalidRequestException", "Cannot update these configs dynamically: Set(num.partitions)");

        ToolRunner.Result invalid = configs("--entity-type", "brokers", "--entity-name", "0", "--alter",
                "--add-config", "message.max.bytes=big");
        assertThat(invalid.exitCode()).as(invalid.describe()).isNotZero();
        assertThat(invalid.stdout() + invalid.stderr()).as(invalid.describe())
                .contains("Invalid value big for configuration message.max.bytes: Not a number of type INT");

        // deleting a key without a dynamic value is a no-op, as on Kafka's brokers
        ToolRunner.Result deleteUnset = configs("--entity-type", "brokers", "--entity-name", "0", "--alter",
                "--delete-config", "log.retention.ms");
        assertThat(deleteUnset.exitCode()).as(deleteUnset.describe()).isZero();

        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            // a broker id the cluster does not have: the metadata names no such node, so the change (which goes to
            // that broker itself) cannot be sent and fails. This is the call kafka-configs --entity-name 7 makes,
            // which fails the same way after the tool's fixed 30 s timeout; a 3 s one proves the same.
            ExecutionException otherBroker = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, "7"),
                            List.of(new AlterConfigOp(new ConfigEntry("message.max.bytes", "2000"),
                                    AlterConfigOp.OpType.SET))), new AlterConfigsOptions().timeoutMs(3_000)).all().get());
            assertThat(otherBroker.getCause()).isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("Timed out waiting for a node assignment");

            ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, "0");
            ExecutionException readOnly = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                            new ConfigEntry("broker.id", "5"), AlterConfigOp.OpType.SET)))).all().get());
            assertThat(readOnly.getCause()).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("Cannot update these configs dynamically: Set(broker.id)");

            // Kafka allows custom keys (for plugins): kept and described as dynamic
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                    new ConfigEntry("custom.plugin.setting", "on"), AlterConfigOp.OpType.SET)))).all().get();
            Config config = describe(admin, resource);
            assertThat(config.get("custom.plugin.setting").source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
            assertThat(config.get("message.max.bytes").value()).isEqualTo("1048588");
            assertThat(config.get("message.max.bytes").isReadOnly()).isFalse();
            assertThat(config.get("num.partitions").isReadOnly()).isTrue();
            assertThat(config.get("broker.id").value()).isEqualTo("0");
        }
    }

    private static Config describe(Admin admin, ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().includeSynonyms(true))
                .all().get().get(resource);
    }

    private static long earliest(Admin admin, TopicPartition tp) throws Exception {
        return admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest())).all().get()
                .get(tp).offset();
    }
}
