package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Kafka's layering, description and validation rules of dynamic broker configs (KIP-226). */
class DynamicBrokerConfigsTest {
    private final BrokerConfig base = BrokerConfig.of(Map.of("message.max.bytes", "5000", "log.retention.hours", "1"));

    private static Map<String, ConfigEntry> byName(Iterable<ConfigEntry> entries) {
        Map<String, ConfigEntry> out = new java.util.HashMap<>();
        entries.forEach(e -> out.put(e.name(), e));
        return out;
    }

    @Test
    void perBrokerBeatsTheClusterDefaultWhichBeatsStaticAndTheSynonymsSayIt() {
        BrokerConfig config = base.withDynamic(Map.of("message.max.bytes", "2000"),
                Map.of("message.max.bytes", "3000", "log.retention.ms", "60000"));

        assertThat(config.messageMaxBytes()).isEqualTo(2000);
        assertThat(config.logRetentionMs()).isEqualTo(60000L);
        ConfigEntry mmb = byName(config.describe()).get("message.max.bytes");
        assertThat(mmb.value()).isEqualTo("2000");
        assertThat(mmb.source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
        assertThat(mmb.readOnly()).isFalse();
        assertThat(mmb.synonyms()).containsExactly(
                new ConfigSynonym("message.max.bytes", "2000", ConfigSource.DYNAMIC_BROKER_CONFIG),
                new ConfigSynonym("message.max.bytes", "3000", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
                new ConfigSynonym("message.max.bytes", "5000", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigSynonym("message.max.bytes", "1048588", ConfigSource.DEFAULT_CONFIG));
        assertThat(byName(config.describe()).get("broker.id").readOnly()).isTrue();

        // the cluster default resource ("") lists the defaults alone, with their own synonyms only
        Map<String, ConfigEntry> defaults = byName(config.describeClusterDefaults());
        assertThat(defaults).containsOnlyKeys("message.max.bytes", "log.retention.ms");
        assertThat(defaults.get("message.max.bytes").value()).isEqualTo("3000");
        assertThat(defaults.get("message.max.bytes").synonyms()).containsExactly(
                new ConfigSynonym("message.max.bytes", "3000", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));

        // topics without their own override follow
        ConfigEntry topicMax = byName(TopicConfigs.describe(config, Map.of())).get("max.message.bytes");
        assertThat(topicMax.value()).isEqualTo("2000");
        assertThat(topicMax.source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
        assertThat(TopicConfigs.resolve(config, Map.of()).retentionMs()).isEqualTo(60000L);
    }

    @Test
    void customAndQuotaKeysAreKeptAndDescribed() {
        BrokerConfig config = base.withDynamic(Map.of("custom.plugin.key", "x"),
                Map.of("leader.replication.throttled.rate", "1000"));
        assertThat(config.replicationThrottledRate(true)).isEqualTo(1000L);
        assertThat(config.replicationThrottledRate(false)).isEqualTo(Long.MAX_VALUE);
        Map<String, ConfigEntry> entries = byName(config.describe());
        assertThat(entries.get("custom.plugin.key").source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
        assertThat(entries.get("custom.plugin.key").type()).isEqualTo(ConfigType.UNKNOWN);
        assertThat(entries.get("leader.replication.throttled.rate").source())
                .isEqualTo(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
        assertThat(entries.get("leader.replication.throttled.rate").type()).isEqualTo(ConfigType.LONG);
    }

    @Test
    void staticKeysAndInvalidValuesAreRefusedWithKafkasMessages() {
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(Map.of("num.partitions", "3",
                "broker.id", "4", "message.max.bytes", "1")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Cannot update these configs dynamically: Set(broker.id, num.partitions)");
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(Map.of("message.max.bytes", "big")))
                .hasMessage("Invalid value big for configuration message.max.bytes: Not a number of type INT");
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(Map.of("follower.replication.throttled.rate", "-1")))
                .hasMessageContaining("follower.replication.throttled.rate");
        DynamicBrokerConfigs.validateKeysAndValues(Map.of("log.cleaner.threads", "2", "some.custom.key", "v"));
    }

    @Test
    void threadCountsMayAtMostHalveOrDouble() {
        BrokerConfig now = BrokerConfig.of(Map.of("log.cleaner.threads", "2", "num.io.threads", "8"));
        Function<Map<String, String>, String> problem = change ->
                DynamicBrokerConfigs.reconfigurationProblem(now, now.withDynamic(change, Map.of()));
        assertThat(problem.apply(Map.of("log.cleaner.threads", "4", "num.io.threads", "16"))).isNull();
        assertThat(problem.apply(Map.of("log.cleaner.threads", "5")))
                .isEqualTo("Log cleaner threads cannot be increased to more than double the current value 2");
        assertThat(problem.apply(Map.of("log.cleaner.threads", "0"))).isEqualTo("Log cleaner threads should be at least 1");
        assertThat(problem.apply(Map.of("num.io.threads", "3"))).isEqualTo(
                "Dynamic thread count update validation failed for num.io.threads=3, value should be at least half the current value 8");
        assertThat(problem.apply(Map.of("num.io.threads", "17"))).isEqualTo(
                "Dynamic thread count update validation failed for num.io.threads=17, value should not be greater than double the current value 8");
        assertThat(DynamicBrokerConfigs.isDynamic("num.io.threads")).isTrue();
        assertThat(DynamicBrokerConfigs.isDynamic("log.retention.ms")).isTrue();
        assertThat(DynamicBrokerConfigs.isDynamic("log.retention.hours")).isFalse();
        assertThat(DynamicBrokerConfigs.isDynamic("listeners")).isFalse();
        assertThat(base.describe().stream().filter(e -> !e.readOnly()).map(ConfigEntry::name)
                .collect(Collectors.toSet())).contains("message.max.bytes", "log.cleaner.threads", "log.retention.bytes");
    }

    @Test
    void listenerKeysFollowKafkasPerBrokerAndPrefixRules() {
        String keystore = "listener.name.ssl.ssl.keystore.location";
        DynamicBrokerConfigs.validateKeysAndValues(Map.of(keystore, "/new.p12"), true);
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(Map.of(keystore, "/new.p12"), false))
                .hasMessage("Cannot update these configs at default cluster level, broker id must be specified: Set("
                        + keystore + ")");
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(Map.of("ssl.truststore.password", "x"), true))
                .hasMessage("These security configs can be dynamically updated only per-listener using the listener "
                        + "prefix: Set(ssl.truststore.password)");
        // num.network.threads is a cluster-level listener config in Kafka, with or without the prefix
        DynamicBrokerConfigs.validateKeysAndValues(Map.of("num.network.threads", "4",
                "listener.name.plaintext.num.network.threads", "2"), false);
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(
                Map.of("listener.name.plaintext.num.network.threads", "zero"), true))
                .hasMessageContaining("num.network.threads");
        // dynamic in Kafka, applied by Gregor only at a restart: Kafka's message, and why
        assertThatThrownBy(() -> DynamicBrokerConfigs.validateKeysAndValues(Map.of("max.connections", "10"), true))
                .hasMessage("Cannot update these configs dynamically: Set(max.connections) (Gregor applies "
                        + "max.connections only at a restart)");
        assertThat(DynamicBrokerConfigs.isSensitive("listener.name.ssl.ssl.key.password")).isTrue();
        assertThat(DynamicBrokerConfigs.isSensitive(keystore)).isFalse();
    }

    @Test
    void networkThreadsPerListenerAndOtherListenerConfigsAreCheckedAgainstTheRunningBroker() {
        BrokerConfig now = BrokerConfig.of(Map.of("listeners", "PLAINTEXT://:9092,SSL://:9093",
                "num.network.threads", "3", "listener.name.ssl.num.network.threads", "2"));
        assertThat(now.networkThreads("PLAINTEXT")).isEqualTo(3);
        assertThat(now.networkThreads("SSL")).isEqualTo(2);
        Function<Map<String, String>, String> problem = change ->
                DynamicBrokerConfigs.reconfigurationProblem(now, now.withDynamic(change, Map.of()));
        assertThat(problem.apply(Map.of("num.network.threads", "6"))).isNull();
        assertThat(problem.apply(Map.of("listener.name.ssl.num.network.threads", "5"))).isEqualTo(
                "Dynamic thread count update validation failed for num.network.threads=5, value should not be greater "
                        + "than double the current value 2");
        assertThat(problem.apply(Map.of("num.replica.fetchers", "3"))).isEqualTo(
                "Dynamic thread count update validation failed for num.replica.fetchers=3, value should not be greater "
                        + "than double the current value 1");
        assertThat(problem.apply(Map.of("listener.name.ssl.ssl.keystore.location", "/renewed.p12"))).isNull();
        assertThat(problem.apply(Map.of("listener.name.ssl.ssl.cipher.suites", "TLS_AES_128_GCM_SHA256"))).isEqualTo(
                "Configs cannot be updated dynamically for existing listener ListenerName(SSL), restart broker or "
                        + "create a new listener for update");
        assertThat(now.withDynamic(Map.of("listener.name.ssl.ssl.keystore.location", "/renewed.p12"), Map.of())
                .listenerConfigs("SSL")).containsEntry("ssl.keystore.location", "/renewed.p12");
    }
}
