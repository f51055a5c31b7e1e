package io.gregor.coordinator;

import io.gregor.coordinator.consumer.ClassicMembersProtocol;
import io.gregor.coordinator.consumer.ConsumerGroupMember;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The classic membership protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup driving the group state
 * machine (Empty, PreparingRebalance, CompletingRebalance, Stable), with its timers: rebalance (join and
 * initial delay), pending member, pending sync and member sessions.
 * <p>
 * Everything runs under the group's monitor; nothing blocks while waiting: a JoinGroup or SyncGroup that must
 * wait gets a future completed when the rebalance moves on. Timers run on the shared scheduler and take the
 * group's monitor when they fire.
 */
final class ClassicMembership {
    private static final Logger log = LoggerFactory.getLogger(ClassicMembership.class);
    /**
     * For a group.initial.rebalance.delay.ms below it (0 ms in development setups), the initial delay ends once this
     * long passes without a JoinGroup of a new member: enough for JoinGroups of consumers started together.
     */
    static final long MIN_INITIAL_DELAY_STEP_MS = 20;

    private final GroupConfig config;
    private final GroupStore store;
    private final ConcurrentMap<String, ClassicGroup> groups;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    /** Serves the classic members of consumer groups (Kafka's mixed groups). */
    private final ClassicMembersProtocol mixed;

    ClassicMembership(GroupConfig config, GroupStore store, ConcurrentMap<String, ClassicGroup> groups,
                      ScheduledExecutorService scheduler, Time time, ClassicMembersProtocol mixed) {
        this.config = config;
        this.store = store;
        this.groups = groups;
        this.scheduler = scheduler;
        this.time = time;
        this.mixed = mixed;
    }

    // ================================================================== JoinGroup

