package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** group.share.* and share.coordinator.*: Kafka 4.4's defaults, and bad values fail the start naming the key. */
class ShareGroupSettingsTest {
    @Test
    void kafkasDefaults() {
        ShareGroupSettings s = BrokerConfig.of(Map.of()).shareGroups();
        assertThat(s.sessionTimeoutMs()).isEqualTo(45000);
        assertThat(s.heartbeatIntervalMs()).isEqualTo(5000);
        assertThat(s.maxSize()).isEqualTo(200);
        assertThat(s.recordLockDurationMs()).isEqualTo(30000);
        assertThat(s.minRecordLockDurationMs()).isEqualTo(15000);
        assertThat(s.maxRecordLockDurationMs()).isEqualTo(60000);
        assertThat(s.deliveryCountLimit()).isEqualTo(5);
        assertThat(s.partitionMaxRecordLocks()).isEqualTo(2000);
        assertThat(s.maxShareSessions()).isEqualTo(2000);
        assertThat(s.stateTopicPartitions()).isEqualTo(50);
        assertThat(s.stateTopicReplicationFactor()).isEqualTo((short) 3);
        assertThat(s.stateTopicMinIsr()).isEqualTo((short) 2);
        assertThat(s.snapshotUpdateRecordsPerSnapshot()).isEqualTo(500);
        assertThat(s.stateTopicPruneIntervalMs()).isEqualTo(300000);
        assertThat(s.coldPartitionSnapshotIntervalMs()).isEqualTo(300000);
    }

    @Test
    void updateRecordsPerSnapshotStaysWithinKafkasBounds() {
        assertThat(BrokerConfig.of(Map.of("share.coordinator.snapshot.update.records.per.snapshot", "0"))
                .shareGroups().snapshotUpdateRecordsPerSnapshot()).isZero();
        for (String bad : new String[] {"-1", "501"}) {
            assertThatThrownBy(() -> BrokerConfig.of(Map.of("share.coordinator.snapshot.update.records.per.snapshot", bad)))
                    .isInstanceOf(ConfigException.class)
                    .satisfies(e -> assertThat(((ConfigException) e).key())
                            .isEqualTo("share.coordinator.snapshot.update.records.per.snapshot"));
        }
    }

    @Test
    void valuesOutsideTheirBoundsNameTheKey() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("group.share.record.lock.duration.ms", "5000")))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("group.share.record.lock.duration.ms"))
                .hasMessageContaining("group.share.min.record.lock.duration.ms");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("group.share.delivery.count.limit", "11")))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("group.share.delivery.count.limit"));
        BrokerConfig lowered = BrokerConfig.of(Map.of("group.share.min.record.lock.duration.ms", "1000",
                "group.share.record.lock.duration.ms", "2000"));
        assertThat(lowered.shareGroups().recordLockDurationMs()).isEqualTo(2000);
    }
}
