package io.gregor.storage;

/** A partition of a topic, named as Kafka names its directory: {@code <topic>-<partition>}. */
public record TopicPartition(String topic, int partition) {
    public String dirName() {
        return topic + "-" + partition;
    }

    @Override
    public String toString() {
        return dirName();
    }
}
