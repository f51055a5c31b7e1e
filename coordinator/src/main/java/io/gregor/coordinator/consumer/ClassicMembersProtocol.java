package io.gregor.coordinator.consumer;

import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Classic-protocol members of a KIP-848 consumer group (Kafka's mixed groups, KIP-848's online migration):
 * JoinGroup, SyncGroup, Heartbeat and LeaveGroup served with the consumer group's server-side assignment. A
 * JoinGroup is a full heartbeat (subscription and owned partitions from the embedded consumer protocol); its
 * generation is the member epoch; SyncGroup hands out the member's current assignment; Heartbeat answers
 * REBALANCE_IN_PROGRESS when the member must rejoin to move on. Kafka's classicGroupJoinToConsumerGroup,
 * classicGroupSyncToConsumerGroup, classicGroupHeartbeatToConsumerGroup and classicGroupLeaveToConsumerGroup.
 * <p>
 * Every method runs under the group's lock and throws {@link ApiException} with Kafka's error.
 */
public final class ClassicMembersProtocol {
    private static final Logger log = LoggerFactory.getLogger(ClassicMembersProtocol.class);

    private final ConsumerGroupProtocol consumerProtocol;

    public ClassicMembersProtocol(ConsumerGroupProtocol consumerProtocol) {
        this.consumerProtocol = consumerProtocol;
    }

