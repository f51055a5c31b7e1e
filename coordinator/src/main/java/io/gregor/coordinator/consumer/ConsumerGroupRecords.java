package io.gregor.coordinator.consumer;

import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupPartitionMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupRegularExpressionKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupRegularExpressionValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataValue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * KIP-848 group records of {@code __consumer_offsets} in Kafka's schemas (Kafka's generated classes): the key
 * starts with the record type as int16, the value with its version. Writing them lets a consumer group survive
 * a restart or a coordinator move, and lets Kafka's tools (GroupMetadataMessageFormatter) read them.
 */
public final class ConsumerGroupRecords {
    /** Record types (the key's leading int16), as Kafka numbers them. */
    public static final short GROUP_METADATA = 3;
    public static final short PARTITION_METADATA = 4;
    public static final short MEMBER_METADATA = 5;
    public static final short TARGET_ASSIGNMENT_METADATA = 6;
    public static final short TARGET_ASSIGNMENT_MEMBER = 7;
    public static final short CURRENT_MEMBER_ASSIGNMENT = 8;
    public static final short REGULAR_EXPRESSION = 16;

    private ConsumerGroupRecords() {
    }

    /** Whether a key of this type belongs to a consumer group (the classic types are 0 to 2). */
    public static boolean isConsumerGroupRecord(short type) {
        return (type >= GROUP_METADATA && type <= CURRENT_MEMBER_ASSIGNMENT) || type == REGULAR_EXPRESSION;
    }

    // ------------------------------------------------------------------ writing

    static CoordinatorRecord groupEpoch(String groupId, int epoch) {
        return new CoordinatorRecord(key(GROUP_METADATA, new ConsumerGroupMetadataKey().setGroupId(groupId)),
                value(new ConsumerGroupMetadataValue().setEpoch(epoch)));
    }

    static CoordinatorRecord memberMetadata(String groupId, ConsumerGroupMember member) {
        return new CoordinatorRecord(memberMetadataKey(groupId, member.memberId), value(memberMetadataValue(member)));
    }

    static ConsumerGroupMemberMetadataValue memberMetadataValue(ConsumerGroupMember member) {
        List<String> names = new ArrayList<>(member.subscribedTopicNames);
        Collections.sort(names);
        return new ConsumerGroupMemberMetadataValue()
                .setRackId(member.rackId)
                .setInstanceId(member.instanceId)
                .setClientId(member.clientId)
                .setClientHost(member.clientHost)
                .setSubscribedTopicNames(names)
                .setSubscribedTopicRegex(member.subscribedTopicRegex)
                .setServerAssignor(member.serverAssignor)
                .setRebalanceTimeoutMs(member.rebalanceTimeoutMs)
                .setClassicMemberMetadata(classicMemberMetadata(member.classic));
    }

    private static ConsumerGroupMemberMetadataValue.ClassicMemberMetadata classicMemberMetadata(
            ConsumerGroupMember.ClassicMetadata classic) {
        if (classic == null) {
            return null;
        }
        List<ConsumerGroupMemberMetadataValue.ClassicProtocol> protocols = new ArrayList<>();
        for (ConsumerGroupMember.ClassicProtocol p : classic.protocols()) {
            protocols.add(new ConsumerGroupMemberMetadataValue.ClassicProtocol().setName(p.name()).setMetadata(p.metadata()));
        }
        return new ConsumerGroupMemberMetadataValue.ClassicMemberMetadata()
                .setSessionTimeoutMs(classic.sessionTimeoutMs()).setSupportedProtocols(protocols);
    }

    static CoordinatorRecord targetAssignmentEpoch(String groupId, int epoch) {
        return new CoordinatorRecord(targetMetadataKey(groupId),
                value(new ConsumerGroupTargetAssignmentMetadataValue().setAssignmentEpoch(epoch)));
    }

    static CoordinatorRecord targetAssignment(String groupId, String memberId, Map<Uuid, Set<Integer>> partitions) {
        List<ConsumerGroupTargetAssignmentMemberValue.TopicPartition> topics = new ArrayList<>();
        new TreeMap<>(partitions).forEach((topicId, ps) -> topics.add(
                new ConsumerGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(topicId)
                        .setPartitions(new ArrayList<>(new TreeSet<>(ps)))));
        return new CoordinatorRecord(targetMemberKey(groupId, memberId),
                value(new ConsumerGroupTargetAssignmentMemberValue().setTopicPartitions(topics)));
    }

