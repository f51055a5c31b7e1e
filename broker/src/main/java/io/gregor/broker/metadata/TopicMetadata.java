package io.gregor.broker.metadata;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.internals.Topic;

import java.util.Map;

/** A topic as the cluster knows it: name, id, partition count and its config overrides. */
public record TopicMetadata(String name, Uuid topicId, int partitionCount, Map<String, String> configs) {
    public TopicMetadata {
        configs = Map.copyOf(configs);
    }

    /** Kafka's internal topics (__consumer_offsets, __transaction_state, ...), not every name starting with "__". */
    public boolean isInternal() {
        return Topic.isInternal(name);
    }
}
