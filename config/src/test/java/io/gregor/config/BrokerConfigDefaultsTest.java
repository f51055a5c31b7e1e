package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every getter's default equals Kafka's (values checked against the Kafka 4.4 / 3.9 definitions). */
class BrokerConfigDefaultsTest {
    private final BrokerConfig config = BrokerConfig.of(Map.of());

    @Test
    void identityAndNetworkDefaults() {
        assertThat(config.brokerId()).isEqualTo(-1);
        assertThat(config.rack()).isEmpty();
        assertThat(config.listeners()).containsExactly(new Endpoint("PLAINTEXT", "PLAINTEXT", "", 9092));
        assertThat(config.advertisedListeners()).isEqualTo(config.listeners());
        assertThat(config.numNetworkThreads()).isEqualTo(3);
        assertThat(config.numIoThreads()).isEqualTo(8);
        assertThat(config.backgroundThreads()).isEqualTo(10);
        assertThat(config.queuedMaxRequests()).isEqualTo(500);
        assertThat(config.queuedMaxRequestBytes()).isEqualTo(-1L);
        assertThat(config.socketSendBufferBytes()).isEqualTo(102400);
        assertThat(config.socketReceiveBufferBytes()).isEqualTo(102400);
        assertThat(config.socketRequestMaxBytes()).isEqualTo(104857600);
        assertThat(config.socketListenBacklogSize()).isEqualTo(50);
        assertThat(config.connectionsMaxIdleMs()).isEqualTo(600000L);
        assertThat(config.maxConnections()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.maxConnectionsPerIp()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.requestTimeoutMs()).isEqualTo(30000);
        assertThat(config.fetchMaxBytes()).isEqualTo(57671680);
        assertThat(config.maxIncrementalFetchSessionCacheSlots()).isEqualTo(1000);
    }

    @Test
    void topicDefaults() {
        assertThat(config.autoCreateTopicsEnable()).isTrue();
        assertThat(config.deleteTopicEnable()).isTrue();
        assertThat(config.numPartitions()).isEqualTo(1);
        assertThat(config.defaultReplicationFactor()).isEqualTo((short) 1);
        assertThat(config.minInsyncReplicas()).isEqualTo(1);
        assertThat(config.uncleanLeaderElectionEnable()).isFalse();
        assertThat(config.compressionType()).isEqualTo("producer");
        assertThat(config.messageMaxBytes()).isEqualTo(1048588);
    }

