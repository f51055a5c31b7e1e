package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;

import java.util.Collection;

/** The cluster's topics as the consumer group protocol needs them; the broker implements it over its metadata. */
public interface ConsumerTopics {
    /** The topic of that name, or null. */
    TopicInfo byName(String name);

    /** The topic of that id, or null. */
    TopicInfo byId(Uuid id);

    /** Every topic, for regex subscriptions (internal topics included; a regex must name them to match). */
    Collection<TopicInfo> all();
}