    static CoordinatorRecord currentAssignment(String groupId, ConsumerGroupMember member) {
        return new CoordinatorRecord(currentAssignmentKey(groupId, member.memberId),
                value(new ConsumerGroupCurrentMemberAssignmentValue()
                        .setMemberEpoch(member.memberEpoch)
                        .setPreviousMemberEpoch(member.previousMemberEpoch)
                        .setState(stateValue(member.state))
                        .setAssignedPartitions(partitions(member.assignedPartitions))
                        .setPartitionsPendingRevocation(partitions(member.partitionsPendingRevocation))));
    }

    static CoordinatorRecord regularExpression(String groupId, String regex, ResolvedRegex resolved) {
        List<String> topics = new ArrayList<>(resolved.topics());
        Collections.sort(topics);
        return new CoordinatorRecord(regularExpressionKey(groupId, regex), value(new ConsumerGroupRegularExpressionValue()
                .setTopics(topics).setVersion(resolved.version()).setTimestamp(resolved.timestampMs())));
    }

    static CoordinatorRecord regularExpressionTombstone(String groupId, String regex) {
        return new CoordinatorRecord(regularExpressionKey(groupId, regex), null);
    }

    /** A member leaves the group: its current assignment, target assignment and metadata go, in Kafka's order. */
    static void memberTombstones(String groupId, String memberId, List<CoordinatorRecord> out) {
        out.add(new CoordinatorRecord(currentAssignmentKey(groupId, memberId), null));
        out.add(new CoordinatorRecord(targetMemberKey(groupId, memberId), null));
        out.add(new CoordinatorRecord(memberMetadataKey(groupId, memberId), null));
    }

    /** The records that delete a consumer group, in Kafka's order (its ConsumerGroup.createGroupTombstoneRecords). */
    public static List<CoordinatorRecord> groupTombstones(ConsumerGroup group) {
        String groupId = group.groupId();
        List<CoordinatorRecord> out = new ArrayList<>();
        for (ConsumerGroupMember m : group.members.values()) {
            out.add(new CoordinatorRecord(currentAssignmentKey(groupId, m.memberId), null));
        }
        for (ConsumerGroupMember m : group.members.values()) {
            out.add(new CoordinatorRecord(targetMemberKey(groupId, m.memberId), null));
        }
        out.add(new CoordinatorRecord(targetMetadataKey(groupId), null));
        for (ConsumerGroupMember m : group.members.values()) {
            out.add(new CoordinatorRecord(memberMetadataKey(groupId, m.memberId), null));
        }
        new TreeSet<>(group.resolvedRegexes.keySet()).forEach(regex -> out.add(regularExpressionTombstone(groupId, regex)));
        out.add(new CoordinatorRecord(key(PARTITION_METADATA,
                new ConsumerGroupPartitionMetadataKey().setGroupId(groupId)), null));
        out.add(new CoordinatorRecord(key(GROUP_METADATA, new ConsumerGroupMetadataKey().setGroupId(groupId)), null));
        return out;
    }

    private static byte[] regularExpressionKey(String groupId, String regex) {
        return key(REGULAR_EXPRESSION, new ConsumerGroupRegularExpressionKey().setGroupId(groupId).setRegularExpression(regex));
    }

    private static byte[] memberMetadataKey(String groupId, String memberId) {
        return key(MEMBER_METADATA, new ConsumerGroupMemberMetadataKey().setGroupId(groupId).setMemberId(memberId));
    }

    private static byte[] targetMetadataKey(String groupId) {
        return key(TARGET_ASSIGNMENT_METADATA, new ConsumerGroupTargetAssignmentMetadataKey().setGroupId(groupId));
    }

    private static byte[] targetMemberKey(String groupId, String memberId) {
        return key(TARGET_ASSIGNMENT_MEMBER,
                new ConsumerGroupTargetAssignmentMemberKey().setGroupId(groupId).setMemberId(memberId));
    }

    private static byte[] currentAssignmentKey(String groupId, String memberId) {
        return key(CURRENT_MEMBER_ASSIGNMENT,
                new ConsumerGroupCurrentMemberAssignmentKey().setGroupId(groupId).setMemberId(memberId));
    }

    private static List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> partitions(Map<Uuid, Set<Integer>> ps) {
        List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> out = new ArrayList<>();
        new TreeMap<>(ps).forEach((topicId, partitions) -> out.add(new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions()
                .setTopicId(topicId).setPartitions(new ArrayList<>(new TreeSet<>(partitions)))));
        return out;
    }

    /** Kafka's MemberState values. */
    private static byte stateValue(ConsumerGroupMember.State state) {
        return switch (state) {
            case STABLE -> 1;
            case UNREVOKED_PARTITIONS -> 2;
            case UNRELEASED_PARTITIONS -> 3;
        };
    }