    CompletableFuture<JoinGroupResponseData> joinGroup(JoinGroupRequestData request, short version,
                                                       String clientId, String clientHost) {
        String groupId = request.groupId();
        String memberId = request.memberId();
        String instanceId = version >= 5 ? request.groupInstanceId() : null;
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
        CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
        Join join = new Join(request, version, instanceId, clientId, clientHost, rebalanceTimeout, protocols, future);
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                // Deleted meanwhile: the client finds the coordinator again and retries on a fresh group.
                join.fail(Errors.COORDINATOR_NOT_AVAILABLE, memberId);
            } else if (group.consumer != null && !group.consumer.isEmpty()) {
                joinConsumerGroup(group, join, clientId, clientHost);
            } else if (group.consumer != null && !unknownMember) {
                join.fail(Errors.UNKNOWN_MEMBER_ID, memberId);
            } else if (!group.supportsProtocols(request.protocolType(), protocols.keySet())) {
                join.fail(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId);
            } else if (unknownMember) {
                if (group.consumer != null) {
                    // an empty consumer group becomes a classic one when a classic member joins, as in Kafka
                    log.info("Converting the empty consumer group {} to a classic group", groupId);
                    try {
                        store.append(groupId, io.gregor.coordinator.consumer.ConsumerGroupRecords.groupTombstones(group.consumer));
                    } catch (RuntimeException e) {
                        join.fail(GroupStore.appendError(e), memberId);
                        return future;
                    }
                    group.consumer.markDead();
                    group.consumer = null;
                    group.protocolType = null;
                }
                joinNewMember(group, join);
            } else {
                joinKnownMember(group, join);
            }
        }
        return future;
    }

    /** A classic member joins a consumer group (Kafka's mixed group): answered once its records are written. */
    private void joinConsumerGroup(ClassicGroup group, Join join, String clientId, String clientHost) {
        List<CoordinatorRecord> records = new ArrayList<>();
        JoinGroupResponseData response;
        try {
            response = mixed.join(group.consumer, join.request(), join.version(), clientId, clientHost, records);
        } catch (ApiException e) {
            join.fail(Errors.forException(e), join.request().memberId());
            return;
        }
        answerAfter(group.groupId, records, join.future(), response,
                error -> joinError(join.version(), error, join.request().memberId()));
    }

    /** Completes {@code future} with {@code response} once {@code records} are written, or with the write's error. */
    private <T> void answerAfter(String groupId, List<CoordinatorRecord> records, CompletableFuture<T> future, T response,
                                 Function<Errors, T> onError) {
        if (records.isEmpty()) {
            future.complete(response);
            return;
        }
        try {
            store.append(groupId, records).whenComplete((ignored, e) -> {
                if (e == null) {
                    future.complete(response);
                } else {
                    log.warn("Writing the records of consumer group {} failed: {}", groupId, e.toString());
                    future.complete(onError.apply(GroupStore.appendError(e)));
                }
            });
        } catch (RuntimeException e) {
            log.warn("Writing the records of consumer group {} failed: {}", groupId, e.toString());
            future.complete(onError.apply(GroupStore.appendError(e)));
        }
    }

    /** A JoinGroup with its version-dependent fields resolved, and the future that answers it. */
    private record Join(JoinGroupRequestData request, short version, String instanceId, String clientId,
                        String clientHost, int rebalanceTimeoutMs, Map<String, byte[]> protocols,
                        CompletableFuture<JoinGroupResponseData> future) {
        void answer(JoinGroupResponseData response) {
            future.complete(response);
        }

        void fail(Errors error, String memberId) {
            future.complete(joinError(version, error, memberId));
        }
    }

    private void joinNewMember(ClassicGroup group, Join join) {
        noteNewMemberJoin(group);
        String instanceId = join.instanceId();
        String existing = instanceId == null ? null : group.staticMembers.get(instanceId);
        if (existing == null && group.members.size() + group.pendingMembers.size() >= config.maxGroupSize()) {
            join.fail(Errors.GROUP_MAX_SIZE_REACHED, "");
            return;
        }
        String newMemberId = (instanceId != null ? instanceId : join.clientId()) + "-" + UUID.randomUUID();
        if (existing != null) {
            replaceStaticMember(group, existing, newMemberId, join);
        } else if (instanceId == null && join.version() >= 4) {
            // KIP-394: the member must come back with the id we hand out before it counts.
            group.pendingMembers.add(newMemberId);
            scheduler.schedule(() -> expirePendingMember(group, newMemberId), join.request().sessionTimeoutMs(),
                    TimeUnit.MILLISECONDS);
            join.fail(Errors.MEMBER_ID_REQUIRED, newMemberId);
        } else {
            addMemberAndRebalance(group, newMemberId, join);
        }
    }

    private void joinKnownMember(ClassicGroup group, Join join) {
        String memberId = join.request().memberId();
        if (group.pendingMembers.remove(memberId)) {
            addMemberAndRebalance(group, memberId, join);
            return;
        }
        if (group.isStaticMemberFenced(join.instanceId(), memberId)) {
            join.fail(Errors.FENCED_INSTANCE_ID, memberId);
            return;
        }
        GroupMember member = group.members.get(memberId);
        if (member == null || group.is(GroupState.EMPTY)) {
            join.fail(Errors.UNKNOWN_MEMBER_ID, memberId);
            return;
        }
        member.joinVersion = join.version();
        switch (group.state) {
            case PREPARING_REBALANCE -> {
                updateMember(member, join);
                tryCompleteJoin(group);
            }
            case COMPLETING_REBALANCE -> {
                if (member.sameProtocols(join.protocols())) {
                    // The JoinGroup response was lost: answer it again.
                    join.answer(joinResult(group, member, join.version()));
                } else {
                    updateMember(member, join);
                    prepareRebalance(group, "member " + memberId + " changed its protocols");
                }
            }
            case STABLE -> {
                if (group.isLeader(memberId) || !member.sameProtocols(join.protocols())) {
                    updateMember(member, join);
                    prepareRebalance(group, "leader or member with new metadata " + memberId + " rejoined");
                } else {
                    join.answer(joinResult(group, member, join.version()));
                }
            }
            default -> join.fail(Errors.UNKNOWN_MEMBER_ID, memberId);
        }
    }

    /** Takes the join's settings and parks its future; an earlier JoinGroup still waiting is told to retry. */
    private void updateMember(GroupMember member, Join join) {
        member.protocols = join.protocols();
        member.rebalanceTimeoutMs = join.rebalanceTimeoutMs();
        member.sessionTimeoutMs = join.request().sessionTimeoutMs();
        member.clientId = join.clientId();
        member.clientHost = join.clientHost();
        if (member.awaitingJoin != null && member.awaitingJoin != join.future()) {
            member.awaitingJoin.complete(joinError(member.joinVersion, Errors.REBALANCE_IN_PROGRESS, member.memberId));
        }
        member.awaitingJoin = join.future();
    }

    private void addMemberAndRebalance(ClassicGroup group, String memberId, Join join) {
        GroupMember member = new GroupMember(memberId, join.instanceId(), join.clientId(), join.clientHost(),
                join.rebalanceTimeoutMs(), join.request().sessionTimeoutMs(), join.protocols());
        member.joinVersion = join.version();
        member.awaitingJoin = join.future();
        if (group.members.isEmpty()) {
            group.protocolType = join.request().protocolType();
        }
        group.add(member);
        // a client that gave up on its parked JoinGroup and retried would otherwise leave a defunct member behind
        member.isNew = true;
        touchSession(group, member, config.newMemberJoinTimeoutMs());
        if (group.is(GroupState.PREPARING_REBALANCE) && group.initialDelayPhase) {
            group.newMemberAdded = true;
            group.lastNewMemberJoinMs = time.milliseconds();
        }
        if (!group.is(GroupState.PREPARING_REBALANCE)) {
            prepareRebalance(group, "adding new member " + memberId);
        } else {
            tryCompleteJoin(group);
        }
    }

    /** A static member came back with a new member id (restart): it takes over the old member's place. */
    private void replaceStaticMember(ClassicGroup group, String oldMemberId, String newMemberId, Join join) {
        short version = join.version();
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
        updateMember(member, join);
        touchSession(group, member);
        switch (group.state) {
            case STABLE -> {
                String next = group.selectProtocol();
                if (next != null && next.equals(group.protocolName)) {
                    // Nothing the assignment depends on changed: keep it, persist the new member id, no rebalance.
                    member.awaitingJoin = null;
                    try {
                        store.storeGroup(group);
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
                        join.fail(Errors.COORDINATOR_NOT_AVAILABLE, "");
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
                    join.answer(response);
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
            long delay = initialDelayStep(rebalanceTimeout);
            group.initialDelayPhase = true;
            group.newMemberAdded = false;
            group.remainingRebalanceMs = rebalanceTimeout - delay;
            group.lastNewMemberJoinMs = now;
            group.initialDelayDeadlineMs = now + rebalanceTimeout;
            group.joinTimer = scheduler.schedule(() -> onInitialDelay(group, epoch), delay, TimeUnit.MILLISECONDS);
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

    /**
     * One step of group.initial.rebalance.delay.ms, at most {@code remainingMs}; the first step of a delay below
     * {@link #MIN_INITIAL_DELAY_STEP_MS} is that long, then {@link #endsAfterQuietStep} rules. Kafka runs even a 0 ms
     * step through its coordinator timer and event queue, so consumers started together, whose JoinGroups are a few ms
     * apart, join its first generation; a scheduler firing at once would complete the join with the first member
     * alone, leaving the others to a second rebalance the first learns of only on its next heartbeat (seconds later).
     */
    private long initialDelayStep(long remainingMs) {
        return Math.min(Math.max(config.initialRebalanceDelayMs(), MIN_INITIAL_DELAY_STEP_MS), remainingMs);
    }

    /**
     * Kafka's delays below the shortest step end once a step passes without a new member's JoinGroup, counted from
     * that JoinGroup rather than in whole steps from the start: consumers started together are all in, and the join
     * completes a step after the last of them, not up to two steps after the first. The MEMBER_ID_REQUIRED
     * JoinGroup counts too, so a member whose rejoin with its id is on its way is waited for.
     */
    private boolean endsAfterQuietStep() {
        return config.initialRebalanceDelayMs() < MIN_INITIAL_DELAY_STEP_MS;
    }

    private void noteNewMemberJoin(ClassicGroup group) {
        if (group.is(GroupState.PREPARING_REBALANCE) && group.initialDelayPhase) {
            group.lastNewMemberJoinMs = time.milliseconds();
        }
    }

    /** group.initial.rebalance.delay.ms: each new member extends the wait, up to the rebalance timeout. */
    private void onInitialDelay(ClassicGroup group, long epoch) {
        synchronized (group) {
            if (group.rebalanceEpoch != epoch || !group.is(GroupState.PREPARING_REBALANCE)) {
                return;
            }
            if (endsAfterQuietStep()) {
                long quietUntil = Math.min(group.lastNewMemberJoinMs + MIN_INITIAL_DELAY_STEP_MS,
                        group.initialDelayDeadlineMs);
                long left = quietUntil - time.milliseconds();
                if (left > 0) {
                    group.joinTimer = scheduler.schedule(() -> onInitialDelay(group, epoch), left, TimeUnit.MILLISECONDS);
                    return;
                }
            } else if (group.newMemberAdded && group.remainingRebalanceMs > 0) {
                long delay = initialDelayStep(group.remainingRebalanceMs);
                group.newMemberAdded = false;
                group.remainingRebalanceMs -= delay;
                group.joinTimer = scheduler.schedule(() -> onInitialDelay(group, epoch), delay, TimeUnit.MILLISECONDS);
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
                store.storeGroup(group);
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
            if (m.isNew) {
                // its check waits for the join timeout: start the session's own instead
                m.isNew = false;
                cancel(m.sessionCheck);
                m.sessionCheckScheduled = false;
            }
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

    CompletableFuture<SyncGroupResponseData> syncGroup(SyncGroupRequestData request, short version) {
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            return CompletableFuture.completedFuture(syncError(Errors.UNKNOWN_MEMBER_ID));
        }
        CompletableFuture<SyncGroupResponseData> future = new CompletableFuture<>();
        String memberId = request.memberId();
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        synchronized (group) {
            Errors error = Errors.NONE;
            if (!group.is(GroupState.DEAD) && group.consumer != null && !group.consumer.isEmpty()) {
                try {
                    future.complete(mixed.sync(group.consumer, request, version));
                } catch (ApiException e) {
                    future.complete(syncError(Errors.forException(e)));
                }
                return future;
            }
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
                // As in Kafka, the group is Stable only once its assignment is written: a member joining meanwhile
                // starts a new rebalance, and the members waiting here are told to rejoin at once.
                CompletableFuture<Void> written;
                try {
                    written = store.append(group.groupId, List.of(GroupStore.groupRecord(group)));
                } catch (RuntimeException e) {
                    assignmentNotStored(group, e);
                    return future;
                }
                int generation = group.generationId;
                written.whenComplete((ignored, e) -> {
                    synchronized (group) {
                        if (!group.is(GroupState.COMPLETING_REBALANCE) || group.generationId != generation) {
                            return; // another rebalance started meanwhile; its members were told
                        }
                        if (e != null) {
                            assignmentNotStored(group, e);
                            return;
                        }
                        group.transitionTo(GroupState.STABLE, time.milliseconds());
                        for (GroupMember m : group.members.values()) {
                            if (m.awaitingSync != null) {
                                m.awaitingSync.complete(syncResult(group, m.assignment));
                                m.awaitingSync = null;
                            }
                        }
                    }
                });
            }
        }
        return future;
    }

    /** Kafka: the members waiting for the assignment get the write's error, and the group rebalances. */
    private void assignmentNotStored(ClassicGroup group, Throwable e) {
        Errors error = GroupStore.appendError(e);
        log.warn("Persisting the assignment of group {} failed: {}", group.groupId, error);
        for (GroupMember m : group.members.values()) {
            m.assignment = GroupMember.EMPTY;
            if (m.awaitingSync != null) {
                m.awaitingSync.complete(syncError(error));
                m.awaitingSync = null;
            }
        }
        prepareRebalance(group, "storing the assignment failed with " + error);
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

    HeartbeatResponseData heartbeat(HeartbeatRequestData request, short version) {
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            return new HeartbeatResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code());
        }
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        synchronized (group) {
            Errors error;
            if (!group.is(GroupState.DEAD) && group.consumer != null && !group.consumer.isEmpty()) {
                try {
                    error = mixed.heartbeat(group.consumer, request, version);
                } catch (ApiException e) {
                    error = Errors.forException(e);
                }
                return new HeartbeatResponseData().setErrorCode(error.code());
            }
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

    CompletableFuture<LeaveGroupResponseData> leaveGroup(LeaveGroupRequestData request, short version) {
        List<MemberIdentity> leaving = version >= 3 ? request.members()
                : List.of(new MemberIdentity().setMemberId(request.memberId()));
        ClassicGroup group = groups.get(request.groupId());
        List<MemberResponse> results = new ArrayList<>();
        if (group == null) {
            for (MemberIdentity m : leaving) {
                results.add(memberResponse(m, Errors.UNKNOWN_MEMBER_ID));
            }
            return CompletableFuture.completedFuture(leaveResponse(results, version));
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return CompletableFuture.completedFuture(
                        new LeaveGroupResponseData().setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
            }
            if (group.consumer != null && !group.consumer.isEmpty()) {
                List<CoordinatorRecord> records = new ArrayList<>();
                results.addAll(mixed.leave(group.consumer, leaving, records));
                // answered once the departures are written, as Kafka does
                CompletableFuture<LeaveGroupResponseData> future = new CompletableFuture<>();
                answerAfter(group.groupId, records, future, leaveResponse(results, version),
                        error -> new LeaveGroupResponseData().setErrorCode(error.code()));
                return future;
            }
            for (MemberIdentity m : leaving) {
                results.add(memberResponse(m, leave(group, m)));
            }
        }
        return CompletableFuture.completedFuture(leaveResponse(results, version));
    }

    private static LeaveGroupResponseData leaveResponse(List<MemberResponse> results, short version) {
        LeaveGroupResponseData response = new LeaveGroupResponseData();
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

    // ================================================================== conversions (Kafka's online migration)

    /**
     * The classic half of Kafka's convertToConsumerGroup: parked joins and syncs answer REBALANCE_IN_PROGRESS (the
     * members rejoin the consumer group), timers stop, and the members leave the classic state, returned as the
     * consumer group takes them over.
     */
    List<ClassicMembersProtocol.ClassicMemberView> takeMembersForUpgrade(ClassicGroup group) {
        List<ClassicMembersProtocol.ClassicMemberView> views = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            if (m.awaitingJoin != null) {
                m.awaitingJoin.complete(joinError(m.joinVersion, Errors.REBALANCE_IN_PROGRESS, m.memberId));
                m.awaitingJoin = null;
            }
            if (m.awaitingSync != null) {
                m.awaitingSync.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
                m.awaitingSync = null;
            }
            cancel(m.sessionCheck);
            m.sessionCheckScheduled = false;
            List<ConsumerGroupMember.ClassicProtocol> protocols = new ArrayList<>();
            m.protocols.forEach((name, metadata) -> protocols.add(new ConsumerGroupMember.ClassicProtocol(name, metadata)));
            views.add(new ClassicMembersProtocol.ClassicMemberView(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    m.rebalanceTimeoutMs, m.sessionTimeoutMs, protocols, m.assignment));
        }
        cancel(group.joinTimer);
        cancel(group.syncTimer);
        group.joinTimer = null;
        group.syncTimer = null;
        group.rebalanceEpoch++;
        group.initialDelayPhase = false;
        group.members.clear();
        group.staticMembers.clear();
        group.pendingMembers.clear();
        group.pendingSyncMembers.clear();
        group.leaderId = null;
        return views;
    }

    /**
     * The classic half of Kafka's convertToClassicGroup: the members become a Stable classic group at
     * {@code generation} with their assignments; the caller writes {@link GroupStore#groupRecord} of it and then
     * calls {@link #rebalanceAfterDowngrade}.
     */
    void installDowngradedMembers(ClassicGroup group, int generation, List<ClassicMembersProtocol.ClassicMemberView> views) {
        group.generationId = generation;
        group.protocolType = ClassicGroup.CONSUMER_PROTOCOL_TYPE;
        for (ClassicMembersProtocol.ClassicMemberView v : views) {
            Map<String, byte[]> protocols = new LinkedHashMap<>();
            v.protocols().forEach(p -> protocols.put(p.name(), p.metadata()));
            GroupMember member = new GroupMember(v.memberId(), v.instanceId(), v.clientId(), v.clientHost(),
                    v.rebalanceTimeoutMs(), v.sessionTimeoutMs(), protocols);
            member.assignment = v.assignment();
            group.add(member);
        }
        group.protocolName = group.selectProtocol();
        group.transitionTo(GroupState.STABLE, time.milliseconds());
    }

    /** Kafka rebalances a group downgraded because a member left: the members hear of it on their heartbeat. */
    void rebalanceAfterDowngrade(ClassicGroup group) {
        startSessions(group);
        prepareRebalance(group, "Downgrade group " + group.groupId + " from consumer to classic.");
    }

    /**
     * The group moves to another coordinator: parked joins and syncs answer NOT_COORDINATOR (the members
     * look the coordinator up again), timers stop, and the group is dead here.
     */
    void unload(ClassicGroup group) {
        for (GroupMember m : group.members.values()) {
            if (m.awaitingJoin != null) {
                m.awaitingJoin.complete(joinError(m.joinVersion, Errors.NOT_COORDINATOR, m.memberId));
                m.awaitingJoin = null;
            }
            if (m.awaitingSync != null) {
                m.awaitingSync.complete(syncError(Errors.NOT_COORDINATOR));
                m.awaitingSync = null;
            }
        }
        cancel(group.joinTimer);
        cancel(group.syncTimer);
        group.joinTimer = null;
        group.syncTimer = null;
        group.rebalanceEpoch++;
        group.transitionTo(GroupState.DEAD, time.milliseconds());
    }

    /** Starts the sessions of a group's members, as loaded: members that are gone time out. */
    void startSessions(ClassicGroup group) {
        for (GroupMember member : group.members.values()) {
            touchSession(group, member);
        }
    }

    /** Moves the member's session deadline forward; one scheduled check per member follows it lazily. */
    void touchSession(ClassicGroup group, GroupMember member) {
        if (member.isNew) {
            return; // its deadline is the new member join timeout until its join completes
        }
        touchSession(group, member, member.sessionTimeoutMs);
    }

    private void touchSession(ClassicGroup group, GroupMember member, long timeoutMs) {
        member.sessionDeadlineMs = time.milliseconds() + timeoutMs;
        if (!member.sessionCheckScheduled) {
            member.sessionCheckScheduled = true;
            scheduleSessionCheck(group, member, timeoutMs);
        }
    }

    private void scheduleSessionCheck(ClassicGroup group, GroupMember member, long delayMs) {
        member.sessionCheck = scheduler.schedule(() -> checkSession(group, member), Math.max(delayMs, 1),
                TimeUnit.MILLISECONDS);
    }

    private void checkSession(ClassicGroup group, GroupMember member) {
        synchronized (group) {
            if (group.is(GroupState.DEAD) || group.members.get(member.memberId) != member) {
                member.sessionCheckScheduled = false;
                return;
            }
            long now = time.milliseconds();
            // Members waiting in a rebalance are alive by definition: their request is parked here.
            // New members are not: their JoinGroup may be parked for a client that is long gone.
            boolean waiting = !member.isNew && (member.awaitingJoin != null || member.awaitingSync != null);
            if (waiting || now < member.sessionDeadlineMs) {
                long next = waiting ? member.sessionTimeoutMs : member.sessionDeadlineMs - now;
                scheduleSessionCheck(group, member, next);
                return;
            }
            member.sessionCheckScheduled = false;
            if (member.isNew) {
                log.info("New member {} of group {} did not complete its join within {} ms; removing it",
                        member.memberId, group.groupId, config.newMemberJoinTimeoutMs());
            } else {
                log.info("Member {} of group {} has failed (session timeout {} ms); removing it", member.memberId,
                        group.groupId, member.sessionTimeoutMs);
            }
            removeMember(group, member, Errors.UNKNOWN_MEMBER_ID);
        }
    }


    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
