package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** A server-side assignor (KIP-848): computes the group's target assignment from its members' subscriptions. */
public interface Assignor {
    /** The name members ask for in ConsumerGroupHeartbeat's ServerAssignor. */
    String name();

    /**
     * @param members         the members, in a stable order, with the ids of the existing topics they subscribe to
     * @param partitionCounts topic id to partition count, for every subscribed topic that exists
     * @param current         the previous target assignment (member id to topic id to partitions), for stickiness
     * @return member id to topic id to partitions, with an entry (maybe empty) for every member
     */
    Map<String, Map<Uuid, Set<Integer>>> assign(List<MemberSubscription> members, Map<Uuid, Integer> partitionCounts,
                                                Map<String, Map<Uuid, Set<Integer>>> current);

    /** A member as assignors see it. */
    record MemberSubscription(String memberId, String instanceId, Set<Uuid> topicIds) {
    }
}
