package io.gregor.coordinator;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Kafka's classic group coordinator: the group state machine (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead), committed offsets, and their records in {@code __consumer_offsets}.
 * <p>
 * Each group is guarded by its own monitor; nothing blocks while waiting: a JoinGroup or SyncGroup that
 * must wait gets a future completed when the rebalance moves on. All timers (rebalance, session,
 * pending member, pending sync, offset expiry) run on one shared scheduler.
 */
public final class GroupCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);
    /** Group operations Kafka reports as authorized without an authorizer: READ, DELETE, DESCRIBE. */
    private static final int GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

    private final GroupConfig config;
    private final OffsetsLog offsetsLog;
    private final TopicCatalog catalog;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    private final Map<String, ClassicGroup> groups = new ConcurrentHashMap<>();
    private ScheduledFuture<?> expiryTask;

    public GroupCoordinator(GroupConfig config, OffsetsLog offsetsLog, TopicCatalog catalog,
                            ScheduledExecutorService scheduler, Time time) {
        this.config = config;
        this.offsetsLog = offsetsLog;
        this.catalog = catalog;
        this.scheduler = scheduler;
        this.time = time;
    }

    /** The {@code __consumer_offsets} partition of a group: abs(hashCode) % partitions, abs(MIN_VALUE) being 0. */
    public static int partitionFor(String groupId, int partitionCount) {
        int hash = groupId.hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitionCount;
    }

    public int partitionFor(String groupId) {
        return partitionFor(groupId, offsetsLog.partitionCount());
    }

    // ================================================================== startup: replay

    /** Rebuilds every group and offset from {@code __consumer_offsets}, then starts offset expiry. */
    public void startup() {
        long began = time.milliseconds();
        for (int p = 0; p < offsetsLog.partitionCount(); p++) {
            loadPartition(p);
        }
        long interval = config.retentionCheckIntervalMs();
        expiryTask = scheduler.scheduleAtFixedRate(this::expireOffsets, interval, interval, TimeUnit.MILLISECONDS);
        log.info("Group coordinator loaded {} groups in {} ms", groups.size(), time.milliseconds() - began);
    }

    private void loadPartition(int partition) {
        Map<String, Map<TopicPartition, CommittedOffset>> offsets = new HashMap<>();
        Map<String, OffsetsRecords.GroupRecord> metadata = new HashMap<>();
        Set<String> seen = new HashSet<>();
        offsetsLog.replay(partition, (key, value) -> {
            OffsetsRecords.Key k = OffsetsRecords.readKey(key);
            if (k == null) {
                return;
            }
            seen.add(k.group());
            if (k.isOffsetCommit()) {
                TopicPartition tp = new TopicPartition(k.topic(), k.partition());
                if (value == null) {
                    Map<TopicPartition, CommittedOffset> forGroup = offsets.get(k.group());
                    if (forGroup != null) {
                        forGroup.remove(tp);
                    }
                } else {
                    offsets.computeIfAbsent(k.group(), g -> new HashMap<>()).put(tp, OffsetsRecords.readOffsetValue(value));
                }
            } else if (value == null) {
                metadata.remove(k.group());
            } else {
                metadata.put(k.group(), OffsetsRecords.readGroupValue(value));
            }
        });
        long now = time.milliseconds();
        for (String groupId : seen) {
            OffsetsRecords.GroupRecord record = metadata.get(groupId);
            Map<TopicPartition, CommittedOffset> committed = offsets.getOrDefault(groupId, Map.of());
            if (record == null && committed.isEmpty()) {
                continue;
            }
            ClassicGroup group = new ClassicGroup(groupId, now);
            group.offsets.putAll(committed);
            if (record != null) {
                group.protocolType = record.protocolType();
                group.generationId = record.generation();
                group.protocolName = record.protocol();
                group.currentStateTimestamp = record.currentStateTimestamp() >= 0 ? record.currentStateTimestamp() : now;
                for (OffsetsRecords.MemberRecord m : record.members()) {
                    Map<String, byte[]> protocols = new java.util.LinkedHashMap<>();
                    if (record.protocol() != null) {
                        protocols.put(record.protocol(), m.subscription());
                    }
                    GroupMember member = new GroupMember(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(),
                            m.rebalanceTimeoutMs(), m.sessionTimeoutMs(), protocols);
                    member.assignment = m.assignment();
                    group.add(member);
                }
                group.leaderId = record.leader();
                if (!group.members.isEmpty()) {
                    // As Kafka: a group loaded with members is Stable; members that are gone time out.
                    group.state = GroupState.STABLE;
                    for (GroupMember member : group.members.values()) {
                        touchSession(group, member);
                    }
                }
            }
            groups.put(groupId, group);
        }
    }

    @Override
    public void close() {
        if (expiryTask != null) {
            expiryTask.cancel(false);
        }
    }

    // ================================================================== JoinGroup

    public CompletableFuture<JoinGroupResponseData> joinGroup(JoinGroupRequestData request, short version,
                                                              String clientId, String clientHost) {
        String groupId = request.groupId();
        String memberId = request.memberId();
        String instanceId = version >= 5 ? request.groupInstanceId() : null;
        CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(joinError(version, Errors.INVALID_GROUP_ID, memberId));
        }
        int session = request.sessionTimeoutMs();
        if (session < config.minSessionTimeoutMs() || session > config.maxSessionTimeoutMs()) {
            return CompletableFuture.completedFuture(joinError(version, Errors.INVALID_SESSION_TIMEOUT, memberId));
        }
        boolean unknownMember = memberId.isEmpty();
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (!unknownMember) {
                return CompletableFuture.completedFuture(joinError(version, Errors.UNKNOWN_MEMBER_ID, memberId));
            }
            group = groups.computeIfAbsent(groupId, g -> new ClassicGroup(g, time.milliseconds()));
        }
        int rebalanceTimeout = version >= 1 && request.rebalanceTimeoutMs() > 0 ? request.rebalanceTimeoutMs() : session;
        Map<String, byte[]> protocols = GroupMember.protocolsOf(request.protocols());
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                // Deleted meanwhile: the client finds the coordinator again and retries on a fresh group.
                future.complete(joinError(version, Errors.COORDINATOR_NOT_AVAILABLE, memberId));
            } else if (!group.supportsProtocols(request.protocolType(), protocols.keySet())) {
                future.complete(joinError(version, Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
            } else if (unknownMember) {
                joinNewMember(group, request, version, instanceId, clientId, clientHost, rebalanceTimeout, protocols, future);
            } else {
                joinKnownMember(group, request, version, instanceId, clientId, clientHost, rebalanceTimeout, protocols, future);
            }
        }
        return future;
    }

    private void joinNewMember(ClassicGroup group, JoinGroupRequestData request, short version, String instanceId,
                               String clientId, String clientHost, int rebalanceTimeout, Map<String, byte[]> protocols,
                               CompletableFuture<JoinGroupResponseData> future) {
        String existing = instanceId == null ? null : group.staticMembers.get(instanceId);
        if (existing == null && group.members.size() + group.pendingMembers.size() >= config.maxGroupSize()) {
            future.complete(joinError(version, Errors.GROUP_MAX_SIZE_REACHED, ""));
            return;
        }
        String newMemberId = (instanceId != null ? instanceId : clientId) + "-" + UUID.randomUUID();
        if (existing != null) {
            replaceStaticMember(group, existing, newMemberId, request, version, clientId, clientHost, rebalanceTimeout,
                    protocols, future);
        } else if (instanceId == null && version >= 4) {
            // KIP-394: the member must come back with the id we hand out before it counts.
            group.pendingMembers.add(newMemberId);
            scheduler.schedule(() -> expirePendingMember(group, newMemberId), request.sessionTimeoutMs(),
                    TimeUnit.MILLISECONDS);
            future.complete(joinError(version, Errors.MEMBER_ID_REQUIRED, newMemberId));
        } else {
            addMemberAndRebalance(group, newMemberId, instanceId, request, version, clientId, clientHost,
                    rebalanceTimeout, protocols, future);
        }
    }

    private void joinKnownMember(ClassicGroup group, JoinGroupRequestData request, short version, String instanceId,
                                 String clientId, String clientHost, int rebalanceTimeout, Map<String, byte[]> protocols,
                                 CompletableFuture<JoinGroupResponseData> future) {
        String memberId = request.memberId();
        if (group.pendingMembers.remove(memberId)) {
            addMemberAndRebalance(group, memberId, instanceId, request, version, clientId, clientHost, rebalanceTimeout,
                    protocols, future);
            return;
        }
        if (group.isStaticMemberFenced(instanceId, memberId)) {
            future.complete(joinError(version, Errors.FENCED_INSTANCE_ID, memberId));
            return;
        }
        GroupMember member = group.members.get(memberId);
        if (member == null || group.is(GroupState.EMPTY)) {
            future.complete(joinError(version, Errors.UNKNOWN_MEMBER_ID, memberId));
            return;
        }
        member.joinVersion = version;
        switch (group.state) {
            case PREPARING_REBALANCE -> {
                updateMember(member, request, clientId, clientHost, rebalanceTimeout, protocols, future);
                tryCompleteJoin(group);
            }
            case COMPLETING_REBALANCE -> {
                if (member.sameProtocols(protocols)) {
                    // The JoinGroup response was lost: answer it again.
                    future.complete(joinResult(group, member, version));
                } else {
                    updateMember(member, request, clientId, clientHost, rebalanceTimeout, protocols, future);
                    prepareRebalance(group, "member " + memberId + " changed its protocols");
                }
            }
            case STABLE -> {
                if (group.isLeader(memberId) || !member.sameProtocols(protocols)) {
                    updateMember(member, request, clientId, clientHost, rebalanceTimeout, protocols, future);
                    prepareRebalance(group, "leader or member with new metadata " + memberId + " rejoined");
                } else {
                    future.complete(joinResult(group, member, version));
                }
            }
            default -> future.complete(joinError(version, Errors.UNKNOWN_MEMBER_ID, memberId));
        }
    }

    private void updateMember(GroupMember member, JoinGroupRequestData request, String clientId, String clientHost,
                              int rebalanceTimeout, Map<String, byte[]> protocols,
                              CompletableFuture<JoinGroupResponseData> future) {
        member.protocols = protocols;
        member.rebalanceTimeoutMs = rebalanceTimeout;
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.clientId = clientId;
        member.clientHost = clientHost;
        if (member.awaitingJoin != null && member.awaitingJoin != future) {
            member.awaitingJoin.complete(joinError(member.joinVersion, Errors.REBALANCE_IN_PROGRESS, member.memberId));
        }
        member.awaitingJoin = future;
    }

    private void addMemberAndRebalance(ClassicGroup group, String memberId, String instanceId,
                                       JoinGroupRequestData request, short version, String clientId, String clientHost,
                                       int rebalanceTimeout, Map<String, byte[]> protocols,
                                       CompletableFuture<JoinGroupResponseData> future) {
        GroupMember member = new GroupMember(memberId, instanceId, clientId, clientHost, rebalanceTimeout,
                request.sessionTimeoutMs(), protocols);
        member.joinVersion = version;
        member.awaitingJoin = future;
        if (group.members.isEmpty()) {
            group.protocolType = request.protocolType();
        }
        group.add(member);
        touchSession(group, member);
        if (group.is(GroupState.PREPARING_REBALANCE) && group.initialDelayPhase) {
            group.newMemberAdded = true;
        }
        if (!group.is(GroupState.PREPARING_REBALANCE)) {
            prepareRebalance(group, "adding new member " + memberId);
        } else {
            tryCompleteJoin(group);
        }
    }

    /** A static member came back with a new member id (restart): it takes over the old member's place. */
    private void replaceStaticMember(ClassicGroup group, String oldMemberId, String newMemberId,
                                     JoinGroupRequestData request, short version, String clientId, String clientHost,
                                     int rebalanceTimeout, Map<String, byte[]> protocols,
                                     CompletableFuture<JoinGroupResponseData> future) {
        GroupMember member = group.members.get(oldMemberId);
        String oldLeader = group.leaderId;
        boolean wasLeader = group.isLeader(oldMemberId);
        // The old incarnation's outstanding requests are fenced.
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(joinError(member.joinVersion, Errors.FENCED_INSTANCE_ID, oldMemberId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(syncError(Errors.FENCED_INSTANCE_ID));
            member.awaitingSync = null;
        }
        Map<String, byte[]> oldProtocols = member.protocols;
        group.members.remove(oldMemberId);
        member.memberId = newMemberId;
        group.members.put(newMemberId, member);
        group.staticMembers.put(member.groupInstanceId, newMemberId);
        if (group.pendingSyncMembers.remove(oldMemberId)) {
            group.pendingSyncMembers.add(newMemberId);
        }
        if (wasLeader) {
            group.leaderId = newMemberId;
        }
        member.joinVersion = version;
        updateMember(member, request, clientId, clientHost, rebalanceTimeout, protocols, future);
        touchSession(group, member);
        switch (group.state) {
            case STABLE -> {
                String next = group.selectProtocol();
                if (next != null && next.equals(group.protocolName)) {
                    // Nothing the assignment depends on changed: keep it, persist the new member id, no rebalance.
                    member.awaitingJoin = null;
                    try {
                        storeGroup(group);
                    } catch (RuntimeException e) {
                        log.warn("Persisting group {} after static member replacement failed", group.groupId, e);
                        member.memberId = oldMemberId;
                        group.members.remove(newMemberId);
                        group.members.put(oldMemberId, member);
                        group.staticMembers.put(member.groupInstanceId, oldMemberId);
                        member.protocols = oldProtocols;
                        if (wasLeader) {
                            group.leaderId = oldMemberId;
                        }
                        future.complete(joinError(version, Errors.COORDINATOR_NOT_AVAILABLE, ""));
                        return;
                    }
                    boolean skipAssignment = wasLeader && version >= 9;
                    JoinGroupResponseData response = new JoinGroupResponseData()
                            .setGenerationId(group.generationId)
                            .setProtocolName(group.protocolName)
                            // Without KIP-814 the old leader id keeps the new incarnation from assigning again.
                            .setLeader(skipAssignment ? newMemberId : oldLeader)
                            .setMemberId(newMemberId);
                    if (version >= 7) {
                        response.setProtocolType(group.protocolType);
                    }
                    if (skipAssignment) {
                        response.setSkipAssignment(true).setMembers(memberList(group, version));
                    }
                    future.complete(response);
                } else {
                    prepareRebalance(group, "static member " + member.groupInstanceId + " rejoined with other protocols");
                }
            }
            case COMPLETING_REBALANCE ->
                    // The leader may already be assigning for the old member id: start over.
                    prepareRebalance(group, "static member " + member.groupInstanceId + " rejoined during sync");
            case PREPARING_REBALANCE -> tryCompleteJoin(group);
            default -> throw new IllegalStateException("static member in a " + group.state + " group");
        }
    }

    private void expirePendingMember(ClassicGroup group, String memberId) {
        synchronized (group) {
            if (group.pendingMembers.remove(memberId) && group.is(GroupState.PREPARING_REBALANCE)) {
                tryCompleteJoin(group);
            }
        }
    }

    private void prepareRebalance(ClassicGroup group, String reason) {
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            for (GroupMember m : group.members.values()) {
                m.assignment = GroupMember.EMPTY;
                if (m.awaitingSync != null) {
                    m.awaitingSync.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
                    m.awaitingSync = null;
                }
            }
        }
        cancel(group.syncTimer);
        group.pendingSyncMembers.clear();
        boolean fromEmpty = group.is(GroupState.EMPTY);
        GroupState previous = group.state;
        long now = time.milliseconds();
        group.transitionTo(GroupState.PREPARING_REBALANCE, now);
        long epoch = ++group.rebalanceEpoch;
        int rebalanceTimeout = group.rebalanceTimeoutMs();
        cancel(group.joinTimer);
        if (fromEmpty) {
            long delay = Math.min(config.initialRebalanceDelayMs(), rebalanceTimeout);
            group.initialDelayPhase = true;
            group.newMemberAdded = false;
            group.remainingRebalanceMs = rebalanceTimeout - delay;
            group.joinTimer = scheduler.schedule(() -> onInitialDelay(group, epoch, delay), delay, TimeUnit.MILLISECONDS);
        } else {
            group.initialDelayPhase = false;
            group.joinTimer = scheduler.schedule(() -> onJoinTimeout(group, epoch), rebalanceTimeout, TimeUnit.MILLISECONDS);
        }
        log.info("Preparing to rebalance group {} in state {} with old generation {} ({})", group.groupId,
                previous.wireName(), group.generationId, reason);
        if (!fromEmpty) {
            tryCompleteJoin(group);
        }
    }

    /** group.initial.rebalance.delay.ms: each new member extends the wait, up to the rebalance timeout. */
    private void onInitialDelay(ClassicGroup group, long epoch, long lastDelay) {
        synchronized (group) {
            if (group.rebalanceEpoch != epoch || !group.is(GroupState.PREPARING_REBALANCE)) {
                return;
            }
            if (group.newMemberAdded && group.remainingRebalanceMs > 0) {
                long delay = Math.min(config.initialRebalanceDelayMs(), group.remainingRebalanceMs);
                group.newMemberAdded = false;
                group.remainingRebalanceMs -= delay;
                group.joinTimer = scheduler.schedule(() -> onInitialDelay(group, epoch, delay), delay, TimeUnit.MILLISECONDS);
                return;
            }
            group.initialDelayPhase = false;
            completeJoin(group);
        }
    }

    private void onJoinTimeout(ClassicGroup group, long epoch) {
        synchronized (group) {
            if (group.rebalanceEpoch == epoch && group.is(GroupState.PREPARING_REBALANCE)) {
                completeJoin(group);
            }
        }
    }

    private void tryCompleteJoin(ClassicGroup group) {
        if (group.is(GroupState.PREPARING_REBALANCE) && !group.initialDelayPhase && group.allMembersJoined()) {
            completeJoin(group);
        }
    }

    private void completeJoin(ClassicGroup group) {
        cancel(group.joinTimer);
        group.joinTimer = null;
        // Members that did not rejoin in time are out.
        for (GroupMember m : List.copyOf(group.members.values())) {
            if (m.awaitingJoin == null) {
                log.info("Member {} of group {} did not rejoin in time; removing it", m.memberId, group.groupId);
                group.remove(m.memberId);
            }
        }
        if (group.leaderId != null && !group.members.containsKey(group.leaderId)) {
            group.leaderId = group.members.isEmpty() ? null : group.members.keySet().iterator().next();
        }
        long now = time.milliseconds();
        long epoch = ++group.rebalanceEpoch;
        group.generationId++;
        if (group.members.isEmpty()) {
            group.protocolName = null;
            group.leaderId = null;
            group.transitionTo(GroupState.EMPTY, now);
            log.info("Group {} with generation {} is now empty", group.groupId, group.generationId);
            try {
                storeGroup(group);
            } catch (RuntimeException e) {
                log.warn("Persisting empty group {} failed", group.groupId, e);
            }
            return;
        }
        group.protocolName = group.selectProtocol();
        group.transitionTo(GroupState.COMPLETING_REBALANCE, now);
        log.info("Stabilized group {} generation {} with {} members, protocol {}", group.groupId, group.generationId,
                group.members.size(), group.protocolName);
        group.pendingSyncMembers.clear();
        for (GroupMember m : group.members.values()) {
            group.pendingSyncMembers.add(m.memberId);
            CompletableFuture<JoinGroupResponseData> waiting = m.awaitingJoin;
            m.awaitingJoin = null;
            touchSession(group, m);
            waiting.complete(joinResult(group, m, m.joinVersion));
        }
        int generation = group.generationId;
        group.syncTimer = scheduler.schedule(() -> onSyncTimeout(group, generation), group.rebalanceTimeoutMs(),
                TimeUnit.MILLISECONDS);
    }

    /** Members that never sent SyncGroup in the rebalance timeout are removed, which rebalances. */
    private void onSyncTimeout(ClassicGroup group, int generation) {
        synchronized (group) {
            if (group.generationId != generation || group.pendingSyncMembers.isEmpty()
                    || !(group.is(GroupState.COMPLETING_REBALANCE) || group.is(GroupState.STABLE))) {
                return;
            }
            for (String memberId : List.copyOf(group.pendingSyncMembers)) {
                log.info("Member {} of group {} did not sync in time; removing it", memberId, group.groupId);
                removeMember(group, group.members.get(memberId), Errors.UNKNOWN_MEMBER_ID);
            }
            if (!group.is(GroupState.PREPARING_REBALANCE)) {
                prepareRebalance(group, "members did not sync in time");
            }
        }
    }

    private JoinGroupResponseData joinResult(ClassicGroup group, GroupMember member, short version) {
        JoinGroupResponseData response = new JoinGroupResponseData()
                .setGenerationId(group.generationId)
                .setProtocolName(group.protocolName)
                .setLeader(group.leaderId)
                .setMemberId(member.memberId);
        if (version >= 7) {
            response.setProtocolType(group.protocolType);
        }
        if (group.isLeader(member.memberId)) {
            response.setMembers(memberList(group, version));
        }
        return response;
    }

    private static List<JoinGroupResponseMember> memberList(ClassicGroup group, short version) {
        List<JoinGroupResponseMember> list = new ArrayList<>(group.members.size());
        for (GroupMember m : group.members.values()) {
            JoinGroupResponseMember jm = new JoinGroupResponseMember().setMemberId(m.memberId)
                    .setMetadata(m.metadata(group.protocolName));
            if (version >= 5) {
                jm.setGroupInstanceId(m.groupInstanceId);
            }
            list.add(jm);
        }
        return list;
    }

    private static JoinGroupResponseData joinError(short version, Errors error, String memberId) {
        JoinGroupResponseData response = new JoinGroupResponseData().setErrorCode(error.code()).setGenerationId(-1)
                .setMemberId(memberId == null ? "" : memberId).setLeader("");
        // ProtocolName is nullable from v7 only.
        response.setProtocolName(version >= 7 ? null : "");
        return response;
    }

    // ================================================================== SyncGroup

    public CompletableFuture<SyncGroupResponseData> syncGroup(SyncGroupRequestData request, short version) {
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            return CompletableFuture.completedFuture(syncError(Errors.UNKNOWN_MEMBER_ID));
        }
        CompletableFuture<SyncGroupResponseData> future = new CompletableFuture<>();
        String memberId = request.memberId();
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        synchronized (group) {
            Errors error = Errors.NONE;
            if (group.is(GroupState.DEAD)) {
                error = Errors.COORDINATOR_NOT_AVAILABLE;
            } else if (group.isStaticMemberFenced(instanceId, memberId)) {
                error = Errors.FENCED_INSTANCE_ID;
            } else if (!group.members.containsKey(memberId)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else if (request.generationId() != group.generationId) {
                error = Errors.ILLEGAL_GENERATION;
            } else if (version >= 5 && request.protocolType() != null && !request.protocolType().equals(group.protocolType)) {
                error = Errors.INCONSISTENT_GROUP_PROTOCOL;
            } else if (version >= 5 && request.protocolName() != null && !request.protocolName().equals(group.protocolName)) {
                error = Errors.INCONSISTENT_GROUP_PROTOCOL;
            } else if (group.is(GroupState.EMPTY)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else if (group.is(GroupState.PREPARING_REBALANCE)) {
                error = Errors.REBALANCE_IN_PROGRESS;
            }
            if (error != Errors.NONE) {
                future.complete(syncError(error));
                return future;
            }
            GroupMember member = group.members.get(memberId);
            touchSession(group, member);
            group.pendingSyncMembers.remove(memberId);
            if (group.is(GroupState.STABLE)) {
                future.complete(syncResult(group, member.assignment));
                return future;
            }
            // CompletingRebalance: wait for the leader's assignment.
            if (member.awaitingSync != null) {
                member.awaitingSync.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
            }
            member.awaitingSync = future;
            if (group.isLeader(memberId)) {
                Map<String, byte[]> assignments = new HashMap<>();
                for (SyncGroupRequestData.SyncGroupRequestAssignment a : request.assignments()) {
                    assignments.put(a.memberId(), a.assignment());
                }
                for (GroupMember m : group.members.values()) {
                    byte[] a = assignments.get(m.memberId);
                    m.assignment = a == null ? GroupMember.EMPTY : a;
                }
                try {
                    storeGroup(group);
                } catch (RuntimeException e) {
                    log.warn("Persisting the assignment of group {} failed", group.groupId, e);
                    for (GroupMember m : group.members.values()) {
                        m.assignment = GroupMember.EMPTY;
                        if (m.awaitingSync != null) {
                            m.awaitingSync.complete(syncError(Errors.COORDINATOR_NOT_AVAILABLE));
                            m.awaitingSync = null;
                        }
                    }
                    prepareRebalance(group, "storing the assignment failed");
                    return future;
                }
                group.transitionTo(GroupState.STABLE, time.milliseconds());
                for (GroupMember m : group.members.values()) {
                    if (m.awaitingSync != null) {
                        m.awaitingSync.complete(syncResult(group, m.assignment));
                        m.awaitingSync = null;
                    }
                }
            }
        }
        return future;
    }

    private static SyncGroupResponseData syncResult(ClassicGroup group, byte[] assignment) {
        return new SyncGroupResponseData().setProtocolType(group.protocolType).setProtocolName(group.protocolName)
                .setAssignment(assignment);
    }

    private static SyncGroupResponseData syncError(Errors error) {
        return new SyncGroupResponseData().setErrorCode(error.code()).setProtocolType(null).setProtocolName(null)
                .setAssignment(GroupMember.EMPTY);
    }

    // ================================================================== Heartbeat, LeaveGroup, sessions

    public HeartbeatResponseData heartbeat(HeartbeatRequestData request, short version) {
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            return new HeartbeatResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code());
        }
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        synchronized (group) {
            Errors error;
            GroupMember member = group.members.get(request.memberId());
            if (group.is(GroupState.DEAD)) {
                error = Errors.COORDINATOR_NOT_AVAILABLE;
            } else if (group.isStaticMemberFenced(instanceId, request.memberId())) {
                error = Errors.FENCED_INSTANCE_ID;
            } else if (member == null || group.is(GroupState.EMPTY)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else if (request.generationId() != group.generationId) {
                error = Errors.ILLEGAL_GENERATION;
            } else {
                touchSession(group, member);
                error = group.is(GroupState.PREPARING_REBALANCE) ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
            }
            return new HeartbeatResponseData().setErrorCode(error.code());
        }
    }

    public LeaveGroupResponseData leaveGroup(LeaveGroupRequestData request, short version) {
        List<MemberIdentity> leaving = version >= 3 ? request.members()
                : List.of(new MemberIdentity().setMemberId(request.memberId()));
        LeaveGroupResponseData response = new LeaveGroupResponseData();
        ClassicGroup group = groups.get(request.groupId());
        List<MemberResponse> results = new ArrayList<>();
        if (group == null) {
            for (MemberIdentity m : leaving) {
                results.add(memberResponse(m, Errors.UNKNOWN_MEMBER_ID));
            }
        } else {
            synchronized (group) {
                if (group.is(GroupState.DEAD)) {
                    return response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code());
                }
                for (MemberIdentity m : leaving) {
                    results.add(memberResponse(m, leave(group, m)));
                }
            }
        }
        if (version >= 3) {
            response.setMembers(results);
        } else {
            response.setErrorCode(results.get(0).errorCode());
        }
        return response;
    }

    private Errors leave(ClassicGroup group, MemberIdentity identity) {
        if (identity.groupInstanceId() != null) {
            String current = group.staticMembers.get(identity.groupInstanceId());
            if (current == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (!identity.memberId().isEmpty() && !identity.memberId().equals(current)) {
                return Errors.FENCED_INSTANCE_ID;
            }
            log.info("Static member {} ({}) of group {} left", current, identity.groupInstanceId(), group.groupId);
            removeMember(group, group.members.get(current), Errors.UNKNOWN_MEMBER_ID);
            return Errors.NONE;
        }
        if (group.pendingMembers.remove(identity.memberId())) {
            tryCompleteJoin(group);
            return Errors.NONE;
        }
        GroupMember member = group.members.get(identity.memberId());
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        log.info("Member {} of group {} left", identity.memberId(), group.groupId);
        removeMember(group, member, Errors.UNKNOWN_MEMBER_ID);
        return Errors.NONE;
    }

    private static MemberResponse memberResponse(MemberIdentity m, Errors error) {
        return new MemberResponse().setMemberId(m.memberId()).setGroupInstanceId(m.groupInstanceId())
                .setErrorCode(error.code());
    }

    /** Removes a member that left, expired or was fenced, and moves the group on as Kafka does. */
    private void removeMember(ClassicGroup group, GroupMember member, Errors toOutstanding) {
        if (member == null) {
            return;
        }
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(joinError(member.joinVersion, toOutstanding, member.memberId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(syncError(toOutstanding));
            member.awaitingSync = null;
        }
        group.remove(member.memberId);
        switch (group.state) {
            case STABLE, COMPLETING_REBALANCE -> prepareRebalance(group, "removing member " + member.memberId);
            case PREPARING_REBALANCE -> tryCompleteJoin(group);
            default -> {
            }
        }
    }

    /** Moves the member's session deadline forward; one scheduled check per member follows it lazily. */
    private void touchSession(ClassicGroup group, GroupMember member) {
        member.sessionDeadlineMs = time.milliseconds() + member.sessionTimeoutMs;
        if (!member.sessionCheckScheduled) {
            member.sessionCheckScheduled = true;
            scheduleSessionCheck(group, member, member.sessionTimeoutMs);
        }
    }

    private void scheduleSessionCheck(ClassicGroup group, GroupMember member, long delayMs) {
        scheduler.schedule(() -> checkSession(group, member), Math.max(delayMs, 1), TimeUnit.MILLISECONDS);
    }

    private void checkSession(ClassicGroup group, GroupMember member) {
        synchronized (group) {
            if (group.members.get(member.memberId) != member) {
                member.sessionCheckScheduled = false;
                return;
            }
            long now = time.milliseconds();
            // Members waiting in a rebalance are alive by definition: their request is parked here.
            boolean waiting = member.awaitingJoin != null || member.awaitingSync != null;
            if (waiting || now < member.sessionDeadlineMs) {
                long next = waiting ? member.sessionTimeoutMs : member.sessionDeadlineMs - now;
                scheduleSessionCheck(group, member, next);
                return;
            }
            member.sessionCheckScheduled = false;
            log.info("Member {} of group {} has failed (session timeout {} ms); removing it", member.memberId,
                    group.groupId, member.sessionTimeoutMs);
            removeMember(group, member, Errors.UNKNOWN_MEMBER_ID);
        }
    }

    // ================================================================== offsets

    public OffsetCommitResponseData commitOffsets(OffsetCommitRequestData request, short version) {
        String groupId = request.groupId();
        int generation = request.generationIdOrMemberEpoch();
        String memberId = request.memberId();
        String instanceId = version >= 7 ? request.groupInstanceId() : null;
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (generation >= 0) {
                return commitError(request, version >= 9 ? Errors.GROUP_ID_NOT_FOUND : Errors.ILLEGAL_GENERATION);
            }
            // A consumer with assign() (or an admin) commits without a group: create a simple, empty one.
            group = groups.computeIfAbsent(groupId, g -> new ClassicGroup(g, time.milliseconds()));
        }
        synchronized (group) {
            Errors error = Errors.NONE;
            if (group.is(GroupState.DEAD)) {
                error = Errors.COORDINATOR_NOT_AVAILABLE;
            } else if (generation < 0 && group.is(GroupState.EMPTY)) {
                error = Errors.NONE;
            } else if (group.isStaticMemberFenced(instanceId, memberId)) {
                error = Errors.FENCED_INSTANCE_ID;
            } else if (group.is(GroupState.COMPLETING_REBALANCE)) {
                error = Errors.REBALANCE_IN_PROGRESS;
            } else if (!group.members.containsKey(memberId)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else if (generation != group.generationId) {
                error = Errors.ILLEGAL_GENERATION;
            } else {
                touchSession(group, group.members.get(memberId));
            }
            if (error != Errors.NONE) {
                return commitError(request, error);
            }
            long now = time.milliseconds();
            OffsetCommitResponseData response = new OffsetCommitResponseData();
            List<CoordinatorRecord> records = new ArrayList<>();
            Map<TopicPartition, CommittedOffset> accepted = new HashMap<>();
            List<OffsetCommitResponsePartition> acceptedResults = new ArrayList<>();
            for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
                OffsetCommitResponseTopic topicResult = new OffsetCommitResponseTopic().setName(t.name());
                response.topics().add(topicResult);
                for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                    OffsetCommitResponsePartition result = new OffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex());
                    topicResult.partitions().add(result);
                    String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                    if (!catalog.hasPartition(t.name(), p.partitionIndex())) {
                        result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    } else if (metadata.length() > config.offsetMetadataMaxBytes()) {
                        result.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                    } else {
                        CommittedOffset offset = new CommittedOffset(p.committedOffset(),
                                version >= 6 ? p.committedLeaderEpoch() : -1, metadata, now, -1L);
                        TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                        accepted.put(tp, offset);
                        records.add(new CoordinatorRecord(OffsetsRecords.offsetCommitKey(groupId, tp.topic(), tp.partition()),
                                OffsetsRecords.offsetCommitValue(offset)));
                        acceptedResults.add(result);
                    }
                }
            }
            if (!records.isEmpty()) {
                try {
                    offsetsLog.append(partitionFor(groupId), records);
                    group.offsets.putAll(accepted);
                } catch (RuntimeException e) {
                    Errors appendError = appendError(e);
                    log.warn("Writing offsets of group {} failed: {}", groupId, e.toString());
                    for (OffsetCommitResponsePartition r : acceptedResults) {
                        r.setErrorCode(appendError.code());
                    }
                }
            }
            return response;
        }
    }

    private static Errors appendError(RuntimeException e) {
        Errors error = Errors.forException(e);
        return switch (error) {
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> Errors.INVALID_COMMIT_OFFSET_SIZE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            default -> Errors.COORDINATOR_NOT_AVAILABLE;
        };
    }

    private static OffsetCommitResponseData commitError(OffsetCommitRequestData request, Errors error) {
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
            OffsetCommitResponseTopic topicResult = new OffsetCommitResponseTopic().setName(t.name());
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                topicResult.partitions().add(new OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
            }
            response.topics().add(topicResult);
        }
        return response;
    }

    /**
     * The committed offsets of a group: of the given partitions (topic to partitions), or all of them when
     * {@code partitions} is null. Partitions without a commit are left out; callers answer them with -1.
     */
    public Map<TopicPartition, CommittedOffset> committedOffsets(String groupId, Map<String, List<Integer>> partitions) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return Map.of();
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return Map.of();
            }
            if (partitions == null) {
                return new HashMap<>(group.offsets);
            }
            Map<TopicPartition, CommittedOffset> out = new HashMap<>();
            partitions.forEach((topic, list) -> {
                for (int p : list) {
                    TopicPartition tp = new TopicPartition(topic, p);
                    CommittedOffset o = group.offsets.get(tp);
                    if (o != null) {
                        out.put(tp, o);
                    }
                }
            });
            return out;
        }
    }

    public OffsetDeleteResponseData deleteOffsets(OffsetDeleteRequestData request) {
        OffsetDeleteResponseData response = new OffsetDeleteResponseData();
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            return response.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return response.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
            }
            Set<String> subscribed = Set.of();
            if (!group.is(GroupState.EMPTY)) {
                if (!ClassicGroup.CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)) {
                    return response.setErrorCode(Errors.NON_EMPTY_GROUP.code());
                }
                Set<String> topics = group.subscribedTopics();
                subscribed = topics == null ? Set.of() : topics;
            }
            List<CoordinatorRecord> tombstones = new ArrayList<>();
            List<TopicPartition> removed = new ArrayList<>();
            for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : request.topics()) {
                OffsetDeleteResponseTopic topicResult = new OffsetDeleteResponseTopic().setName(t.name());
                response.topics().add(topicResult);
                boolean inUse = subscribed.contains(t.name());
                for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                    topicResult.partitions().add(new OffsetDeleteResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(inUse ? Errors.GROUP_SUBSCRIBED_TO_TOPIC.code() : Errors.NONE.code()));
                    TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                    if (!inUse && group.offsets.containsKey(tp)) {
                        removed.add(tp);
                        tombstones.add(new CoordinatorRecord(
                                OffsetsRecords.offsetCommitKey(group.groupId, tp.topic(), tp.partition()), null));
                    }
                }
            }
            if (!tombstones.isEmpty()) {
                try {
                    offsetsLog.append(partitionFor(group.groupId), tombstones);
                } catch (RuntimeException e) {
                    log.warn("Deleting offsets of group {} failed: {}", group.groupId, e.toString());
                    return new OffsetDeleteResponseData().setErrorCode(appendError(e).code());
                }
                removed.forEach(group.offsets::remove);
            }
            return response;
        }
    }

    /** offsets.retention.minutes: drops expired offsets (Kafka's rules) and groups left empty without offsets. */
    void expireOffsets() {
        long now = time.milliseconds();
        int expired = 0;
        for (ClassicGroup group : groups.values()) {
            try {
                expired += expireOffsets(group, now);
            } catch (RuntimeException e) {
                log.warn("Offset expiry of group {} failed", group.groupId, e);
            }
        }
        if (expired > 0) {
            log.info("Removed {} expired offsets", expired);
        }
    }

    private int expireOffsets(ClassicGroup group, long now) {
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return 0;
            }
            List<TopicPartition> expired = new ArrayList<>();
            long retention = config.offsetsRetentionMs();
            if (group.is(GroupState.EMPTY)) {
                // A consumer group's offsets age from when it became empty; a simple group's from each commit.
                boolean hadMembers = group.protocolType != null;
                group.offsets.forEach((tp, o) -> {
                    long base = hadMembers ? group.currentStateTimestamp : o.commitTimestamp();
                    if (o.expireTimestamp() >= 0 ? now >= o.expireTimestamp() : now >= base + retention) {
                        expired.add(tp);
                    }
                });
            } else if (group.is(GroupState.STABLE)) {
                Set<String> subscribed = group.subscribedTopics();
                if (subscribed != null) {
                    group.offsets.forEach((tp, o) -> {
                        if (!subscribed.contains(tp.topic()) && now >= o.commitTimestamp() + retention) {
                            expired.add(tp);
                        }
                    });
                }
            }
            List<CoordinatorRecord> tombstones = new ArrayList<>();
            for (TopicPartition tp : expired) {
                tombstones.add(new CoordinatorRecord(OffsetsRecords.offsetCommitKey(group.groupId, tp.topic(), tp.partition()), null));
            }
            boolean groupGone = group.is(GroupState.EMPTY) && group.offsets.size() == expired.size();
            if (groupGone) {
                tombstones.add(new CoordinatorRecord(OffsetsRecords.groupMetadataKey(group.groupId), null));
            }
            if (!tombstones.isEmpty()) {
                offsetsLog.append(partitionFor(group.groupId), tombstones);
                expired.forEach(group.offsets::remove);
            }
            if (groupGone) {
                group.transitionTo(GroupState.DEAD, now);
                groups.remove(group.groupId, group);
            }
            return expired.size();
        }
    }

    // ================================================================== ListGroups, DescribeGroups, DeleteGroups

    /** Groups for ListGroups: {@code states} and {@code types} filters as v4/v5 define them (empty = all). */
    public List<ListedGroup> listGroups(Collection<String> states, Collection<String> types, short version) {
        if (!types.isEmpty() && types.stream().noneMatch(t -> t.equalsIgnoreCase("classic"))) {
            return List.of();
        }
        List<ListedGroup> out = new ArrayList<>();
        for (ClassicGroup group : groups.values()) {
            synchronized (group) {
                if (group.is(GroupState.DEAD)) {
                    continue;
                }
                if (!states.isEmpty() && states.stream().noneMatch(group.state::matches)) {
                    continue;
                }
                ListedGroup listed = new ListedGroup().setGroupId(group.groupId)
                        .setProtocolType(group.protocolType == null ? "" : group.protocolType);
                if (version >= 4) {
                    listed.setGroupState(group.state.wireName());
                }
                if (version >= 5) {
                    listed.setGroupType("classic");
                }
                out.add(listed);
            }
        }
        out.sort(Comparator.comparing(ListedGroup::groupId));
        return out;
    }

    public DescribedGroup describeGroup(String groupId, short version, boolean includeAuthorizedOperations) {
        DescribedGroup described = new DescribedGroup().setGroupId(groupId);
        if (version >= 3) {
            described.setAuthorizedOperations(includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : Integer.MIN_VALUE);
        }
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return notFound(described, groupId, version);
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return notFound(described, groupId, version);
            }
            boolean stable = group.is(GroupState.STABLE);
            described.setGroupState(group.state.wireName())
                    .setProtocolType(group.protocolType == null ? "" : group.protocolType)
                    .setProtocolData(stable ? group.protocolName : "");
            for (GroupMember m : group.members.values()) {
                DescribedGroupMember dm = new DescribedGroupMember().setMemberId(m.memberId)
                        .setClientId(m.clientId).setClientHost(m.clientHost)
                        // Metadata and assignment only of a Stable group, as Kafka.
                        .setMemberMetadata(stable ? m.metadata(group.protocolName) : GroupMember.EMPTY)
                        .setMemberAssignment(stable ? m.assignment : GroupMember.EMPTY);
                if (version >= 4) {
                    dm.setGroupInstanceId(m.groupInstanceId);
                }
                described.members().add(dm);
            }
            return described;
        }
    }

    private static DescribedGroup notFound(DescribedGroup described, String groupId, short version) {
        described.setGroupState(GroupState.DEAD.wireName()).setProtocolType("").setProtocolData("");
        if (version >= 6) {
            described.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + groupId + " not found.");
        }
        return described;
    }

    public DeletableGroupResult deleteGroup(String groupId) {
        DeletableGroupResult result = new DeletableGroupResult().setGroupId(groupId);
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return result.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return result.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
            }
            if (!group.is(GroupState.EMPTY)) {
                return result.setErrorCode(Errors.NON_EMPTY_GROUP.code());
            }
            List<CoordinatorRecord> tombstones = new ArrayList<>();
            for (TopicPartition tp : group.offsets.keySet()) {
                tombstones.add(new CoordinatorRecord(OffsetsRecords.offsetCommitKey(groupId, tp.topic(), tp.partition()), null));
            }
            tombstones.add(new CoordinatorRecord(OffsetsRecords.groupMetadataKey(groupId), null));
            try {
                offsetsLog.append(partitionFor(groupId), tombstones);
            } catch (RuntimeException e) {
                log.warn("Deleting group {} failed: {}", groupId, e.toString());
                return result.setErrorCode(appendError(e).code());
            }
            group.offsets.clear();
            group.transitionTo(GroupState.DEAD, time.milliseconds());
            groups.remove(groupId, group);
            log.info("Deleted group {}", groupId);
            return result;
        }
    }

    // ================================================================== persistence helpers

    private void storeGroup(ClassicGroup group) {
        List<OffsetsRecords.MemberRecord> members = new ArrayList<>(group.members.size());
        for (GroupMember m : group.members.values()) {
            members.add(new OffsetsRecords.MemberRecord(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    m.rebalanceTimeoutMs, m.sessionTimeoutMs, m.metadata(group.protocolName), m.assignment));
        }
        OffsetsRecords.GroupRecord record = new OffsetsRecords.GroupRecord(
                group.protocolType == null ? "" : group.protocolType, group.generationId, group.protocolName,
                group.leaderId, group.currentStateTimestamp, members);
        offsetsLog.append(partitionFor(group.groupId), List.of(new CoordinatorRecord(
                OffsetsRecords.groupMetadataKey(group.groupId), OffsetsRecords.groupMetadataValue(record))));
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /** For tests and tools: the state of a group, or DEAD if it does not exist. */
    public GroupState state(String groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return GroupState.DEAD;
        }
        synchronized (group) {
            return group.state;
        }
    }

    public int groupCount() {
        return groups.size();
    }
}
