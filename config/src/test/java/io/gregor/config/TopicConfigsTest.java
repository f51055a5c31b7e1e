package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicConfigsTest {
    private static final BrokerConfig DEFAULT_BROKER = BrokerConfig.of(Map.of());

    @Test
    void namesAreExactlyKafka44sTopicConfigs() {
        assertThat(TopicConfigs.names()).containsExactlyInAnyOrder(
                "cleanup.policy", "compression.gzip.level", "compression.lz4.level", "compression.type",
                "compression.zstd.level", "delete.retention.ms", "errors.deadletterqueue.group.enable",
                "file.delete.delay.ms", "flush.messages", "flush.ms", "follower.replication.throttled.replicas",
                "index.interval.bytes", "leader.replication.throttled.replicas", "local.retention.bytes",
                "local.retention.ms", "max.compaction.lag.ms", "max.decompressed.message.bytes", "max.message.bytes",
                "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "message.timestamp.type",
                "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
                "remote.copy.lag.bytes", "remote.copy.lag.ms", "remote.log.copy.disable", "remote.log.delete.on.disable",
                "remote.storage.enable", "retention.bytes", "retention.ms", "segment.bytes", "segment.index.bytes",
                "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable");
    }

    @Test
    void defaultsAreKafkas() {
        ResolvedTopicConfig config = TopicConfigs.resolve(DEFAULT_BROKER, Map.of());
        assertThat(config.segmentBytes()).isEqualTo(1073741824);
        assertThat(config.segmentMs()).isEqualTo(604800000L);
        assertThat(config.segmentJitterMs()).isZero();
        assertThat(config.retentionMs()).isEqualTo(604800000L);
        assertThat(config.retentionBytes()).isEqualTo(-1L);
        assertThat(config.indexIntervalBytes()).isEqualTo(4096);
        assertThat(config.segmentIndexBytes()).isEqualTo(10485760);
        assertThat(config.flushMessages()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.flushMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.maxMessageBytes()).isEqualTo(1048588);
        assertThat(config.logAppendTime()).isFalse();
        assertThat(config.fileDeleteDelayMs()).isEqualTo(60000L);
        assertThat(config.cleanupPolicy()).containsExactly("delete");
        assertThat(config.delete()).isTrue();
        assertThat(config.compact()).isFalse();
        assertThat(config.minInsyncReplicas()).isEqualTo(1);
        assertThat(config.deleteRetentionMs()).isEqualTo(86400000L);
        assertThat(config.minCleanableDirtyRatio()).isEqualTo(0.5);
        assertThat(config.minCompactionLagMs()).isZero();
        assertThat(config.maxCompactionLagMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.compressionType()).isEqualTo("producer");
        assertThat(config.messageTimestampBeforeMaxMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.messageTimestampAfterMaxMs()).isEqualTo(3600000L);
        assertThat(config.preallocate()).isFalse();
        assertThat(config.uncleanLeaderElectionEnable()).isFalse();
        assertThat(config.get("local.retention.ms")).isEqualTo("-2");
        assertThat(config.get("leader.replication.throttled.replicas")).isEmpty();
        assertThat(config.get("nope")).isNull();
    }

    @Test
    void validateAcceptsGoodOverrides() {
        TopicConfigs.validate(Map.of("cleanup.policy", "compact, delete", "retention.ms", "-1",
                "message.timestamp.type", "LogAppendTime", "leader.replication.throttled.replicas", "0:1,1:2",
                "follower.replication.throttled.replicas", "*", "min.cleanable.dirty.ratio", "0.1"));
        Map<String, String> removal = new HashMap<>();
        removal.put("retention.ms", null);
        TopicConfigs.validate(removal);
    }

    @Test
    void unknownKeyIsRejectedNamingIt() {
        assertThatThrownBy(() -> TopicConfigs.validate(Map.of("retention.hours", "1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("retention.hours")
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("retention.hours");
    }

    @Test
    void badValuesAreRejectedNamingTheKey() {
        Map<String, String> bad = Map.of(
                "retention.ms", "-5",
                "segment.bytes", "100",
                "cleanup.policy", "shred",
                "compression.type", "ZSTD",
                "message.timestamp.type", "logappendtime",
                "min.insync.replicas", "0",
                "max.message.bytes", "big",
                "min.cleanable.dirty.ratio", "1.5",
                "preallocate", "maybe",
                "leader.replication.throttled.replicas", "0-1");
        bad.forEach((key, value) -> assertThatThrownBy(() -> TopicConfigs.validate(Map.of(key, value)))
                .as(key + "=" + value)
                .isInstanceOf(ConfigException.class).hasMessageContaining(key).hasMessageContaining(value));
    }

    @Test
    void conflictingCompactionLagsAndTieredStorageAreRejected() {
        assertThatThrownBy(() -> TopicConfigs.validate(Map.of("min.compaction.lag.ms", "10", "max.compaction.lag.ms", "5")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("min.compaction.lag.ms");
        assertThatThrownBy(() -> TopicConfigs.validate(Map.of("remote.storage.enable", "true")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("remote.storage.enable");
    }

    @Test
    void resolveOverrideBeatsBrokerSynonymBeatsDefault() {
        BrokerConfig broker = BrokerConfig.of(Map.of(
                "log.retention.hours", "24",
                "log.roll.ms", "5000",
                "log.segment.bytes", "2097152",
                "message.max.bytes", "2000000",
                "log.cleanup.policy", "compact",
                "log.message.timestamp.type", "LogAppendTime",
                "log.flush.scheduler.interval.ms", "3000"));
        ResolvedTopicConfig fromBroker = TopicConfigs.resolve(broker, Map.of());
        assertThat(fromBroker.retentionMs()).isEqualTo(24 * 3_600_000L);
        assertThat(fromBroker.segmentMs()).isEqualTo(5000L);
        assertThat(fromBroker.segmentBytes()).isEqualTo(2097152);
        assertThat(fromBroker.maxMessageBytes()).isEqualTo(2000000);
        assertThat(fromBroker.cleanupPolicy()).containsExactly("compact");
        assertThat(fromBroker.logAppendTime()).isTrue();
        assertThat(fromBroker.flushMs()).isEqualTo(3000L);
        assertThat(fromBroker.indexIntervalBytes()).isEqualTo(4096);

        ResolvedTopicConfig overridden = TopicConfigs.resolve(broker, Map.of("retention.ms", "1000",
                "segment.bytes", "1048576", "cleanup.policy", "delete,compact", "message.timestamp.type", "CreateTime"));
        assertThat(overridden.retentionMs()).isEqualTo(1000L);
        assertThat(overridden.segmentBytes()).isEqualTo(1048576);
        assertThat(overridden.cleanupPolicy()).containsExactly("delete", "compact");
        assertThat(overridden.get("cleanup.policy")).isEqualTo("delete,compact");
        assertThat(overridden.logAppendTime()).isFalse();
        assertThat(overridden.segmentMs()).isEqualTo(5000L);
    }

    @Test
    void resolveRejectsInvalidOverrides() {
        assertThatThrownBy(() -> TopicConfigs.resolve(DEFAULT_BROKER, Map.of("segment.ms", "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("segment.ms");
    }

    @Test
    void describeReportsSourcesAndSynonymsInKafkasOrder() {
        BrokerConfig broker = BrokerConfig.of(Map.of("log.retention.minutes", "60", "log.segment.bytes", "2097152"));
        List<ConfigEntry> entries = TopicConfigs.describe(broker, Map.of("retention.ms", "1000", "preallocate", "true"));
        Map<String, ConfigEntry> byName = new HashMap<>();
        entries.forEach(e -> byName.put(e.name(), e));
        assertThat(entries).extracting(ConfigEntry::name).isSorted().hasSize(TopicConfigs.names().size());
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.readOnly()).isFalse();
            assertThat(e.sensitive()).isFalse();
            assertThat(e.documentation()).isNotBlank();
        });

        ConfigEntry retention = byName.get("retention.ms");
        assertThat(retention.value()).isEqualTo("1000");
        assertThat(retention.source()).isEqualTo(ConfigSource.TOPIC_CONFIG);
        assertThat(retention.type()).isEqualTo(ConfigType.LONG);
        assertThat(retention.synonyms()).containsExactly(
                new ConfigSynonym("retention.ms", "1000", ConfigSource.TOPIC_CONFIG),
                new ConfigSynonym("log.retention.minutes", "60", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigSynonym("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG));

        ConfigEntry segmentBytes = byName.get("segment.bytes");
        assertThat(segmentBytes.value()).isEqualTo("2097152");
        assertThat(segmentBytes.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(segmentBytes.synonyms()).containsExactly(
                new ConfigSynonym("log.segment.bytes", "2097152", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigSynonym("log.segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG));

        ConfigEntry segmentMs = byName.get("segment.ms");
        assertThat(segmentMs.value()).isEqualTo("604800000");
        assertThat(segmentMs.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
        assertThat(segmentMs.synonyms()).containsExactly(
                new ConfigSynonym("log.roll.hours", "168", ConfigSource.DEFAULT_CONFIG));

        ConfigEntry maxMessageBytes = byName.get("max.message.bytes");
        assertThat(maxMessageBytes.synonyms()).containsExactly(
                new ConfigSynonym("message.max.bytes", "1048588", ConfigSource.DEFAULT_CONFIG));

        ConfigEntry preallocate = byName.get("preallocate");
        assertThat(preallocate.value()).isEqualTo("true");
        assertThat(preallocate.source()).isEqualTo(ConfigSource.TOPIC_CONFIG);
        assertThat(preallocate.type()).isEqualTo(ConfigType.BOOLEAN);

        ConfigEntry topicOnly = byName.get("remote.storage.enable");
        assertThat(topicOnly.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
        assertThat(topicOnly.synonyms()).isEmpty();
        assertThat(topicOnly.value()).isEqualTo("false");
    }
}
