package io.gregor.broker;

import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.coordinator.consumer.ConsumerTopics;
import io.gregor.coordinator.consumer.TopicInfo;
import org.apache.kafka.common.Uuid;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The broker's topics as consumer-protocol groups see them (subscriptions, regexes, topic ids). */
final class ConsumerGroupTopics implements ConsumerTopics {
    private final Topics topics;

    ConsumerGroupTopics(Topics topics) {
        this.topics = topics;
    }

    @Override
    public TopicInfo byName(String name) {
        return topics.topic(name).map(ConsumerGroupTopics::info).orElse(null);
    }

    @Override
    public TopicInfo byId(Uuid id) {
        return topics.topic(id).map(ConsumerGroupTopics::info).orElse(null);
    }

    @Override
    public Collection<TopicInfo> all() {
        Collection<TopicMetadata> all = topics.all();
        List<TopicInfo> out = new ArrayList<>(all.size());
        for (TopicMetadata t : all) {
            out.add(info(t));
        }
        return out;
    }

    private static TopicInfo info(TopicMetadata t) {
        return new TopicInfo(t.name(), t.topicId(), t.partitionCount());
    }
}
