package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Group configs as Kafka 4.4's GroupConfig: keys, values from the broker's synonyms, sources and bounds. */
class GroupConfigsTest {
    private static ConfigEntry entry(List<ConfigEntry> entries, String name) {
        return entries.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void describesKafkasNonInternalKeysWithTheBrokersValuesAndSynonyms() {
        BrokerConfig broker = BrokerConfig.of(Map.of("group.consumer.session.timeout.ms", "50000"));
        List<ConfigEntry> entries = GroupConfigs.describe(broker, Map.of("share.auto.offset.reset", "earliest"));
        assertThat(entries).extracting(ConfigEntry::name).containsExactly(
                "consumer.assignment.interval.ms", "consumer.heartbeat.interval.ms", "consumer.session.timeout.ms",
                "errors.deadletterqueue.copy.record.enable", "errors.deadletterqueue.topic.name",
                "share.assignment.interval.ms", "share.auto.offset.reset", "share.delivery.count.limit",
                "share.heartbeat.interval.ms", "share.isolation.level", "share.partition.max.record.locks",
                "share.record.lock.duration.ms", "share.renew.acknowledge.enable", "share.session.timeout.ms",
                "streams.assignment.interval.ms", "streams.assignor.name", "streams.heartbeat.interval.ms",
                "streams.initial.rebalance.delay.ms", "streams.num.standby.replicas",
                "streams.rack.aware.assignment.tags", "streams.session.timeout.ms");

        ConfigEntry session = entry(entries, "consumer.session.timeout.ms");
        assertThat(session.value()).isEqualTo("50000");
        assertThat(session.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(session.synonyms()).containsExactly(
                new ConfigSynonym("group.consumer.session.timeout.ms", "50000", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigSynonym("group.consumer.session.timeout.ms", "45000", ConfigSource.DEFAULT_CONFIG));

        ConfigEntry reset = entry(entries, "share.auto.offset.reset");
        assertThat(reset.source()).isEqualTo(ConfigSource.GROUP_CONFIG);
        assertThat(reset.synonyms()).containsExactly(
                new ConfigSynonym("share.auto.offset.reset", "earliest", ConfigSource.GROUP_CONFIG),
                new ConfigSynonym("share.auto.offset.reset", "latest", ConfigSource.DEFAULT_CONFIG));
        assertThat(entry(entries, "streams.assignor.name").value()).isEqualTo("sticky");

        assertThat(GroupConfigs.intValue(broker, Map.of(), "consumer.session.timeout.ms")).isEqualTo(50000);
        assertThat(GroupConfigs.intValue(broker, Map.of("consumer.session.timeout.ms", "55000"),
                "consumer.session.timeout.ms")).isEqualTo(55000);
        // set when the bounds were wider: clamped to today's
        assertThat(GroupConfigs.intValue(broker, Map.of("consumer.session.timeout.ms", "90000"),
                "consumer.session.timeout.ms")).isEqualTo(60000);
        assertThat(GroupConfigs.intValue(broker, Map.of("share.record.lock.duration.ms", "1000"),
                "share.record.lock.duration.ms")).isEqualTo(15000);
    }

    @Test
    void refusesWhatKafkaRefuses() {
        BrokerConfig broker = BrokerConfig.of(Map.of());
        assertThatThrownBy(() -> GroupConfigs.validate(broker, Map.of("consumer.session.timeout.ms", "44000")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("consumer.session.timeout.ms must be in the range 45000 to 60000 inclusive.");
        assertThatThrownBy(() -> GroupConfigs.validate(broker, Map.of("share.auto.offset.reset", "by_duration:-PT1H")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("share.auto.offset.reset");
        assertThatThrownBy(() -> GroupConfigs.validate(broker, Map.of("streams.num.standby.replicas", "3")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("streams.num.standby.replicas must be less than or equal to 2");
        assertThatThrownBy(() -> GroupConfigs.validate(broker, Map.of("errors.deadletterqueue.topic.name", "__dlq")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("must not start with '__'");
        GroupConfigs.validate(broker, Map.of("share.auto.offset.reset", "by_duration:PT1H",
                "share.isolation.level", "read_committed", "streams.rack.aware.assignment.tags", "zone,rack"));
    }
}
