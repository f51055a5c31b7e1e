package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A KIP-848 consumer group: its epochs, members, target assignment and which member owns each partition now.
 * All access holds {@link #lock()}, the monitor of the group the coordinator keeps (offsets live there too).
 */
public final class ConsumerGroup {
    /** The group states of the consumer protocol, as DescribeGroups/ListGroups name them. */
    public enum State {
        EMPTY("Empty"), ASSIGNING("Assigning"), RECONCILING("Reconciling"), STABLE("Stable");

        private final String wireName;

        State(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    private final String groupId;
    private final Object lock;
    int groupEpoch;
    int assignmentEpoch;
    final LinkedHashMap<String, ConsumerGroupMember> members = new LinkedHashMap<>();
    /** group.instance.id to the member id holding it. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member id to topic id to partitions: where the group is heading. */
    final Map<String, Map<Uuid, Set<Integer>>> targetAssignment = new HashMap<>();
    /** Topic id to partition to the epoch of the member owning it (assigned or still revoking). */
    final Map<Uuid, Map<Integer, Integer>> partitionEpochs = new HashMap<>();
    /**
     * The subscribed topics that exist, by name, as of the last heartbeat: a change bumps the group epoch. Null for
     * a group loaded from the log until its first heartbeat.
     */
    Map<String, TopicInfo> subscriptionMetadata = new TreeMap<>();
    /** The members' regexes resolved to topic names, as their ConsumerGroupRegularExpression records say. */
    final Map<String, ResolvedRegex> resolvedRegexes = new HashMap<>();
    /** When the regexes were last resolved and written (Kafka's lastResolvedRegularExpressionRefreshTimeMs). */
    long lastRegexRefreshMs;
    /** Set when the group leaves this coordinator (unloaded, deleted, converted): its timers stop. */
    boolean dead;

    public ConsumerGroup(String groupId, Object lock) {
        this.groupId = groupId;
        this.lock = lock;
    }

    public String groupId() {
        return groupId;
    }

    public Object lock() {
        return lock;
    }

    public int groupEpoch() {
        return groupEpoch;
    }

    public int assignmentEpoch() {
        return assignmentEpoch;
    }

    public boolean isEmpty() {
        return members.isEmpty();
    }

    public int memberCount() {
        return members.size();
    }

    public ConsumerGroupMember member(String memberId) {
        return memberId == null ? null : members.get(memberId);
    }

    public Iterable<ConsumerGroupMember> members() {
        return members.values();
    }

    /** The topics the regex resolved to, null when no member subscribes with it (or it is not resolved yet). */
    public ResolvedRegex resolvedRegex(String regex) {
        return resolvedRegexes.get(regex);
    }

    public Map<Uuid, Set<Integer>> targetAssignment(String memberId) {
        return targetAssignment.getOrDefault(memberId, Map.of());
    }

    /** Stops the group's timers: it is no longer served here. */
    public void markDead() {
        dead = true;
    }

    public boolean isDead() {
        return dead;
    }

    public State state() {
        if (members.isEmpty()) {
            return State.EMPTY;
        }
        if (groupEpoch != assignmentEpoch) {
            return State.ASSIGNING;
        }
        for (ConsumerGroupMember m : members.values()) {
            if (!m.isReconciledTo(assignmentEpoch)) {
                return State.RECONCILING;
            }
        }
        return State.STABLE;
    }

    /** The names of the topics the members subscribe to, or match by regex, that exist (offset expiry keeps these). */
    public Set<String> subscribedTopicNames() {
        Set<String> names = subscriptionMetadata == null ? new HashSet<>() : new HashSet<>(subscriptionMetadata.keySet());
        for (ConsumerGroupMember m : members.values()) {
            names.addAll(m.subscribedTopicNames);
        }
        resolvedRegexes.values().forEach(r -> names.addAll(r.topics()));
        return names;
    }

    /** The epoch of the member owning the partition, or -1 when nobody does. */
    public int currentPartitionEpoch(Uuid topicId, int partition) {
        Map<Integer, Integer> forTopic = partitionEpochs.get(topicId);
        Integer epoch = forTopic == null ? null : forTopic.get(partition);
        return epoch == null ? -1 : epoch;
    }

    /** Records who owns what after a member changed (null before: new; null after: removed). */
    void updatePartitionEpochs(ConsumerGroupMember before, Map<Uuid, Set<Integer>> assignedBefore,
                               Map<Uuid, Set<Integer>> revokingBefore, ConsumerGroupMember after) {
        if (before != null) {
            release(assignedBefore);
            release(revokingBefore);
        }
        if (after != null) {
            own(after.assignedPartitions, after.memberEpoch);
            own(after.partitionsPendingRevocation, after.memberEpoch);
        }
    }

    private void release(Map<Uuid, Set<Integer>> partitions) {
        partitions.forEach((topic, ps) -> {
            Map<Integer, Integer> forTopic = partitionEpochs.get(topic);
            if (forTopic != null) {
                ps.forEach(forTopic::remove);
                if (forTopic.isEmpty()) {
                    partitionEpochs.remove(topic);
                }
            }
        });
    }

    private void own(Map<Uuid, Set<Integer>> partitions, int epoch) {
        partitions.forEach((topic, ps) -> {
            Map<Integer, Integer> forTopic = partitionEpochs.computeIfAbsent(topic, k -> new HashMap<>());
            ps.forEach(p -> forTopic.put(p, epoch));
        });
    }

    void add(ConsumerGroupMember member) {
        members.put(member.memberId, member);
        if (member.instanceId != null) {
            staticMembers.put(member.instanceId, member.memberId);
        }
        updatePartitionEpochs(null, Map.of(), Map.of(), member);
    }

    void remove(ConsumerGroupMember member) {
        members.remove(member.memberId);
        if (member.instanceId != null) {
            staticMembers.remove(member.instanceId, member.memberId);
        }
        targetAssignment.remove(member.memberId);
        updatePartitionEpochs(member, member.assignedPartitions, member.partitionsPendingRevocation, null);
    }

    /**
     * Kafka's OffsetCommit check for a consumer-protocol group: without a member (epoch below 0) only while the
     * group is empty; a member commits at its current epoch (STALE_MEMBER_EPOCH otherwise) with OffsetCommit
     * v9 or newer (UNSUPPORTED_VERSION otherwise), unless the commit is transactional.
     */
    public Errors validateOffsetCommit(String memberId, int memberEpoch,
                                                                       short apiVersion, boolean transactional) {
        if (memberEpoch < 0 && members.isEmpty()) {
            return Errors.NONE;
        }
        if (transactional && memberEpoch < 0 && (memberId == null || memberId.isEmpty())) {
            return Errors.NONE;
        }
        ConsumerGroupMember member = member(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (!transactional && member.classic == null && apiVersion < 9) {
            return Errors.UNSUPPORTED_VERSION;
        }
        if (memberEpoch == member.memberEpoch) {
            return Errors.NONE;
        }
        // a classic member commits with its generation, which is its member epoch
        return member.classic != null ? Errors.ILLEGAL_GENERATION : Errors.STALE_MEMBER_EPOCH;
    }

    /** Kafka's OffsetFetch check (v9+): a member fetches at its current epoch; admins (no member) always may. */
    public Errors validateOffsetFetch(String memberId, int memberEpoch) {
        if (memberId == null && memberEpoch < 0) {
            return Errors.NONE;
        }
        ConsumerGroupMember member = member(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (memberEpoch == member.memberEpoch) {
            return Errors.NONE;
        }
        return member.classic != null ? Errors.ILLEGAL_GENERATION : Errors.STALE_MEMBER_EPOCH;
    }

    /** Whether every member but {@code except} speaks the classic protocol. */
    public boolean allMembersUseClassicProtocolExcept(String except) {
        for (ConsumerGroupMember m : members.values()) {
            if (!m.memberId.equals(except) && m.classic == null) {
                return false;
            }
        }
        return true;
    }

    public ConsumerGroupMember staticMember(String instanceId) {
        String memberId = instanceId == null ? null : staticMembers.get(instanceId);
        return memberId == null ? null : members.get(memberId);
    }
}