    /** Whether a joining member's protocols fit the classic members of the group (Kafka's supportsClassicProtocols). */
    public static boolean supportsClassicProtocols(ConsumerGroup group, String protocolType, Set<String> protocols) {
        if (!ConsumerProtocol.PROTOCOL_TYPE.equals(protocolType)) {
            return false;
        }
        if (group.isEmpty()) {
            return !protocols.isEmpty();
        }
        for (String name : protocols) {
            boolean all = true;
            for (ConsumerGroupMember m : group.members.values()) {
                if (m.classic != null && m.classic.protocols().stream().noneMatch(p -> p.name().equals(name))) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    /**
     * A JoinGroup of a classic member. Answered at once: MEMBER_ID_REQUIRED for a dynamic member without an id
     * (v4+), otherwise the member's epoch as generation and no member list (the coordinator assigns).
     * {@code records} gets what changed; the caller answers once they are written.
     */
    public JoinGroupResponseData join(ConsumerGroup group, JoinGroupRequestData request, short version,
                                      String clientId, String clientHost, List<CoordinatorRecord> records) {
        String instanceId = version >= 5 ? request.groupInstanceId() : null;
        boolean unknownMember = request.memberId().isEmpty();
        String memberId = unknownMember ? Uuid.randomUuid().toString() : request.memberId();
        ConsumerGroupConfig config = consumerProtocol.config();
        if (group.members.size() >= config.maxSize() && !group.members.containsKey(memberId)) {
            throw Errors.GROUP_MAX_SIZE_REACHED.exception("The consumer group has reached its maximum capacity of "
                    + config.maxSize() + " members.");
        }
        List<ConsumerGroupMember.ClassicProtocol> protocols = new ArrayList<>();
        request.protocols().forEach(p -> protocols.add(new ConsumerGroupMember.ClassicProtocol(p.name(), p.metadata())));
        Set<String> names = new LinkedHashSet<>();
        protocols.forEach(p -> names.add(p.name()));
        if (!supportsClassicProtocols(group, request.protocolType(), names)) {
            throw Errors.INCONSISTENT_GROUP_PROTOCOL.exception("Member " + memberId + "'s protocols are not supported.");
        }
        if (unknownMember && instanceId == null && version >= 4) {
            log.info("[GroupId {}] Dynamic member with unknown member id joins the consumer group. Created a new member id {} "
                    + "and requesting the member to rejoin with this id.", group.groupId(), memberId);
            return new JoinGroupResponseData().setMemberId(memberId).setErrorCode(Errors.MEMBER_ID_REQUIRED.code())
                    .setGenerationId(-1).setLeader("").setProtocolName(version >= 7 ? null : "");
        }
        ConsumerProtocolSubscriptionView subscription = subscriptionOf(protocols);

        ConsumerGroupMember member;
        ConsumerGroupMember replaced = null;
        boolean created = false;
        if (instanceId == null) {
            // a known member id joining with JoinGroup takes the classic protocol from now on, as in Kafka
            member = group.members.get(memberId);
            if (member == null) {
                member = consumerProtocol.newMember(group, memberId);
                created = true;
            }
        } else {
            ConsumerGroupMember existing = group.staticMember(instanceId);
            if (unknownMember) {
                // a new static member, or a restarted one taking the place and partitions of the old (no rebalance)
                if (existing == null) {
                    member = consumerProtocol.newMember(group, memberId);
                    created = true;
                } else {
                    replaced = existing;
                    member = consumerProtocol.replaceStaticMember(group, existing, memberId, true, records);
                }
            } else if (existing == null) {
                throw Errors.UNKNOWN_MEMBER_ID.exception("Instance id " + instanceId + " is unknown.");
            } else if (!existing.memberId.equals(memberId)) {
                throw Errors.FENCED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                        + instanceId + " was fenced by member " + existing.memberId + ".");
            } else {
                member = existing;
            }
        }
        ConsumerGroupProtocol.MemberSnapshot before = ConsumerGroupProtocol.MemberSnapshot.of(member, created);
        if (instanceId != null) {
            member.instanceId = instanceId;
        }
        if (subscription.rackId() != null) {
            member.rackId = subscription.rackId();
        }
        int rebalanceTimeout = version >= 1 && request.rebalanceTimeoutMs() > 0 ? request.rebalanceTimeoutMs()
                : request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = rebalanceTimeout;
        member.serverAssignor = null;
        member.subscribedTopicNames = List.copyOf(subscription.topics());
        member.clientId = clientId == null ? "" : clientId;
        member.clientHost = clientHost == null ? "" : clientHost;
        member.classic = new ConsumerGroupMember.ClassicMetadata(request.sessionTimeoutMs(), protocols);
        consumerProtocol.updateAndReconcile(group, member, before, ownedPartitions(subscription.ownedPartitions()), records);
        String protocolName = member.classic.protocolName();
        if (replaced != null && replaced.classic == null && consumerProtocol.downgradeIfOnlyClassicMembers(group, records)) {
            // a classic group now, rebalancing: the member's SyncGroup there tells it to rejoin
            return joinResponse(member.memberId, member.memberEpoch, protocolName, version);
        }
        // it joined: no more waiting for its JoinGroup, and now its SyncGroup is due within the rebalance timeout
        consumerProtocol.cancelJoinTimeout(member);
        consumerProtocol.scheduleSyncTimeout(group, member);
        return joinResponse(member.memberId, member.memberEpoch, protocolName, version);
    }

    private static JoinGroupResponseData joinResponse(String memberId, int epoch, String protocolName, short version) {
        JoinGroupResponseData response = new JoinGroupResponseData()
                .setMemberId(memberId)
                .setGenerationId(epoch)
                .setLeader("")
                .setProtocolName(protocolName);
        if (version >= 7) {
            response.setProtocolType(ConsumerProtocol.PROTOCOL_TYPE);
        }
        return response;
    }

    /** A SyncGroup of a classic member: its current assignment, in the version of the consumer protocol it speaks. */
    public SyncGroupResponseData sync(ConsumerGroup group, SyncGroupRequestData request, short version) {
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        ConsumerGroupMember member = classicMember(group, request.memberId(), instanceId);
        throwIfGenerationUnmatched(member, request.generationId());
        String protocolName = member.classic.protocolName();
        if (version >= 5 && request.protocolType() != null && !ConsumerProtocol.PROTOCOL_TYPE.equals(request.protocolType())) {
            throw Errors.INCONSISTENT_GROUP_PROTOCOL.exception("The protocol type " + request.protocolType() + " from member "
                    + member.memberId + " request is not equal to the group protocol type " + ConsumerProtocol.PROTOCOL_TYPE + ".");
        }
        if (version >= 5 && request.protocolName() != null && !protocolName.equals(request.protocolName())) {
            throw Errors.INCONSISTENT_GROUP_PROTOCOL.exception("The protocol name " + request.protocolName() + " from member "
                    + member.memberId + " request is not equal to the protocol name " + protocolName
                    + " returned in the join response.");
        }
        if (group.groupEpoch > member.memberEpoch && member.state != ConsumerGroupMember.State.UNREVOKED_PARTITIONS) {
            consumerProtocol.scheduleJoinTimeoutIfAbsent(group, member);
            throw Errors.REBALANCE_IN_PROGRESS.exception("A new rebalance is triggered in group " + group.groupId()
                    + " and member " + member.memberId + " should rejoin to catch up.");
        }
        consumerProtocol.cancelSyncTimeout(member);
        consumerProtocol.touchSession(group, member);
        // Kafka echoes the request's protocol type and name (null when the request left them out, as v5+ may)
        return new SyncGroupResponseData().setProtocolType(request.protocolType()).setProtocolName(request.protocolName())
                .setAssignment(assignmentBytes(group, member));
    }

    /** A Heartbeat of a classic member: REBALANCE_IN_PROGRESS when it must rejoin to move towards its target. */
    public Errors heartbeat(ConsumerGroup group, HeartbeatRequestData request, short version) {
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        ConsumerGroupMember member = classicMember(group, request.memberId(), instanceId);
        throwIfGenerationUnmatched(member, request.generationId());
        consumerProtocol.touchSession(group, member);
        if (member.memberEpoch < group.groupEpoch
                || member.state == ConsumerGroupMember.State.UNREVOKED_PARTITIONS
                || (member.state == ConsumerGroupMember.State.UNRELEASED_PARTITIONS && !waitingOnUnreleasedPartition(group, member))) {
            consumerProtocol.scheduleJoinTimeoutIfAbsent(group, member);
            return Errors.REBALANCE_IN_PROGRESS;
        }
        return Errors.NONE;
    }

    /**
     * A LeaveGroup (Kafka's classicGroupLeaveToConsumerGroup): each identity is answered on its own, and the members
     * found leave together in one step (one group epoch bump, or the downgrade when only classic members stay).
     * Any member can be removed this way, whatever protocol it speaks (Admin's removeMembersFromConsumerGroup).
     */
    public List<LeaveGroupResponseData.MemberResponse> leave(ConsumerGroup group, List<LeaveGroupRequestData.MemberIdentity> identities,
                                                             List<CoordinatorRecord> records) {
        List<LeaveGroupResponseData.MemberResponse> responses = new ArrayList<>(identities.size());
        Set<ConsumerGroupMember> leaving = new LinkedHashSet<>();
        for (LeaveGroupRequestData.MemberIdentity identity : identities) {
            String memberId = identity.memberId();
            String instanceId = identity.groupInstanceId();
            String reason = identity.reason() != null ? identity.reason() : "not provided";
            Errors error = Errors.NONE;
            ConsumerGroupMember member;
            if (instanceId == null) {
                member = group.members.get(memberId);
                if (member == null) {
                    error = Errors.UNKNOWN_MEMBER_ID;
                } else {
                    log.info("[GroupId {}] Dynamic member {} has left group through explicit `LeaveGroup` request; "
                            + "client reason: {}", group.groupId(), memberId, reason);
                }
            } else {
                member = group.staticMember(instanceId);
                if (member == null) {
                    error = Errors.UNKNOWN_MEMBER_ID;
                } else if (!memberId.isEmpty() && !member.memberId.equals(memberId)) {
                    // an empty member id is an administrative removal by instance id
                    error = Errors.FENCED_INSTANCE_ID;
                } else {
                    log.info("[GroupId {}] Static member {} with instance id {} has left group through explicit "
                            + "`LeaveGroup` request; client reason: {}", group.groupId(), member.memberId, instanceId, reason);
                }
            }
            if (error == Errors.NONE) {
                leaving.add(member);
            }
            responses.add(new LeaveGroupResponseData.MemberResponse().setMemberId(memberId).setGroupInstanceId(instanceId)
                    .setErrorCode(error.code()));
        }
        consumerProtocol.fenceMembers(group, leaving, records);
        return responses;
    }

    private static ConsumerGroupMember classicMember(ConsumerGroup group, String memberId, String instanceId) {
        ConsumerGroupMember member;
        if (instanceId == null) {
            member = group.members.get(memberId);
            if (member == null) {
                throw Errors.UNKNOWN_MEMBER_ID.exception("Member " + memberId + " is not a member of group "
                        + group.groupId() + ".");
            }
        } else {
            member = group.staticMember(instanceId);
            if (member == null) {
                throw Errors.UNKNOWN_MEMBER_ID.exception("Member with instance id " + instanceId
                        + " is not a member of group " + group.groupId() + ".");
            }
            if (!member.memberId.equals(memberId)) {
                throw Errors.FENCED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                        + instanceId + " was fenced by member " + member.memberId + ".");
            }
        }
        if (member.classic == null) {
            throw Errors.UNKNOWN_MEMBER_ID.exception("Member " + member.memberId + " does not use the classic protocol.");
        }
        return member;
    }

    private static void throwIfGenerationUnmatched(ConsumerGroupMember member, int generationId) {
        if (member.memberEpoch != generationId) {
            throw Errors.ILLEGAL_GENERATION.exception("The request generation id " + generationId
                    + " is not equal to the member epoch " + member.memberEpoch + " of member " + member.memberId + ".");
        }
    }

    /** Whether some partition of the member's target still belongs to another member. */
    private static boolean waitingOnUnreleasedPartition(ConsumerGroup group, ConsumerGroupMember member) {
        for (Map.Entry<Uuid, Set<Integer>> e : group.targetAssignment(member.memberId).entrySet()) {
            Set<Integer> assigned = member.assignedPartitions.getOrDefault(e.getKey(), Set.of());
            for (int p : e.getValue()) {
                if (!assigned.contains(p) && group.currentPartitionEpoch(e.getKey(), p) != -1) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The member's assigned partitions as the embedded consumer protocol's Assignment, in the member's version. */
    byte[] assignmentBytes(ConsumerGroup group, ConsumerGroupMember member) {
        return serializeAssignment(group, member.assignedPartitions, member.classic.protocols().get(0).metadata());
    }

    byte[] serializeAssignment(ConsumerGroup group, Map<Uuid, Set<Integer>> partitions, byte[] subscriptionMetadata) {
        List<TopicPartition> list = new ArrayList<>();
        new TreeMap<>(partitions).forEach((topicId, ps) -> {
            String name = consumerProtocol.topicName(group, topicId);
            if (name != null) {
                ps.forEach(p -> list.add(new TopicPartition(name, p)));
            }
        });
        short version = ConsumerProtocol.deserializeVersion(ByteBuffer.wrap(subscriptionMetadata));
        return Utils.toArray(ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(list), version));
    }

    /** The partitions a classic member says it owns, by topic id (topics that no longer exist drop out). */
    private List<ConsumerGroupHeartbeatRequestData.TopicPartitions> ownedPartitions(List<TopicPartition> owned) {
        Map<Uuid, List<Integer>> byTopic = new HashMap<>();
        for (TopicPartition tp : owned) {
            TopicInfo topic = consumerProtocol.topics().byName(tp.topic());
            if (topic != null) {
                byTopic.computeIfAbsent(topic.id(), k -> new ArrayList<>()).add(tp.partition());
            }
        }
        List<ConsumerGroupHeartbeatRequestData.TopicPartitions> out = new ArrayList<>();
        byTopic.forEach((id, ps) -> out.add(new ConsumerGroupHeartbeatRequestData.TopicPartitions().setTopicId(id).setPartitions(ps)));
        return out;
    }

    /** The subscription embedded in a member's protocols; they all carry the same one, so the first is read. */
    static ConsumerProtocolSubscriptionView subscriptionOf(List<ConsumerGroupMember.ClassicProtocol> protocols) {
        try {
            ConsumerPartitionAssignor.Subscription s = ConsumerProtocol.deserializeSubscription(
                    ByteBuffer.wrap(protocols.get(0).metadata()));
            return new ConsumerProtocolSubscriptionView(s.topics(), s.ownedPartitions(), s.rackId().orElse(null));
        } catch (RuntimeException e) {
            throw Errors.INCONSISTENT_GROUP_PROTOCOL.exception("The embedded consumer protocol subscription is malformed.");
        }
    }

    // ================================================================== conversions

    /** A member of a classic group, as a conversion between the two group types carries it over. */
    public record ClassicMemberView(String memberId, String instanceId, String clientId, String clientHost,
                                    int rebalanceTimeoutMs, int sessionTimeoutMs,
                                    List<ConsumerGroupMember.ClassicProtocol> protocols, byte[] assignment) {
    }

    /** Kafka's validateOnlineUpgrade, after the group was found to use the consumer embedded protocol. */
    public boolean canUpgrade(String groupId, int memberCount) {
        ConsumerGroupConfig config = consumerProtocol.config();
        if (!config.migrationPolicy().isUpgradeEnabled()) {
            log.info("Cannot upgrade classic group {} to consumer group because the online upgrade is disabled.", groupId);
            return false;
        }
        if (memberCount > config.maxSize()) {
            log.info("Cannot upgrade classic group {} to consumer group because the group size exceeds the consumer group "
                    + "maximum size.", groupId);
            return false;
        }
        return true;
    }

    /**
     * Kafka's ConsumerGroup.fromClassicGroup: the classic members become classic members of a consumer group at
     * epoch {@code generationId}, Stable with their last assignment as assignment and target; the records that
     * create the group go to {@code records} and their sessions start.
     * @throws ApiException GROUP_ID_NOT_FOUND when a member's embedded protocol cannot be read, as in Kafka
     */
    public ConsumerGroup upgrade(String groupId, Object lock, int generationId, String protocolName,
                                 List<ClassicMemberView> members, List<CoordinatorRecord> records) {
        ConsumerGroup group = new ConsumerGroup(groupId, lock);
        group.groupEpoch = generationId;
        group.assignmentEpoch = generationId;
        try {
            for (ClassicMemberView view : members) {
                ConsumerGroupMember member = new ConsumerGroupMember(view.memberId());
                byte[] metadata = view.protocols().get(0).metadata();
                for (ConsumerGroupMember.ClassicProtocol p : view.protocols()) {
                    if (p.name().equals(protocolName)) {
                        metadata = p.metadata();
                    }
                }
                ConsumerPartitionAssignor.Subscription subscription =
                        ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(metadata));
                Map<Uuid, Set<Integer>> assigned = new HashMap<>();
                if (view.assignment() != null && view.assignment().length > 0) {
                    for (TopicPartition tp : ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(view.assignment())).partitions()) {
                        TopicInfo topic = consumerProtocol.topics().byName(tp.topic());
                        if (topic != null) {
                            assigned.computeIfAbsent(topic.id(), k -> new TreeSet<>()).add(tp.partition());
                        }
                    }
                }
                Map<Uuid, Set<Integer>> frozen = new HashMap<>();
                assigned.forEach((id, ps) -> frozen.put(id, Collections.unmodifiableSet(ps)));
                member.memberEpoch = generationId;
                member.previousMemberEpoch = generationId;
                member.state = ConsumerGroupMember.State.STABLE;
                member.instanceId = view.instanceId();
                member.rackId = subscription.rackId().orElse(null);
                member.rebalanceTimeoutMs = view.rebalanceTimeoutMs();
                member.clientId = view.clientId();
                member.clientHost = view.clientHost();
                member.subscribedTopicNames = List.copyOf(subscription.topics());
                member.assignedPartitions = Collections.unmodifiableMap(frozen);
                member.classic = new ConsumerGroupMember.ClassicMetadata(view.sessionTimeoutMs(), view.protocols());
                group.targetAssignment.put(member.memberId, member.assignedPartitions);
                group.add(member);
            }
        } catch (RuntimeException e) {
            log.warn("Cannot upgrade the classic group {} to consumer group because the embedded consumer protocol is "
                    + "malformed: {}.", groupId, e.getMessage());
            throw Errors.GROUP_ID_NOT_FOUND.exception("Cannot upgrade the classic group " + groupId
                    + " to consumer group because the embedded consumer protocol is malformed.");
        }
        group.subscriptionMetadata = consumerProtocol.subscriptionMetadata(group);
        // Kafka's createConsumerGroupRecords, in its order
        for (ConsumerGroupMember m : group.members.values()) {
            records.add(ConsumerGroupRecords.memberMetadata(groupId, m));
        }
        records.add(ConsumerGroupRecords.groupEpoch(groupId, group.groupEpoch));
        for (ConsumerGroupMember m : group.members.values()) {
            records.add(ConsumerGroupRecords.targetAssignment(groupId, m.memberId, group.targetAssignment(m.memberId)));
        }
        records.add(ConsumerGroupRecords.targetAssignmentEpoch(groupId, group.assignmentEpoch));
        for (ConsumerGroupMember m : group.members.values()) {
            records.add(ConsumerGroupRecords.currentAssignment(groupId, m));
        }
        consumerProtocol.startSessions(group);
        log.info("[GroupId {}] Upgraded the classic group with {} members to a consumer group at epoch {}.", groupId,
                members.size(), generationId);
        return group;
    }

    /**
     * Kafka's ClassicGroup.fromConsumerGroup: the members but the {@code leaving} ones, each with its target assignment
     * serialized in the version of its consumer protocol (the caller selects the protocol, as Kafka does).
     */
    public List<ClassicMemberView> downgradeMembers(ConsumerGroup group, Set<ConsumerGroupMember> leaving) {
        List<ClassicMemberView> out = new ArrayList<>();
        for (ConsumerGroupMember m : group.members.values()) {
            if (leaving.contains(m)) {
                continue;
            }
            out.add(new ClassicMemberView(m.memberId, m.instanceId, m.clientId, m.clientHost, m.rebalanceTimeoutMs,
                    m.classic.sessionTimeoutMs(), m.classic.protocols(),
                    serializeAssignment(group, group.targetAssignment(m.memberId), m.classic.protocols().get(0).metadata())));
        }
        return out;
    }

    record ConsumerProtocolSubscriptionView(List<String> topics, List<TopicPartition> ownedPartitions, String rackId) {
    }
}
