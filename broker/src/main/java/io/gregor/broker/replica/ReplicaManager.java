package io.gregor.broker.replica;

import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ResolvedTopicConfig;
import io.gregor.config.TopicConfigs;
import io.gregor.storage.LogConfig;
import io.gregor.storage.LogManager;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.TopicPartition;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The partitions this broker hosts, keyed by topic and partition, with their logs. Topic metadata
 * changes (create, delete, more partitions, config) arrive here and are applied to the logs.
 */
public final class ReplicaManager {
    /** One broker never changes leader, so every partition stays in its first leader epoch. */
    private static final int LEADER_EPOCH = 0;

    private final BrokerConfig config;
    private final LogManager logs;
    private final FetchPurgatory purgatory;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();

    public ReplicaManager(BrokerConfig config, LogManager logs, FetchPurgatory purgatory) {
        this.config = config;
        this.logs = logs;
        this.purgatory = purgatory;
    }

    public FetchPurgatory purgatory() {
        return purgatory;
    }

    public Optional<Partition> partition(String topic, int partition) {
        return Optional.ofNullable(partitions.get(new TopicPartition(topic, partition)));
    }

    /** Opens (or creates) the logs of every partition of the topic. */
    public void hostTopic(TopicMetadata topic) {
        LogConfig logConfig = logConfig(config, topic.configs());
        for (int p = 0; p < topic.partitionCount(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            partitions.computeIfAbsent(tp, k -> {
                PartitionLog log = logs.getOrCreate(k, topic.topicId().toString(), logConfig);
                return new Partition(k, topic.topicId(), log, purgatory, LEADER_EPOCH);
            });
        }
    }

    public void removeTopic(TopicMetadata topic) {
        for (int p = 0; p < topic.partitionCount(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            if (partitions.remove(tp) != null) {
                logs.delete(tp);
                purgatory.wakeAll(tp);
            }
        }
    }

    public void updateConfig(TopicMetadata topic) {
        LogConfig logConfig = logConfig(config, topic.configs());
        for (int p = 0; p < topic.partitionCount(); p++) {
            Partition partition = partitions.get(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(logConfig);
            }
        }
    }

    /** The log config of a topic: its overrides over the broker's defaults. */
    public static LogConfig logConfig(BrokerConfig config, Map<String, String> topicOverrides) {
        ResolvedTopicConfig t = TopicConfigs.resolve(config, topicOverrides);
        return new LogConfig(t.segmentBytes(), t.segmentMs(), t.retentionMs(), t.retentionBytes(),
                t.indexIntervalBytes(), t.segmentIndexBytes(), t.flushMessages(), t.flushMs(),
                t.maxMessageBytes(), t.logAppendTime(), t.fileDeleteDelayMs(),
                t.cleanupPolicy().contains("compact"), t.cleanupPolicy().contains("delete"));
    }
}
