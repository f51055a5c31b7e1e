package io.gregor.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BrokerConfigLoadTest {
    @TempDir
    Path dir;

    private Path write(String content) throws IOException {
        Path file = dir.resolve("server.properties");
        Files.writeString(file, content);
        return file;
    }

    @Test
    void fileValuesAreReadAndOverridesWin() throws IOException {
        Path file = write("""
                # comment
                broker.id=4
                num.partitions = 3
                log.dirs=/data/a,/data/b
                auto.create.topics.enable=false
                """);
        BrokerConfig config = BrokerConfig.load(file, List.of("num.partitions=7", "log.retention.ms=1000"));
        assertThat(config.brokerId()).isEqualTo(4);
        assertThat(config.numPartitions()).isEqualTo(7);
        assertThat(config.logDirs()).containsExactly(Path.of("/data/a"), Path.of("/data/b"));
        assertThat(config.autoCreateTopicsEnable()).isFalse();
        assertThat(config.logRetentionMs()).isEqualTo(1000L);
        assertThat(config.originals()).containsEntry("num.partitions", "7").containsEntry("broker.id", "4");
    }

    @Test
    void overrideValuesMayContainEqualsSigns() throws IOException {
        BrokerConfig config = BrokerConfig.load(write(""), List.of("zookeeper.connect=zk:2181/a=b"));
        assertThat(config.zookeeperConnect()).contains("zk:2181/a=b");
    }

    @Test
    void malformedOverrideIsRejected() throws IOException {
        Path file = write("");
        assertThatThrownBy(() -> BrokerConfig.load(file, List.of("num.partitions")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("num.partitions");
    }

    @Test
    void missingFileIsAConfigException() {
        assertThatThrownBy(() -> BrokerConfig.load(dir.resolve("absent.properties"), List.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("absent.properties");
    }

    @Test
    void unknownKeysAreKeptInOriginals() {
        BrokerConfig config = BrokerConfig.of(Map.of("some.plugin.setting", "x", "num.partitions", "2"));
        assertThat(config.originals()).containsEntry("some.plugin.setting", "x");
        assertThat(config.unknownKeys()).containsExactly("some.plugin.setting");
        assertThat(config.get("some.plugin.setting")).isNull();
    }

    @Test
    void invalidIntegerNamesKeyAndValue() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("num.io.threads", "eight")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("num.io.threads").hasMessageContaining("eight")
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("num.io.threads");
    }

    @Test
    void invalidBooleanNamesKey() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("delete.topic.enable", "yes")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("delete.topic.enable");
    }

    @Test
    void invalidReplicationSettingsNameTheirKey() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("replica.lag.time.max.ms", "soon")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("replica.lag.time.max.ms");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("controlled.shutdown.enable", "maybe")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("controlled.shutdown.enable");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("leader.imbalance.check.interval.seconds", "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("leader.imbalance.check.interval.seconds");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("replica.lag.time.max.ms", "400")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("replica.fetch.wait.max.ms");
    }

    @Test
    void consumerGroupProtocolSettingsAreCheckedAgainstTheirBounds() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("group.consumer.heartbeat.interval.ms", "1000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("group.consumer.heartbeat.interval.ms")
                .hasMessageContaining("group.consumer.min.heartbeat.interval.ms");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("group.consumer.session.timeout.ms", "90000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("group.consumer.session.timeout.ms")
                .hasMessageContaining("group.consumer.max.session.timeout.ms");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("group.consumer.assignors", "uniform,sticky")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("group.consumer.assignors")
                .hasMessageContaining("sticky");
        BrokerConfig ok = BrokerConfig.of(Map.of("group.consumer.min.heartbeat.interval.ms", "500",
                "group.consumer.heartbeat.interval.ms", "500",
                "group.consumer.assignors", "org.apache.kafka.coordinator.group.assignor.RangeAssignor"));
        assertThat(ok.groupConsumerHeartbeatIntervalMs()).isEqualTo(500);
        assertThat(ok.groupConsumerSessionTimeoutMs()).isEqualTo(45000);
        assertThat(ok.groupConsumerAssignors()).containsExactly("org.apache.kafka.coordinator.group.assignor.RangeAssignor");
    }

    @Test
    void unknownEnumValueNamesKey() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("compression.type", "brotli")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("compression.type").hasMessageContaining("brotli");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("log.message.timestamp.type", "WallClock")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.message.timestamp.type");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("log.cleanup.policy", "delete,shred")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.cleanup.policy");
    }

    @Test
    void negativeWhereForbiddenNamesKey() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("num.partitions", "-1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("num.partitions").hasMessageContaining("-1");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("offsets.topic.replication.factor", "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("offsets.topic.replication.factor");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("log.segment.bytes", "1000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.segment.bytes");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("node.id", "-3")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("node.id");
    }

    @Test
    void nodeIdStandsForBrokerIdAndMustAgreeWithIt() {
        assertThat(BrokerConfig.of(Map.of("node.id", "5")).brokerId()).isEqualTo(5);
        assertThat(BrokerConfig.of(Map.of("broker.id", "6")).brokerId()).isEqualTo(6);
        assertThat(BrokerConfig.of(Map.of("broker.id", "6", "node.id", "6")).brokerId()).isEqualTo(6);
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("broker.id", "1", "node.id", "2")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("node.id");
    }

    @Test
    void logDirsFallsBackToLogDirAndRejectsEmpty() {
        assertThat(BrokerConfig.of(Map.of("log.dir", "/x")).logDirs()).containsExactly(Path.of("/x"));
        assertThat(BrokerConfig.of(Map.of("log.dir", "/x", "log.dirs", "/y")).logDirs()).containsExactly(Path.of("/y"));
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("log.dirs", " ")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.dirs");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("log.dirs", "/a,/a")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.dirs");
    }

    @Test
    void retentionPrecedenceIsMsOverMinutesOverHours() {
        assertThat(BrokerConfig.of(Map.of("log.retention.hours", "2")).logRetentionMs()).isEqualTo(2 * 3_600_000L);
        assertThat(BrokerConfig.of(Map.of("log.retention.hours", "2", "log.retention.minutes", "3")).logRetentionMs())
                .isEqualTo(3 * 60_000L);
        assertThat(BrokerConfig.of(Map.of("log.retention.hours", "2", "log.retention.minutes", "3",
                "log.retention.ms", "500")).logRetentionMs()).isEqualTo(500L);
        assertThat(BrokerConfig.of(Map.of("log.retention.ms", "-1")).logRetentionMs()).isEqualTo(-1L);
        assertThat(BrokerConfig.of(Map.of("log.retention.hours", "-5")).logRetentionMs()).isEqualTo(-1L);
    }

    @Test
    void rollAndFlushPrecedence() {
        assertThat(BrokerConfig.of(Map.of("log.roll.hours", "1")).logRollMs()).isEqualTo(3_600_000L);
        assertThat(BrokerConfig.of(Map.of("log.roll.hours", "1", "log.roll.ms", "42")).logRollMs()).isEqualTo(42L);
        assertThat(BrokerConfig.of(Map.of("log.roll.jitter.hours", "1")).logRollJitterMs()).isEqualTo(3_600_000L);
        assertThat(BrokerConfig.of(Map.of("log.roll.jitter.hours", "1", "log.roll.jitter.ms", "7")).logRollJitterMs())
                .isEqualTo(7L);
        assertThat(BrokerConfig.of(Map.of("log.flush.scheduler.interval.ms", "900")).logFlushIntervalMs()).isEqualTo(900L);
        assertThat(BrokerConfig.of(Map.of("log.flush.scheduler.interval.ms", "900", "log.flush.interval.ms", "10"))
                .logFlushIntervalMs()).isEqualTo(10L);
    }

    @Test
    void describeReportsStaticSourceAndSynonymsInKafkasOrder() {
        BrokerConfig config = BrokerConfig.of(Map.of("log.retention.minutes", "30", "num.partitions", "4"));
        Map<String, ConfigEntry> byName = new java.util.HashMap<>();
        config.describe().forEach(e -> byName.put(e.name(), e));

        ConfigEntry partitions = byName.get("num.partitions");
        assertThat(partitions.value()).isEqualTo("4");
        assertThat(partitions.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(partitions.synonyms()).containsExactly(
                new ConfigSynonym("num.partitions", "4", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigSynonym("num.partitions", "1", ConfigSource.DEFAULT_CONFIG));

        // Kafka drops the synonyms ahead of the described key: the minutes that win are log.retention.minutes' own
        ConfigEntry minutes = byName.get("log.retention.minutes");
        assertThat(minutes.value()).isEqualTo("30");
        assertThat(minutes.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(minutes.synonyms()).containsExactly(
                new ConfigSynonym("log.retention.minutes", "30", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigSynonym("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG));
        ConfigEntry hours = byName.get("log.retention.hours");
        assertThat(hours.value()).isEqualTo("168");
        assertThat(hours.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
        assertThat(hours.synonyms()).containsExactly(new ConfigSynonym("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG));

        ConfigEntry ms = byName.get("log.retention.ms");
        assertThat(ms.value()).isNull();
        assertThat(ms.type()).isEqualTo(ConfigType.LONG);
    }
}