    @Test
    void logDefaults() {
        assertThat(config.logDirs()).containsExactly(Path.of("/tmp/kafka-logs"));
        assertThat(config.logSegmentBytes()).isEqualTo(1 << 30);
        assertThat(config.logRollMs()).isEqualTo(168L * 3600 * 1000);
        assertThat(config.logRollJitterMs()).isZero();
        assertThat(config.logRetentionMs()).isEqualTo(168L * 3600 * 1000);
        assertThat(config.logRetentionBytes()).isEqualTo(-1L);
        assertThat(config.logRetentionCheckIntervalMs()).isEqualTo(300000L);
        assertThat(config.logIndexSizeMaxBytes()).isEqualTo(10485760);
        assertThat(config.logIndexIntervalBytes()).isEqualTo(4096);
        assertThat(config.logFlushIntervalMessages()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.logFlushIntervalMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.logFlushSchedulerIntervalMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(config.logFlushOffsetCheckpointIntervalMs()).isEqualTo(60000L);
        assertThat(config.logFlushStartOffsetCheckpointIntervalMs()).isEqualTo(60000L);
        assertThat(config.logSegmentDeleteDelayMs()).isEqualTo(60000L);
        assertThat(config.logCleanupPolicy()).containsExactly("delete");
        assertThat(config.logCleanerEnable()).isTrue();
        assertThat(config.logCleanerThreads()).isEqualTo(1);
        assertThat(config.logCleanerBackoffMs()).isEqualTo(15000L);
        assertThat(config.logCleanerDedupeBufferSize()).isEqualTo(134217728L);
        assertThat(config.logCleanerIoBufferSize()).isEqualTo(524288);
        assertThat(config.logCleanerMinCleanableRatio()).isEqualTo(0.5);
        assertThat(config.logCleanerDeleteRetentionMs()).isEqualTo(86400000L);
        assertThat(config.logPreallocate()).isFalse();
        assertThat(config.logMessageTimestampType()).isEqualTo("CreateTime");
        assertThat(config.logInitialTaskDelayMs()).isEqualTo(30000L);
        assertThat(config.numRecoveryThreadsPerDataDir()).isEqualTo(2);
    }

    @Test
    void groupAndOffsetsDefaults() {
        assertThat(config.groupInitialRebalanceDelayMs()).isEqualTo(3000L);
        assertThat(config.groupMinSessionTimeoutMs()).isEqualTo(6000);
        assertThat(config.groupMaxSessionTimeoutMs()).isEqualTo(1800000);
        assertThat(config.groupMaxSize()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.groupCoordinatorRebalanceProtocols()).containsExactly("classic", "consumer", "streams");
        assertThat(config.groupCoordinatorThreads()).isEqualTo(4);
        assertThat(config.groupCoordinatorBackgroundThreads()).isEqualTo(2);
        assertThat(config.groupCoordinatorAppendLingerMs()).isEqualTo(-1);
        assertThat(config.groupConsumerSessionTimeoutMs()).isEqualTo(45000);
        assertThat(config.groupConsumerMinSessionTimeoutMs()).isEqualTo(45000);
        assertThat(config.groupConsumerMaxSessionTimeoutMs()).isEqualTo(60000);
        assertThat(config.groupConsumerHeartbeatIntervalMs()).isEqualTo(5000);
        assertThat(config.groupConsumerMinHeartbeatIntervalMs()).isEqualTo(5000);
        assertThat(config.groupConsumerMaxHeartbeatIntervalMs()).isEqualTo(15000);
        assertThat(config.groupConsumerMaxSize()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.groupConsumerAssignors()).containsExactly("uniform", "range");
        assertThat(config.groupConsumerMigrationPolicy()).isEqualTo("bidirectional");
        assertThat(config.groupConsumerRegexRefreshIntervalMs()).isEqualTo(600000);
        assertThat(config.offsetMetadataMaxBytes()).isEqualTo(4096);
        assertThat(config.offsetsLoadBufferSize()).isEqualTo(5242880);
        assertThat(config.offsetsTopicNumPartitions()).isEqualTo(50);
        assertThat(config.offsetsTopicReplicationFactor()).isEqualTo((short) 3);
        assertThat(config.offsetsTopicSegmentBytes()).isEqualTo(104857600);
        assertThat(config.offsetsTopicCompressionCodec()).isZero();
        assertThat(config.offsetsRetentionMinutes()).isEqualTo(10080);
        assertThat(config.offsetsRetentionMs()).isEqualTo(7L * 24 * 3600 * 1000);
        assertThat(config.offsetsRetentionCheckIntervalMs()).isEqualTo(600000L);
        assertThat(config.offsetsCommitTimeoutMs()).isEqualTo(5000);
    }

    @Test
    void transactionAndZooKeeperDefaults() {
        assertThat(config.transactionalIdExpirationMs()).isEqualTo(604800000);
        assertThat(config.transactionMaxTimeoutMs()).isEqualTo(900000);
        assertThat(config.transactionStateLogNumPartitions()).isEqualTo(50);
        assertThat(config.transactionStateLogReplicationFactor()).isEqualTo((short) 3);
        assertThat(config.transactionStateLogSegmentBytes()).isEqualTo(104857600);
        assertThat(config.transactionStateLogMinIsr()).isEqualTo(2);
        assertThat(config.transactionAbortTimedOutTransactionCleanupIntervalMs()).isEqualTo(10000);
        assertThat(config.transactionRemoveExpiredTransactionCleanupIntervalMs()).isEqualTo(3600000);
        assertThat(config.producerIdExpirationMs()).isEqualTo(86400000);
        assertThat(config.producerIdExpirationCheckIntervalMs()).isEqualTo(600000);
        assertThat(config.zookeeperConnect()).isEmpty();
        assertThat(config.zookeeperSessionTimeoutMs()).isEqualTo(18000);
        assertThat(config.zookeeperConnectionTimeoutMs()).isEqualTo(18000);
    }

    @Test
    void replicationDefaultsAreKafkas() {
        assertThat(config.replicaLagTimeMaxMs()).isEqualTo(30000L);
        assertThat(config.replicaFetchWaitMaxMs()).isEqualTo(500);
        assertThat(config.replicaFetchMinBytes()).isEqualTo(1);
        assertThat(config.replicaFetchMaxBytes()).isEqualTo(1048576);
        assertThat(config.replicaFetchResponseMaxBytes()).isEqualTo(10485760);
        assertThat(config.replicaFetchBackoffMs()).isEqualTo(1000);
        assertThat(config.replicaSocketTimeoutMs()).isEqualTo(30000);
        assertThat(config.replicaSocketReceiveBufferBytes()).isEqualTo(65536);
        assertThat(config.numReplicaFetchers()).isEqualTo(1);
        assertThat(config.replicaHighWatermarkCheckpointIntervalMs()).isEqualTo(5000L);
        assertThat(config.controlledShutdownEnable()).isTrue();
        assertThat(config.controlledShutdownMaxRetries()).isEqualTo(3);
        assertThat(config.controlledShutdownRetryBackoffMs()).isEqualTo(5000L);
        assertThat(config.autoLeaderRebalanceEnable()).isTrue();
        assertThat(config.leaderImbalancePerBrokerPercentage()).isEqualTo(10);
        assertThat(config.leaderImbalanceCheckIntervalSeconds()).isEqualTo(300L);
    }

    @Test
    void getReturnsKafkaStringFormsAndNullForUnsetKeysWithoutDefault() {
        assertThat(config.get("listeners")).isEqualTo("PLAINTEXT://:9092");
        assertThat(config.get("log.cleanup.policy")).isEqualTo("delete");
        assertThat(config.get("log.retention.hours")).isEqualTo("168");
        assertThat(config.get("log.retention.ms")).isNull();
        assertThat(config.get("zookeeper.connect")).isNull();
        assertThat(config.get("no.such.key")).isNull();
        assertThat(config.originals()).isEmpty();
    }

    @Test
    void describeListsEveryKnownKeyWithDefaultSource() {
        List<ConfigEntry> entries = config.describe();
        assertThat(entries).extracting(ConfigEntry::name).contains("broker.id", "listeners", "log.dirs",
                "num.partitions", "offsets.topic.replication.factor", "zookeeper.connect").isSorted();
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
            // only the keys Kafka lets change at runtime (kafka-configs --alter) are writable
            assertThat(e.readOnly()).isEqualTo(!DynamicBrokerConfigs.isDynamic(e.name()));
            assertThat(e.documentation()).isNotBlank();
        });
        ConfigEntry partitions = entries.stream().filter(e -> e.name().equals("num.partitions")).findFirst().orElseThrow();
        assertThat(partitions.value()).isEqualTo("1");
        assertThat(partitions.type()).isEqualTo(ConfigType.INT);
        assertThat(partitions.synonyms()).containsExactly(new ConfigSynonym("num.partitions", "1", ConfigSource.DEFAULT_CONFIG));
        ConfigEntry rf = entries.stream().filter(e -> e.name().equals("offsets.topic.replication.factor")).findFirst().orElseThrow();
        assertThat(rf.type()).isEqualTo(ConfigType.SHORT);
        assertThat(rf.type().id()).isEqualTo((byte) 4);
    }

    @Test
    void wireIdsAreKafkas() {
        assertThat(ConfigSource.STATIC_BROKER_CONFIG.id()).isEqualTo((byte) 4);
        assertThat(ConfigSource.DEFAULT_CONFIG.id()).isEqualTo((byte) 5);
        assertThat(ConfigSource.TOPIC_CONFIG.id()).isEqualTo((byte) 1);
        assertThat(ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG.id()).isEqualTo((byte) 6);
        assertThat(ConfigType.PASSWORD.id()).isEqualTo((byte) 9);
        assertThat(ConfigType.LIST.id()).isEqualTo((byte) 7);
        assertThat(ConfigType.BOOLEAN.id()).isEqualTo((byte) 1);
    }
}