    private static ConsumerGroupMember.State state(byte value) {
        return switch (value) {
            case 2 -> ConsumerGroupMember.State.UNREVOKED_PARTITIONS;
            case 3 -> ConsumerGroupMember.State.UNRELEASED_PARTITIONS;
            default -> ConsumerGroupMember.State.STABLE;
        };
    }

    /** The record type as int16, then the key's fields (their layout is the same in every key version). */
    private static byte[] key(short type, ApiMessage key) {
        short version = key.lowestSupportedVersion();
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = key.size(cache, version);
        ByteBufferAccessor accessor = new ByteBufferAccessor(ByteBuffer.allocate(2 + size));
        accessor.writeShort(type);
        key.write(accessor, cache, version);
        return accessor.buffer().array();
    }

    private static byte[] value(ApiMessage value) {
        return MessageUtil.toVersionPrefixedBytes((short) 0, value);
    }

    // ------------------------------------------------------------------ loading

    /** Rebuilds consumer groups from their records, the last record of each key winning. */
    public static final class Loader {
        private static final class GroupState {
            Integer epoch;
            Integer assignmentEpoch;
            final Map<String, ConsumerGroupMemberMetadataValue> members = new LinkedHashMap<>();
            final Map<String, ConsumerGroupCurrentMemberAssignmentValue> current = new HashMap<>();
            final Map<String, ConsumerGroupTargetAssignmentMemberValue> targets = new HashMap<>();
            final Map<String, ConsumerGroupRegularExpressionValue> regexes = new HashMap<>();
        }

        private final Map<String, GroupState> groups = new HashMap<>();

        /** Takes one record of a consumer-group type (see {@link #isConsumerGroupRecord}); a null value is a tombstone. */
        public void replay(short type, ByteBuffer keyAfterType, ByteBuffer value) {
            ByteBuffer k = keyAfterType.duplicate();
            ByteBufferAccessor key = new ByteBufferAccessor(k);
            short valueVersion = value == null ? 0 : value.duplicate().getShort();
            ByteBufferAccessor v = null;
            if (value != null) {
                ByteBuffer body = value.duplicate();
                body.getShort();
                v = new ByteBufferAccessor(body);
            }
            switch (type) {
                case GROUP_METADATA -> {
                    ConsumerGroupMetadataKey gk = new ConsumerGroupMetadataKey(key, new ConsumerGroupMetadataKey().lowestSupportedVersion());
                    if (v == null) {
                        groups.remove(gk.groupId());
                    } else {
                        group(gk.groupId()).epoch = new ConsumerGroupMetadataValue(v, valueVersion).epoch();
                    }
                }
                case TARGET_ASSIGNMENT_METADATA -> {
                    ConsumerGroupTargetAssignmentMetadataKey tk = new ConsumerGroupTargetAssignmentMetadataKey(key,
                            new ConsumerGroupTargetAssignmentMetadataKey().lowestSupportedVersion());
                    if (v != null) {
                        group(tk.groupId()).assignmentEpoch =
                                new ConsumerGroupTargetAssignmentMetadataValue(v, valueVersion).assignmentEpoch();
                    } else if (groups.containsKey(tk.groupId())) {
                        groups.get(tk.groupId()).assignmentEpoch = null;
                    }
                }
                case MEMBER_METADATA -> {
                    ConsumerGroupMemberMetadataKey mk = new ConsumerGroupMemberMetadataKey(key,
                            new ConsumerGroupMemberMetadataKey().lowestSupportedVersion());
                    if (v == null) {
                        if (groups.containsKey(mk.groupId())) {
                            groups.get(mk.groupId()).members.remove(mk.memberId());
                        }
                    } else {
                        group(mk.groupId()).members.put(mk.memberId(), new ConsumerGroupMemberMetadataValue(v, valueVersion));
                    }
                }
                case TARGET_ASSIGNMENT_MEMBER -> {
                    ConsumerGroupTargetAssignmentMemberKey tk = new ConsumerGroupTargetAssignmentMemberKey(key,
                            new ConsumerGroupTargetAssignmentMemberKey().lowestSupportedVersion());
                    if (v == null) {
                        if (groups.containsKey(tk.groupId())) {
                            groups.get(tk.groupId()).targets.remove(tk.memberId());
                        }
                    } else {
                        group(tk.groupId()).targets.put(tk.memberId(), new ConsumerGroupTargetAssignmentMemberValue(v, valueVersion));
                    }
                }
                case CURRENT_MEMBER_ASSIGNMENT -> {
                    ConsumerGroupCurrentMemberAssignmentKey ck = new ConsumerGroupCurrentMemberAssignmentKey(key,
                            new ConsumerGroupCurrentMemberAssignmentKey().lowestSupportedVersion());
                    if (v == null) {
                        if (groups.containsKey(ck.groupId())) {
                            groups.get(ck.groupId()).current.remove(ck.memberId());
                        }
                    } else {
                        group(ck.groupId()).current.put(ck.memberId(), new ConsumerGroupCurrentMemberAssignmentValue(v, valueVersion));
                    }
                }
                case REGULAR_EXPRESSION -> {
                    ConsumerGroupRegularExpressionKey rk = new ConsumerGroupRegularExpressionKey(key,
                            new ConsumerGroupRegularExpressionKey().lowestSupportedVersion());
                    if (v == null) {
                        if (groups.containsKey(rk.groupId())) {
                            groups.get(rk.groupId()).regexes.remove(rk.regularExpression());
                        }
                    } else {
                        group(rk.groupId()).regexes.put(rk.regularExpression(),
                                new ConsumerGroupRegularExpressionValue(v, valueVersion));
                    }
                }
                default -> {
                    // partition metadata: recomputed from the topics at the first heartbeat
                }
            }
        }

