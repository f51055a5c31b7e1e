package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;

/** A topic as a consumer group's assignment sees it: its name, id and partition count. */
public record TopicInfo(String name, Uuid id, int partitionCount) {
}
