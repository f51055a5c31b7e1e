package io.gregor.broker.metadata;

import org.apache.kafka.common.Uuid;

import java.util.Map;

/** A topic as the cluster knows it: name, id, partition count and its config overrides. */
public record TopicMetadata(String name, Uuid topicId, int partitionCount, Map<String, String> configs) {
    public TopicMetadata {
        configs = Map.copyOf(configs);
    }

    public boolean isInternal() {
        return name.startsWith("__");
    }
}
