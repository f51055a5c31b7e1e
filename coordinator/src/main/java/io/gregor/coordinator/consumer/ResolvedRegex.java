package io.gregor.coordinator.consumer;

import java.util.Set;

/**
 * A member's SubscribedTopicRegex resolved against the topics, as Kafka's ConsumerGroupRegularExpression record keeps
 * it: the matching topic names, the metadata version they were read at, and when.
 *
 * @param topics      the names of the topics the regex matched
 * @param version     Kafka: the offset of the metadata image resolved against; Gregor: see
 *                    {@link ConsumerGroupProtocol#refreshRegexes}
 * @param timestampMs when the regex was resolved
 */
public record ResolvedRegex(Set<String> topics, long version, long timestampMs) {
    public ResolvedRegex {
        topics = Set.copyOf(topics);
    }
}