        private GroupState group(String groupId) {
            return groups.computeIfAbsent(groupId, g -> new GroupState());
        }

        /** The ids of the groups whose records are live (a group metadata record, not deleted). */
        public Set<String> groupIds() {
            Set<String> out = new TreeSet<>();
            groups.forEach((id, g) -> {
                if (g.epoch != null) {
                    out.add(id);
                }
            });
            return out;
        }

        /** The loaded group, guarded by {@code lock}. */
        public ConsumerGroup build(String groupId, Object lock) {
            GroupState state = groups.get(groupId);
            ConsumerGroup group = new ConsumerGroup(groupId, lock);
            group.groupEpoch = state.epoch;
            group.assignmentEpoch = state.assignmentEpoch == null ? 0 : state.assignmentEpoch;
            group.subscriptionMetadata = null;
            state.regexes.forEach((regex, r) -> {
                group.resolvedRegexes.put(regex, new ResolvedRegex(Set.copyOf(r.topics()), r.version(), r.timestamp()));
                group.lastRegexRefreshMs = Math.max(group.lastRegexRefreshMs, r.timestamp());
            });
            state.targets.forEach((memberId, t) -> {
                Map<Uuid, Set<Integer>> partitions = new HashMap<>();
                t.topicPartitions().forEach(tp -> partitions.put(tp.topicId(),
                        Collections.unmodifiableSet(new TreeSet<>(tp.partitions()))));
                group.targetAssignment.put(memberId, Collections.unmodifiableMap(partitions));
            });
            state.members.forEach((memberId, m) -> {
                ConsumerGroupMember member = new ConsumerGroupMember(memberId);
                member.instanceId = m.instanceId();
                member.rackId = m.rackId();
                member.clientId = m.clientId();
                member.clientHost = m.clientHost();
                member.subscribedTopicNames = List.copyOf(m.subscribedTopicNames());
                member.subscribedTopicRegex = m.subscribedTopicRegex() == null || m.subscribedTopicRegex().isEmpty()
                        ? null : m.subscribedTopicRegex();
                member.serverAssignor = m.serverAssignor();
                member.rebalanceTimeoutMs = m.rebalanceTimeoutMs();
                if (m.classicMemberMetadata() != null) {
                    List<ConsumerGroupMember.ClassicProtocol> protocols = new ArrayList<>();
                    m.classicMemberMetadata().supportedProtocols().forEach(p ->
                            protocols.add(new ConsumerGroupMember.ClassicProtocol(p.name(), p.metadata())));
                    member.classic = new ConsumerGroupMember.ClassicMetadata(
                            m.classicMemberMetadata().sessionTimeoutMs(), protocols);
                }
                ConsumerGroupCurrentMemberAssignmentValue current = state.current.get(memberId);
                if (current != null) {
                    member.memberEpoch = current.memberEpoch();
                    member.previousMemberEpoch = current.previousMemberEpoch();
                    member.state = state(current.state());
                    member.assignedPartitions = partitionsOf(current.assignedPartitions());
                    member.partitionsPendingRevocation = partitionsOf(current.partitionsPendingRevocation());
                }
                group.add(member);
            });
            return group;
        }

        private static Map<Uuid, Set<Integer>> partitionsOf(List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> list) {
            Map<Uuid, Set<Integer>> out = new HashMap<>();
            list.forEach(tp -> out.put(tp.topicId(), Collections.unmodifiableSet(new TreeSet<>(tp.partitions()))));
            return Collections.unmodifiableMap(out);
        }
    }
}
