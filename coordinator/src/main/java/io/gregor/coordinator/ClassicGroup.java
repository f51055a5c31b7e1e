package io.gregor.coordinator;

import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/**
 * A group's state: members, generation, protocol and committed offsets. All access holds the group's monitor;
 * the coordinator owns the transitions. A KIP-848 consumer group keeps its membership in {@link #consumer}
 * (its offsets stay here); its classic state then only says Empty or Stable (has members), which offset expiry
 * and group deletion go by.
 */
final class ClassicGroup {
    static final String CONSUMER_PROTOCOL_TYPE = ConsumerProtocol.PROTOCOL_TYPE;

    final String groupId;
    GroupState state = GroupState.EMPTY;
    long currentStateTimestamp;
    int generationId;
    /** Null for a group that only ever had standalone commits. */
    String protocolType;
    String protocolName;
    String leaderId;
    final LinkedHashMap<String, GroupMember> members = new LinkedHashMap<>();
    /** group.instance.id to the member id that holds it now. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined with them yet. */
    final Set<String> pendingMembers = new HashSet<>();
    /** Members of the current generation that have not sent SyncGroup yet. */
    final Set<String> pendingSyncMembers = new HashSet<>();
    final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
    /** TxnOffsetCommit's offsets per producer id, written but not visible until the producer's commit marker lands. */
    final Map<Long, Map<TopicPartition, CommittedOffset>> pendingTxnOffsets = new HashMap<>();
    /** Non-null while this is a consumer-protocol (KIP-848) group. */
    io.gregor.coordinator.consumer.ConsumerGroup consumer;

    /** Bumped at every rebalance start and completion, so stale timers see they are stale. */
    long rebalanceEpoch;
    ScheduledFuture<?> joinTimer;
    ScheduledFuture<?> syncTimer;
    /** group.initial.rebalance.delay.ms phase of a rebalance that started from Empty. */
    boolean initialDelayPhase;
    boolean newMemberAdded;
    long remainingRebalanceMs;
    /** The last JoinGroup of a new member (with or without its member id) during the initial delay. */
    long lastNewMemberJoinMs;
    /** The initial delay ends by this time whatever joins (its rebalance timeout). */
    long initialDelayDeadlineMs;

    ClassicGroup(String groupId, long now) {
        this.groupId = groupId;
        this.currentStateTimestamp = now;
    }

    void transitionTo(GroupState next, long now) {
        state = next;
        currentStateTimestamp = now;
    }

    boolean is(GroupState s) {
        return state == s;
    }

    boolean isLeader(String memberId) {
        return memberId.equals(leaderId);
    }

    boolean isStaticMemberFenced(String groupInstanceId, String memberId) {
        if (groupInstanceId == null) {
            return false;
        }
        String current = staticMembers.get(groupInstanceId);
        return current != null && !current.equals(memberId);
    }

    void add(GroupMember member) {
        if (members.isEmpty()) {
            leaderId = member.memberId;
        }
        members.put(member.memberId, member);
        if (member.isStatic()) {
            staticMembers.put(member.groupInstanceId, member.memberId);
        }
    }

    void remove(String memberId) {
        GroupMember removed = members.remove(memberId);
        if (removed != null && removed.isStatic()) {
            staticMembers.remove(removed.groupInstanceId, memberId);
        }
        pendingSyncMembers.remove(memberId);
        if (isLeader(memberId)) {
            leaderId = members.isEmpty() ? null : members.keySet().iterator().next();
        }
    }

    int rebalanceTimeoutMs() {
        int max = 0;
        for (GroupMember m : members.values()) {
            max = Math.max(max, m.rebalanceTimeoutMs);
        }
        return max;
    }

    boolean allMembersJoined() {
        if (!pendingMembers.isEmpty()) {
            return false;
        }
        for (GroupMember m : members.values()) {
            if (m.awaitingJoin == null) {
                return false;
            }
        }
        return true;
    }

    /** Whether a joining member's protocol type and protocols fit the group (INCONSISTENT_GROUP_PROTOCOL otherwise). */
    boolean supportsProtocols(String memberProtocolType, Set<String> memberProtocols) {
        if (members.isEmpty()) {
            return memberProtocolType != null && !memberProtocolType.isEmpty() && !memberProtocols.isEmpty();
        }
        if (!memberProtocolType.equals(protocolType)) {
            return false;
        }
        for (String p : memberProtocols) {
            if (members.values().stream().allMatch(m -> m.protocols.containsKey(p))) {
                return true;
            }
        }
        return false;
    }

    /** Kafka's vote: each member votes for its most preferred protocol that every member supports. */
    String selectProtocol() {
        Set<String> candidates = null;
        for (GroupMember m : members.values()) {
            if (candidates == null) {
                candidates = new HashSet<>(m.protocols.keySet());
            } else {
                candidates.retainAll(m.protocols.keySet());
            }
        }
        if (candidates == null || candidates.isEmpty()) {
            return null;
        }
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (GroupMember m : members.values()) {
            for (String p : m.protocols.keySet()) {
                if (candidates.contains(p)) {
                    votes.merge(p, 1, Integer::sum);
                    break;
                }
            }
        }
        String best = null;
        int most = -1;
        for (var e : votes.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    /**
     * Topics the members subscribe to, from their consumer-protocol subscriptions; null when the group is not
     * a consumer group or has no members, so no topic counts as subscribed.
     */
    Set<String> subscribedTopics() {
        if (consumer != null) {
            return consumer.isEmpty() ? null : consumer.subscribedTopicNames();
        }
        if (!CONSUMER_PROTOCOL_TYPE.equals(protocolType) || members.isEmpty() || protocolName == null) {
            return null;
        }
        Set<String> topics = new HashSet<>();
        for (GroupMember m : members.values()) {
            try {
                topics.addAll(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(m.metadata(protocolName))).topics());
            } catch (RuntimeException e) {
                // A subscription we cannot read: like Kafka, treat the group as subscribed to nothing we know.
                return null;
            }
        }
        return topics;
    }
}
