package io.gregor.config;

import org.apache.kafka.common.config.TopicConfig;

import java.util.List;
import java.util.Map;

/** One topic's effective configuration (override, else broker synonym, else Kafka default). Immutable. */
public final class ResolvedTopicConfig {
    private final Map<String, Object> values;

    ResolvedTopicConfig(Map<String, Object> values) {
        this.values = Map.copyOf(values);
    }

    public int segmentBytes() {
        return (Integer) values.get(TopicConfig.SEGMENT_BYTES_CONFIG);
    }

    public long segmentMs() {
        return (Long) values.get(TopicConfig.SEGMENT_MS_CONFIG);
    }

    public long segmentJitterMs() {
        return (Long) values.get(TopicConfig.SEGMENT_JITTER_MS_CONFIG);
    }

    /** -1 means keep forever. */
    public long retentionMs() {
        return (Long) values.get(TopicConfig.RETENTION_MS_CONFIG);
    }

    /** -1 means unlimited. */
    public long retentionBytes() {
        return (Long) values.get(TopicConfig.RETENTION_BYTES_CONFIG);
    }

    public int indexIntervalBytes() {
        return (Integer) values.get(TopicConfig.INDEX_INTERVAL_BYTES_CONFIG);
    }

    public int segmentIndexBytes() {
        return (Integer) values.get(TopicConfig.SEGMENT_INDEX_BYTES_CONFIG);
    }

    public long flushMessages() {
        return (Long) values.get(TopicConfig.FLUSH_MESSAGES_INTERVAL_CONFIG);
    }

    public long flushMs() {
        return (Long) values.get(TopicConfig.FLUSH_MS_CONFIG);
    }

    public int maxMessageBytes() {
        return (Integer) values.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    }

    /** message.timestamp.type is LogAppendTime. */
    public boolean logAppendTime() {
        return "LogAppendTime".equals(values.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG));
    }

    public long fileDeleteDelayMs() {
        return (Long) values.get(TopicConfig.FILE_DELETE_DELAY_MS_CONFIG);
    }

    @SuppressWarnings("unchecked")
    public List<String> cleanupPolicy() {
        return List.copyOf((List<String>) values.get(TopicConfig.CLEANUP_POLICY_CONFIG));
    }

    public boolean compact() {
        return cleanupPolicy().contains(TopicConfig.CLEANUP_POLICY_COMPACT);
    }

    public boolean delete() {
        return cleanupPolicy().contains(TopicConfig.CLEANUP_POLICY_DELETE);
    }

    public int minInsyncReplicas() {
        return (Integer) values.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
    }

    public long deleteRetentionMs() {
        return (Long) values.get(TopicConfig.DELETE_RETENTION_MS_CONFIG);
    }

    public double minCleanableDirtyRatio() {
        return (Double) values.get(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG);
    }

    public long minCompactionLagMs() {
        return (Long) values.get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG);
    }

    public long maxCompactionLagMs() {
        return (Long) values.get(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG);
    }

    public String compressionType() {
        return (String) values.get(TopicConfig.COMPRESSION_TYPE_CONFIG);
    }

    public long messageTimestampBeforeMaxMs() {
        return (Long) values.get(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG);
    }

    public long messageTimestampAfterMaxMs() {
        return (Long) values.get(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG);
    }

    public boolean preallocate() {
        return (Boolean) values.get(TopicConfig.PREALLOCATE_CONFIG);
    }

    public boolean uncleanLeaderElectionEnable() {
        return (Boolean) values.get(TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG);
    }

    /** Effective value of any topic key as a string (lists comma-joined); null for an unknown key. */
    public String get(String key) {
        if (!values.containsKey(key)) {
            return null;
        }
        return ConfigParsing.asString(values.get(key), TopicConfigs.typeOf(key));
    }

    @Override
    public String toString() {
        return "ResolvedTopicConfig" + new java.util.TreeMap<>(values);
    }
}
