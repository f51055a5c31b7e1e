package io.gregor.coordinator.consumer;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.gregor.coordinator.consumer.ConsumerGroupMember.LEAVE_GROUP_MEMBER_EPOCH;
import static io.gregor.coordinator.consumer.ConsumerGroupMember.LEAVE_GROUP_STATIC_MEMBER_EPOCH;

/**
 * The KIP-848 consumer group protocol: ConsumerGroupHeartbeat (join, heartbeat, leave, static membership),
 * the group and member epochs, the target assignment computed by a server-side assignor, and the
 * reconciliation that hands a partition to a member only once its previous owner has revoked it. Also
 * ConsumerGroupDescribe.
 * <p>
 * Every method taking a group runs under the group's lock; timers (session, revocation) take it when they fire.
 */
public final class ConsumerGroupProtocol {
    private static final Logger log = LoggerFactory.getLogger(ConsumerGroupProtocol.class);
    /** The heartbeat version from which the client generates its member id (KIP-1082). */
    private static final short CLIENT_GENERATED_MEMBER_ID_VERSION = 1;
    /** Group operations Kafka reports as authorized without an authorizer: READ, DELETE, DESCRIBE. */
    private static final int GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
    /** Kafka's default group.consumer.regex.refresh.interval.ms: resolved regexes are written again at least this often. */
    static final long REGEX_REFRESH_INTERVAL_MS = 600_000;

    /** What the coordinator does for the protocol: tracks emptiness (offset expiry) and writes records. */
    public interface Listener {
        /** The group gained its first member or lost its last. */
        void membersChanged(ConsumerGroup group);

        /** Writes the records of a change no request waits for (a session or revocation timeout). */
        void write(ConsumerGroup group, List<CoordinatorRecord> records);

        /**
         * The last consumer-protocol members leave and only classic members stay: the group becomes a classic
         * group of them (Kafka's online downgrade), adding the records of the conversion to {@code records}.
         */
        void downgrade(ConsumerGroup group, Set<ConsumerGroupMember> leaving, List<CoordinatorRecord> records);
    }

    private final ConsumerGroupConfig config;
    private final ConsumerTopics topics;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    private final Listener listener;

    public ConsumerGroupProtocol(ConsumerGroupConfig config, ConsumerTopics topics, ScheduledExecutorService scheduler,
                                 Time time, Listener listener) {
        this.config = config;
        this.topics = topics;
        this.scheduler = scheduler;
        this.time = time;
        this.listener = listener;
    }

    // ================================================================== validation

    /** Kafka's checks of a heartbeat before any group is looked at. @throws ApiException with Kafka's error and message */
    public void validate(ConsumerGroupHeartbeatRequestData request, short version) {
        requireNonEmpty(request.groupId(), "GroupId can't be empty.");
        if (request.instanceId() != null) {
            requireNonEmpty(request.instanceId(), "InstanceId can't be empty.");
        }
        if (request.rackId() != null) {
            requireNonEmpty(request.rackId(), "RackId can't be empty.");
        }
        if (version >= CLIENT_GENERATED_MEMBER_ID_VERSION) {
            requireNonEmpty(request.memberId(), "MemberId can't be empty.");
        }
        int epoch = request.memberEpoch();
        if (epoch > 0 || epoch == LEAVE_GROUP_MEMBER_EPOCH) {
            requireNonEmpty(request.memberId(), "MemberId can't be empty.");
        } else if (epoch == 0) {
            if (request.rebalanceTimeoutMs() == -1) {
                throw Errors.INVALID_REQUEST.exception("RebalanceTimeoutMs must be provided in first request.");
            }
            if (request.topicPartitions() == null || !request.topicPartitions().isEmpty()) {
                throw Errors.INVALID_REQUEST.exception("TopicPartitions must be empty when (re-)joining.");
            }
            if (request.subscribedTopicNames() == null && regexOf(request, version) == null) {
                throw Errors.INVALID_REQUEST.exception(
                        "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
            }
        } else if (epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            requireNonEmpty(request.memberId(), "MemberId can't be empty.");
            if (request.instanceId() == null) {
                throw Errors.INVALID_REQUEST.exception("InstanceId can't be null.");
            }
        } else {
            throw Errors.INVALID_REQUEST.exception("MemberEpoch is invalid.");
        }
        if (request.serverAssignor() != null) {
            Assignor assignor = Assignors.byName(request.serverAssignor());
            if (assignor == null || !config.assignors().contains(assignor.name())) {
                throw Errors.UNSUPPORTED_ASSIGNOR.exception("ServerAssignor " + request.serverAssignor()
                        + " is not supported. Supported assignors: " + String.join(", ", config.assignors()) + ".");
            }
        }
        String regex = regexOf(request, version);
        if (regex != null) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw Errors.INVALID_REGULAR_EXPRESSION.exception("SubscribedTopicRegex `" + regex
                        + "` is not a valid regular expression: " + e.getMessage() + ".");
            }
        }
    }

    private static String regexOf(ConsumerGroupHeartbeatRequestData request, short version) {
        return version >= 1 ? request.subscribedTopicRegex() : null;
    }

    private static void requireNonEmpty(String value, String message) {
        if (value == null || value.isEmpty()) {
            throw Errors.INVALID_REQUEST.exception(message);
        }
    }

    // ================================================================== heartbeat

    /**
     * Serves a validated heartbeat of a member of {@code group} (under its lock), adding the records of what
     * changed to {@code records}; the caller answers once they are written.
     * @throws ApiException with Kafka's error (UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, ...)
     */
    public ConsumerGroupHeartbeatResponseData heartbeat(ConsumerGroup group, ConsumerGroupHeartbeatRequestData request,
                                                        short version, String clientId, String clientHost,
                                                        List<CoordinatorRecord> records) {
        int epoch = request.memberEpoch();
        if (epoch == LEAVE_GROUP_MEMBER_EPOCH || epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            return leave(group, request, records);
        }
        String memberId = request.memberId().isEmpty() ? Uuid.randomUuid().toString() : request.memberId();
        List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned = request.topicPartitions();
        ConsumerGroupMember member;
        boolean created = false;
        if (request.instanceId() == null) {
            member = group.members.get(memberId);
            if (member == null) {
                if (epoch != 0) {
                    throw Errors.UNKNOWN_MEMBER_ID.exception("Member " + memberId + " is not a member of group "
                            + group.groupId() + ".");
                }
                member = newMember(group, memberId);
                created = true;
            } else {
                validateEpoch(member, epoch, owned);
            }
        } else {
            ConsumerGroupMember existing = group.staticMember(request.instanceId());
            if (epoch == 0) {
                if (existing == null) {
                    member = group.members.get(memberId);
                    if (member == null) {
                        member = newMember(group, memberId);
                        created = true;
                    }
                } else if (existing.memberId.equals(memberId)) {
                    member = existing; // the same incarnation rejoining after it was fenced
                } else {
                    if (existing.memberEpoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                        throw Errors.UNRELEASED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                                + request.instanceId() + " cannot join the group because the instance id is owned by "
                                + existing.memberId + " member.");
                    }
                    member = replaceStaticMember(group, existing, memberId, false, records);
                }
            } else {
                if (existing == null) {
                    throw Errors.UNKNOWN_MEMBER_ID.exception("Instance id " + request.instanceId() + " is unknown.");
                }
                if (!existing.memberId.equals(memberId)) {
                    throw Errors.FENCED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                            + request.instanceId() + " was fenced by member " + existing.memberId + ".");
                }
                validateEpoch(existing, epoch, owned);
                member = existing;
            }
        }

        // 1. the member's subscription; a change of it, or of the subscribed topics, bumps the group epoch
        MemberSnapshot before = MemberSnapshot.of(member, created);
        if (request.instanceId() != null) {
            member.instanceId = request.instanceId();
        }
        if (request.rackId() != null) {
            member.rackId = request.rackId();
        }
        if (request.rebalanceTimeoutMs() != -1) {
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        }
        if (request.serverAssignor() != null) {
            member.serverAssignor = Assignors.byName(request.serverAssignor()).name();
        }
        if (request.subscribedTopicNames() != null) {
            member.subscribedTopicNames = List.copyOf(request.subscribedTopicNames());
        }
        String regex = regexOf(request, version);
        if (regex != null) {
            member.subscribedTopicRegex = regex.isEmpty() ? null : regex;
        }
        member.clientId = clientId == null ? "" : clientId;
        member.clientHost = clientHost == null ? "" : clientHost;
        member.classic = null; // it speaks the consumer protocol now, as Kafka records it
        Map<Uuid, Set<Integer>> assignedBefore = member.assignedPartitions;
        updateAndReconcile(group, member, before, owned, records);

        ConsumerGroupHeartbeatResponseData response = new ConsumerGroupHeartbeatResponseData()
                .setMemberId(member.memberId)
                .setMemberEpoch(member.memberEpoch)
                .setHeartbeatIntervalMs(config.heartbeatIntervalMs(group.groupId()));
        // the assignment goes out on a full request (join, or a client recovering) or when it changed
        boolean fullRequest = epoch == 0 || (request.rebalanceTimeoutMs() != -1
                && (request.subscribedTopicNames() != null || regex != null) && owned != null);
        if (fullRequest || !assignedBefore.equals(member.assignedPartitions)) {
            response.setAssignment(new ConsumerGroupHeartbeatResponseData.Assignment()
                    .setTopicPartitions(heartbeatPartitions(member.assignedPartitions)));
        }
        return response;
    }

    /** What of a member a heartbeat or join compares against after updating it. */
    record MemberSnapshot(boolean created, Object metadata, Set<String> names, String regex) {
        static MemberSnapshot of(ConsumerGroupMember member, boolean created) {
            return new MemberSnapshot(created, created ? null : ConsumerGroupRecords.memberMetadataValue(member),
                    new HashSet<>(member.subscribedTopicNames), member.subscribedTopicRegex);
        }
    }

    /**
     * Steps 1 to 3 of Kafka's heartbeat, after the member took the request's settings: its metadata record, a
     * group epoch bump when the subscriptions changed, a new target assignment for a new group epoch, and the
     * member's reconciliation towards it (with the partitions it says it owns).
     */
    void updateAndReconcile(ConsumerGroup group, ConsumerGroupMember member, MemberSnapshot before,
                            List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned,
                            List<CoordinatorRecord> records) {
        if (before.created()) {
            group.add(member);
            if (group.members.size() == 1) {
                listener.membersChanged(group);
            }
        }
        boolean regexesChanged = refreshRegexes(group, records);
        if (!ConsumerGroupRecords.memberMetadataValue(member).equals(before.metadata())) {
            records.add(ConsumerGroupRecords.memberMetadata(group.groupId(), member));
        }
        boolean bump = before.created() || !before.names().equals(new HashSet<>(member.subscribedTopicNames))
                || !Objects.equals(before.regex(), member.subscribedTopicRegex) || regexesChanged;
        Map<String, TopicInfo> metadata = subscriptionMetadata(group);
        if (group.subscriptionMetadata == null) {
            // loaded from the log: the assignment there was made for these topics, as far as we know
            group.subscriptionMetadata = metadata;
        } else if (!metadata.equals(group.subscriptionMetadata)) {
            group.subscriptionMetadata = metadata;
            bump = true;
        }
        if (bump) {
            group.groupEpoch++;
            records.add(ConsumerGroupRecords.groupEpoch(group.groupId(), group.groupEpoch));
            log.info("[GroupId {}] Bumped group epoch to {}.", group.groupId(), group.groupEpoch);
        }

        // 2. a newer group epoch gets a new target assignment
        if (group.groupEpoch > group.assignmentEpoch) {
            computeTargetAssignment(group, records);
        }

        // 3. the member moves towards its target, as far as revocations elsewhere allow
        reconcile(group, member, owned, records);
        touchSession(group, member);
    }

    ConsumerGroupConfig config() {
        return config;
    }

    ConsumerTopics topics() {
        return topics;
    }

    ConsumerGroupMember newMember(ConsumerGroup group, String memberId) {
        if (group.members.size() >= config.maxSize()) {
            throw Errors.GROUP_MAX_SIZE_REACHED.exception("The consumer group has reached its maximum capacity of "
                    + config.maxSize() + " members.");
        }
        log.info("[GroupId {}] Member {} joins the consumer group using the consumer protocol.", group.groupId(), memberId);
        return new ConsumerGroupMember(memberId);
    }

    /** Kafka's epoch check; epoch 0 is a member rejoining after it was fenced (KAFKA-19233) and always passes. */
    private static void validateEpoch(ConsumerGroupMember member, int received,
                                      List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned) {
        if (received == 0) {
            return;
        }
        if (received > member.memberEpoch) {
            throw Errors.FENCED_MEMBER_EPOCH.exception("The consumer group member has a greater member epoch ("
                    + received + ") than the one known by the group coordinator (" + member.memberEpoch
                    + "). The member must abandon all its partitions and rejoin.");
        } else if (received < member.memberEpoch) {
            // the previous epoch with a subset of the assignment: the response that bumped it was lost
            if (received != member.previousMemberEpoch || !isSubset(owned, member.assignedPartitions)) {
                throw Errors.FENCED_MEMBER_EPOCH.exception("The consumer group member has a smaller member epoch ("
                        + received + ") than the one known by the group coordinator (" + member.memberEpoch
                        + "). The member must abandon all its partitions and rejoin.");
            }
        }
    }

    private static boolean isSubset(List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned,
                                    Map<Uuid, Set<Integer>> assigned) {
        if (owned == null) {
            return false; // the client must show what it owns to be believed
        }
        for (ConsumerGroupHeartbeatRequestData.TopicPartitions tp : owned) {
            Set<Integer> partitions = assigned.getOrDefault(tp.topicId(), Set.of());
            if (!partitions.containsAll(tp.partitions())) {
                return false;
            }
        }
        return true;
    }

    /** A restarted static member (new member id, same instance id) takes the place and partitions of the old one. */
    ConsumerGroupMember replaceStaticMember(ConsumerGroup group, ConsumerGroupMember old, String memberId,
                                            boolean classic, List<CoordinatorRecord> records) {
        ConsumerGroupMember member = new ConsumerGroupMember(memberId);
        member.instanceId = old.instanceId;
        member.rackId = old.rackId;
        member.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
        member.serverAssignor = old.serverAssignor;
        member.subscribedTopicNames = old.subscribedTopicNames;
        member.subscribedTopicRegex = old.subscribedTopicRegex;
        member.state = old.state;
        member.assignedPartitions = old.assignedPartitions;
        member.partitionsPendingRevocation = old.partitionsPendingRevocation;
        member.memberEpoch = 0;
        member.previousMemberEpoch = 0;
        Map<Uuid, Set<Integer>> target = group.targetAssignment.get(old.memberId);
        group.remove(old);
        group.add(member);
        if (target != null) {
            group.targetAssignment.put(memberId, target);
        }
        ConsumerGroupRecords.memberTombstones(group.groupId(), old.memberId, records);
        records.add(ConsumerGroupRecords.memberMetadata(group.groupId(), member));
        records.add(ConsumerGroupRecords.targetAssignment(group.groupId(), memberId, target == null ? Map.of() : target));
        records.add(ConsumerGroupRecords.currentAssignment(group.groupId(), member));
        log.info("[GroupId {}] Static member with instance id {} re-joins the consumer group using the {} protocol. "
                + "Created a new member {} to replace the existing member {}.", group.groupId(), old.instanceId,
                classic ? "classic" : "consumer", memberId, old.memberId);
        return member;
    }

    // ================================================================== leaving and fencing

    private ConsumerGroupHeartbeatResponseData leave(ConsumerGroup group, ConsumerGroupHeartbeatRequestData request,
                                                     List<CoordinatorRecord> records) {
        String memberId = request.memberId();
        ConsumerGroupMember member;
        if (request.instanceId() == null) {
            member = group.members.get(memberId);
            if (member == null) {
                throw Errors.UNKNOWN_MEMBER_ID.exception("Member " + memberId + " is not a member of group "
                        + group.groupId() + ".");
            }
        } else {
            member = group.staticMember(request.instanceId());
            if (member == null) {
                throw Errors.UNKNOWN_MEMBER_ID.exception("Instance id " + request.instanceId() + " is unknown.");
            }
            if (!member.memberId.equals(memberId)) {
                throw Errors.FENCED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                        + request.instanceId() + " was fenced by member " + member.memberId + ".");
            }
            if (request.memberEpoch() == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                // a static member leaving for a restart keeps its partitions for one session timeout
                log.info("[GroupId {}] Static Member {} with instance id {} temporarily left the consumer group.",
                        group.groupId(), memberId, request.instanceId());
                Map<Uuid, Set<Integer>> assignedBefore = member.assignedPartitions;
                Map<Uuid, Set<Integer>> revokingBefore = member.partitionsPendingRevocation;
                member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                member.partitionsPendingRevocation = Map.of();
                member.revocationDeadlineMs = 0;
                group.updatePartitionEpochs(member, assignedBefore, revokingBefore, member);
                records.add(ConsumerGroupRecords.currentAssignment(group.groupId(), member));
                return new ConsumerGroupHeartbeatResponseData().setMemberId(memberId)
                        .setMemberEpoch(LEAVE_GROUP_STATIC_MEMBER_EPOCH);
            }
        }
        log.info("[GroupId {}] Member {} left the consumer group.", group.groupId(), memberId);
        fence(group, member, records);
        return new ConsumerGroupHeartbeatResponseData().setMemberId(memberId).setMemberEpoch(request.memberEpoch());
    }

    /** Removes a member (left, expired, or too slow to revoke): its partitions are free and the group epoch moves on. */
    void fence(ConsumerGroup group, ConsumerGroupMember member, List<CoordinatorRecord> records) {
        fenceMembers(group, Set.of(member), records);
    }

    /**
     * Kafka's consumerGroupFenceMembers: the members leave in one step (their tombstones and a single group epoch
     * bump), or, when only classic members would stay, the group becomes a classic group of them instead.
     */
    void fenceMembers(ConsumerGroup group, Set<ConsumerGroupMember> leaving, List<CoordinatorRecord> records) {
        if (leaving.isEmpty()) {
            return; // nobody to fence: the group epoch stays
        }
        for (ConsumerGroupMember member : leaving) {
            cancelClassicTimers(member);
        }
        if (canDowngradeWithout(group, leaving)) {
            log.info("[GroupId {}] Members {} left; downgrading the consumer group to a classic group of its {} classic members.",
                    group.groupId(), memberIds(leaving), group.members.size() - leaving.size());
            listener.downgrade(group, leaving, records);
            return;
        }
        for (ConsumerGroupMember member : leaving) {
            group.remove(member);
            ConsumerGroupRecords.memberTombstones(group.groupId(), member.memberId, records);
        }
        deleteUnsubscribedRegexes(group, records);
        group.subscriptionMetadata = subscriptionMetadata(group);
        group.groupEpoch++;
        records.add(ConsumerGroupRecords.groupEpoch(group.groupId(), group.groupEpoch));
        log.info("[GroupId {}] Bumped group epoch to {}.", group.groupId(), group.groupEpoch);
        if (group.members.isEmpty()) {
            listener.membersChanged(group);
        }
    }

    private static List<String> memberIds(Set<ConsumerGroupMember> members) {
        List<String> ids = new ArrayList<>(members.size());
        members.forEach(m -> ids.add(m.memberId));
        return ids;
    }

    /**
     * Kafka's step 4 of a classic JoinGroup: when the static member it replaced was the last one speaking the
     * consumer protocol, the group becomes a classic group of its members (validateOnlineDowngradeWithReplacedMemberId).
     * @return whether the group was downgraded
     */
    boolean downgradeIfOnlyClassicMembers(ConsumerGroup group, List<CoordinatorRecord> records) {
        if (!canDowngradeWithout(group, Set.of())) {
            return false;
        }
        log.info("[GroupId {}] The last member using the consumer protocol was replaced by a classic member; downgrading "
                + "the consumer group to a classic group of its {} members.", group.groupId(), group.members.size());
        for (ConsumerGroupMember member : group.members.values()) {
            cancelClassicTimers(member);
        }
        listener.downgrade(group, Set.of(), records);
        return true;
    }

    /** Kafka's validateOnlineDowngradeWithFencedMembers. */
    private boolean canDowngradeWithout(ConsumerGroup group, Set<ConsumerGroupMember> leaving) {
        for (ConsumerGroupMember m : group.members.values()) {
            if (!leaving.contains(m) && m.classic == null) {
                return false;
            }
        }
        int remaining = group.members.size() - leaving.size();
        if (remaining <= 0) {
            return false; // empty after it: an empty consumer group stays one
        }
        if (!config.migrationPolicy().isDowngradeEnabled()) {
            log.info("Cannot downgrade consumer group {} to classic group because the online downgrade is disabled.",
                    group.groupId());
            return false;
        }
        if (remaining > config.classicMaxSize()) {
            log.info("Cannot downgrade consumer group {} to classic group because its group size is greater than classic group max size.",
                    group.groupId());
            return false;
        }
        return true;
    }

    void touchSession(ConsumerGroup group, ConsumerGroupMember member) {
        // a classic member keeps the session timeout of its JoinGroup, as in Kafka; a consumer-protocol member
        // takes the group's timeout as of this heartbeat (Kafka re-arms its session timer on every heartbeat)
        int timeout = member.classic != null ? member.classic.sessionTimeoutMs() : config.sessionTimeoutMs(group.groupId());
        member.sessionDeadlineMs = time.milliseconds() + timeout;
        if (member.sessionCheckAtMs == 0 || member.sessionDeadlineMs < member.sessionCheckAtMs) {
            scheduleSessionCheck(group, member, timeout);
        }
    }

    private void scheduleSessionCheck(ConsumerGroup group, ConsumerGroupMember member, long delayMs) {
        long at = member.sessionDeadlineMs;
        member.sessionCheckAtMs = at;
        scheduler.schedule(() -> checkSession(group, member, at), Math.max(1, delayMs), TimeUnit.MILLISECONDS);
    }

    /** The member's sessions start afresh, as Kafka does for a group loaded at start-up. */
    public void startSessions(ConsumerGroup group) {
        for (ConsumerGroupMember member : group.members.values()) {
            touchSession(group, member);
        }
    }

    private void checkSession(ConsumerGroup group, ConsumerGroupMember member, long scheduledAt) {
        synchronized (group.lock()) {
            if (member.sessionCheckAtMs != scheduledAt) {
                return; // an earlier check replaced this one
            }
            if (group.dead || group.members.get(member.memberId) != member) {
                member.sessionCheckAtMs = 0;
                return;
            }
            long now = time.milliseconds();
            if (now < member.sessionDeadlineMs) {
                scheduleSessionCheck(group, member, member.sessionDeadlineMs - now);
                return;
            }
            member.sessionCheckAtMs = 0;
            log.info("[GroupId {}] Member {} fenced from the group because its session expired.", group.groupId(),
                    member.memberId);
            List<CoordinatorRecord> records = new ArrayList<>();
            fence(group, member, records);
            listener.write(group, records);
        }
    }

    // ================================================================== classic members' join and sync timeouts

    /**
     * A classic member told to rejoin (REBALANCE_IN_PROGRESS) is fenced unless its JoinGroup arrives within its
     * rebalance timeout; a timeout already pending keeps its deadline (Kafka's scheduleConsumerGroupJoinTimeoutIfAbsent).
     */
    void scheduleJoinTimeoutIfAbsent(ConsumerGroup group, ConsumerGroupMember member) {
        if (member.joinTimer == null) {
            member.joinTimer = schedule(group, member, member.rebalanceTimeoutMs,
                    "the classic member failed to join within the rebalance timeout", m -> m.joinTimer);
        }
    }

    void cancelJoinTimeout(ConsumerGroupMember member) {
        if (member.joinTimer != null) {
            member.joinTimer.cancel();
            member.joinTimer = null;
        }
    }

    /** A classic member that joined is fenced unless its SyncGroup arrives within its rebalance timeout. */
    void scheduleSyncTimeout(ConsumerGroup group, ConsumerGroupMember member) {
        cancelSyncTimeout(member);
        member.syncTimer = schedule(group, member, member.rebalanceTimeoutMs, "the member failed to sync within timeout",
                m -> m.syncTimer);
    }

    void cancelSyncTimeout(ConsumerGroupMember member) {
        if (member.syncTimer != null) {
            member.syncTimer.cancel();
            member.syncTimer = null;
        }
    }

    private void cancelClassicTimers(ConsumerGroupMember member) {
        cancelJoinTimeout(member);
        cancelSyncTimeout(member);
    }

    private ConsumerGroupMember.MemberTimer schedule(ConsumerGroup group, ConsumerGroupMember member, int timeoutMs,
                                                     String reason,
                                                     Function<ConsumerGroupMember, ConsumerGroupMember.MemberTimer> slot) {
        ConsumerGroupMember.MemberTimer timer = new ConsumerGroupMember.MemberTimer();
        timer.scheduled(scheduler.schedule(() -> {
            synchronized (group.lock()) {
                if (group.dead || group.members.get(member.memberId) != member || slot.apply(member) != timer) {
                    return; // cancelled, replaced, or the member is gone
                }
                log.info("[GroupId {}] Member {} fenced from the group because {}.", group.groupId(), member.memberId, reason);
                List<CoordinatorRecord> records = new ArrayList<>();
                fence(group, member, records);
                listener.write(group, records);
            }
        }, Math.max(1, timeoutMs), TimeUnit.MILLISECONDS));
        return timer;
    }

    private void checkRevocation(ConsumerGroup group, ConsumerGroupMember member, int epoch) {
        synchronized (group.lock()) {
            if (group.dead || group.members.get(member.memberId) != member
                    || member.state != ConsumerGroupMember.State.UNREVOKED_PARTITIONS || member.revocationEpoch != epoch
                    || member.revocationDeadlineMs == 0) {
                return;
            }
            log.info("[GroupId {}] Member {} fenced from the group because it failed to revoke partitions within {} ms.",
                    group.groupId(), member.memberId, member.rebalanceTimeoutMs);
            List<CoordinatorRecord> records = new ArrayList<>();
            fence(group, member, records);
            listener.write(group, records);
        }
    }

    // ================================================================== subscriptions and assignment

    /** The existing topics the members subscribe to by name or through their resolved regexes. */
    Map<String, TopicInfo> subscriptionMetadata(ConsumerGroup group) {
        Map<String, TopicInfo> out = new TreeMap<>();
        for (ConsumerGroupMember m : group.members.values()) {
            for (String name : m.subscribedTopicNames) {
                addIfExists(name, out);
            }
            ResolvedRegex resolved = m.subscribedTopicRegex == null ? null : group.resolvedRegexes.get(m.subscribedTopicRegex);
            if (resolved != null) {
                resolved.topics().forEach(name -> addIfExists(name, out));
            }
        }
        return out;
    }

    private void addIfExists(String name, Map<String, TopicInfo> out) {
        if (!out.containsKey(name)) {
            TopicInfo topic = topics.byName(name);
            if (topic != null && topic.partitionCount() > 0) {
                out.put(name, topic);
            }
        }
    }

    /**
     * Kafka's regex upkeep (maybeUpdateRegularExpressions, its refresh and handleRegularExpressionsResult), run at a
     * heartbeat: a regex no member subscribes with any more gets its tombstone; the others are resolved against
     * the topics and, when one is new, resolves to other topics (a matching topic created or deleted) or was
     * last refreshed longer than Kafka's group.consumer.regex.refresh.interval.ms ago, all of them are written
     * again, as Kafka's refresh writes every regex of the group.
     * <p>
     * Kafka resolves in the background, at most every 10 s per group, and only when a topic was created since
     * the last resolution (metadata image offset newer than the records' Version) or the interval passed. Gregor
     * resolves in line against its live topic catalog (the scan it always did at a heartbeat) and compares, so a
     * new or deleted topic reaches the group at the next heartbeat, as before. The catalog has no offset like
     * Kafka's metadata image, so Version holds the closest thing: the coordinator time the topics were read at,
     * which like the offset only grows; Gregor never compares it (any value from a log written by Kafka loads).
     *
     * @return whether a resolution changed, which moves the group epoch
     */
    boolean refreshRegexes(ConsumerGroup group, List<CoordinatorRecord> records) {
        deleteUnsubscribedRegexes(group, records);
        Set<String> regexes = new TreeSet<>();
        for (ConsumerGroupMember m : group.members.values()) {
            if (m.subscribedTopicRegex != null) {
                regexes.add(m.subscribedTopicRegex);
            }
        }
        if (regexes.isEmpty()) {
            return false;
        }
        Map<String, Set<String>> matches = resolve(regexes);
        long now = time.milliseconds();
        boolean changed = false;
        for (String regex : regexes) {
            ResolvedRegex previous = group.resolvedRegexes.get(regex);
            if (previous == null ? !matches.get(regex).isEmpty() : !previous.topics().equals(matches.get(regex))) {
                changed = true;
            }
        }
        boolean unresolved = !group.resolvedRegexes.keySet().containsAll(regexes);
        if (!changed && !unresolved && now < group.lastRegexRefreshMs + REGEX_REFRESH_INTERVAL_MS) {
            return false;
        }
        for (String regex : regexes) {
            ResolvedRegex resolved = new ResolvedRegex(matches.get(regex), now, now);
            group.resolvedRegexes.put(regex, resolved);
            records.add(ConsumerGroupRecords.regularExpression(group.groupId(), regex, resolved));
        }
        group.lastRegexRefreshMs = now;
        log.info("[GroupId {}] Resolved regular expressions {} to {} topics.", group.groupId(), regexes,
                matches.values().stream().mapToInt(Set::size).sum());
        return changed;
    }

    /** Kafka's maybeDeleteResolvedRegularExpressions: the resolution of a regex no member subscribes with goes. */
    private static void deleteUnsubscribedRegexes(ConsumerGroup group, List<CoordinatorRecord> records) {
        if (group.resolvedRegexes.isEmpty()) {
            return;
        }
        Set<String> subscribed = new HashSet<>();
        group.members.values().forEach(m -> subscribed.add(m.subscribedTopicRegex));
        for (String regex : new TreeSet<>(group.resolvedRegexes.keySet())) {
            if (!subscribed.contains(regex)) {
                group.resolvedRegexes.remove(regex);
                records.add(ConsumerGroupRecords.regularExpressionTombstone(group.groupId(), regex));
            }
        }
    }

    /** The names of the existing topics each regex matches in full (internal topics only when named, not by regex). */
    private Map<String, Set<String>> resolve(Set<String> regexes) {
        Map<String, Pattern> patterns = new HashMap<>();
        Map<String, Set<String>> out = new HashMap<>();
        for (String regex : regexes) {
            patterns.put(regex, Pattern.compile(regex)); // validated when the member subscribed with it
            out.put(regex, new TreeSet<>());
        }
        for (TopicInfo topic : topics.all()) {
            if (topic.partitionCount() <= 0 || Topic.isInternal(topic.name())) {
                continue;
            }
            patterns.forEach((regex, pattern) -> {
                if (pattern.matcher(topic.name()).matches()) {
                    out.get(regex).add(topic.name());
                }
            });
        }
        return out;
    }

    private void computeTargetAssignment(ConsumerGroup group, List<CoordinatorRecord> records) {
        Assignor assignor = Assignors.byName(preferredAssignor(group));
        Map<Uuid, Integer> partitionCounts = new HashMap<>();
        group.subscriptionMetadata.values().forEach(t -> partitionCounts.put(t.id(), t.partitionCount()));
        List<Assignor.MemberSubscription> members = new ArrayList<>(group.members.size());
        for (ConsumerGroupMember m : group.members.values()) {
            Set<Uuid> ids = new HashSet<>();
            ResolvedRegex resolved = m.subscribedTopicRegex == null ? null : group.resolvedRegexes.get(m.subscribedTopicRegex);
            group.subscriptionMetadata.forEach((name, topic) -> {
                if (m.subscribedTopicNames.contains(name) || (resolved != null && resolved.topics().contains(name))) {
                    ids.add(topic.id());
                }
            });
            members.add(new Assignor.MemberSubscription(m.memberId, m.instanceId, ids));
        }
        Map<String, Map<Uuid, Set<Integer>>> assignment = assignor.assign(members, partitionCounts, group.targetAssignment);
        Map<String, Map<Uuid, Set<Integer>>> previous = new HashMap<>(group.targetAssignment);
        group.targetAssignment.clear();
        assignment.forEach((memberId, partitions) -> {
            Map<Uuid, Set<Integer>> copy = new HashMap<>();
            partitions.forEach((topic, ps) -> {
                if (!ps.isEmpty()) {
                    copy.put(topic, Collections.unmodifiableSet(new TreeSet<>(ps)));
                }
            });
            group.targetAssignment.put(memberId, Collections.unmodifiableMap(copy));
            if (!copy.equals(previous.get(memberId))) {
                records.add(ConsumerGroupRecords.targetAssignment(group.groupId(), memberId, copy));
            }
        });
        group.assignmentEpoch = group.groupEpoch;
        records.add(ConsumerGroupRecords.targetAssignmentEpoch(group.groupId(), group.assignmentEpoch));
        log.info("[GroupId {}] Computed a new target assignment for epoch {} with the {} assignor.", group.groupId(),
                group.assignmentEpoch, assignor.name());
    }

    /** The assignor most members ask for; the first configured one when none asks. */
    String preferredAssignor(ConsumerGroup group) {
        Map<String, Integer> votes = new HashMap<>();
        for (ConsumerGroupMember m : group.members.values()) {
            if (m.serverAssignor != null) {
                votes.merge(m.serverAssignor, 1, Integer::sum);
            }
        }
        String best = config.assignors().get(0);
        int most = 0;
        for (String name : config.assignors()) {
            int n = votes.getOrDefault(name, 0);
            if (n > most) {
                best = name;
                most = n;
            }
        }
        return best;
    }

    /** Kafka's CurrentAssignmentBuilder: moves the member one step towards its target assignment. */
    private void reconcile(ConsumerGroup group, ConsumerGroupMember member,
                           List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned, List<CoordinatorRecord> records) {
        if (member.isReconciledTo(group.assignmentEpoch)) {
            return;
        }
        Map<Uuid, Set<Integer>> assignedBefore = member.assignedPartitions;
        Map<Uuid, Set<Integer>> revokingBefore = member.partitionsPendingRevocation;
        ConsumerGroupMember.State stateBefore = member.state;
        int epochBefore = member.memberEpoch;
        int previousBefore = member.previousMemberEpoch;
        switch (member.state) {
            case STABLE -> {
                if (member.memberEpoch != group.assignmentEpoch) {
                    nextAssignment(group, member, member.memberEpoch, owned);
                }
            }
            case UNREVOKED_PARTITIONS -> {
                if (ownsAny(owned, member.partitionsPendingRevocation)) {
                    return; // still waiting for the client to give them up
                }
                nextAssignment(group, member, member.memberEpoch + 1, owned);
            }
            case UNRELEASED_PARTITIONS -> nextAssignment(group, member, member.memberEpoch, owned);
        }
        group.updatePartitionEpochs(member, assignedBefore, revokingBefore, member);
        if (stateBefore != member.state || epochBefore != member.memberEpoch || previousBefore != member.previousMemberEpoch
                || !assignedBefore.equals(member.assignedPartitions)
                || !revokingBefore.equals(member.partitionsPendingRevocation)) {
            records.add(ConsumerGroupRecords.currentAssignment(group.groupId(), member));
        }
        if (member.state == ConsumerGroupMember.State.UNREVOKED_PARTITIONS) {
            if (stateBefore != ConsumerGroupMember.State.UNREVOKED_PARTITIONS || epochBefore != member.memberEpoch
                    || member.revocationDeadlineMs == 0) {
                int timeout = Math.max(member.rebalanceTimeoutMs, 1);
                member.revocationDeadlineMs = time.milliseconds() + timeout;
                member.revocationEpoch = member.memberEpoch;
                int epoch = member.memberEpoch;
                scheduler.schedule(() -> checkRevocation(group, member, epoch), timeout, TimeUnit.MILLISECONDS);
            }
        } else {
            member.revocationDeadlineMs = 0;
        }
    }

    private static void nextAssignment(ConsumerGroup group, ConsumerGroupMember member, int memberEpoch,
                                       List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned) {
        Map<Uuid, Set<Integer>> target = group.targetAssignment(member.memberId);
        boolean hasUnreleased = false;
        Map<Uuid, Set<Integer>> newAssigned = new HashMap<>();
        Map<Uuid, Set<Integer>> newRevoking = new HashMap<>();
        Map<Uuid, Set<Integer>> newPending = new HashMap<>();
        Set<Uuid> topicIds = new HashSet<>(target.keySet());
        topicIds.addAll(member.assignedPartitions.keySet());
        for (Uuid topicId : topicIds) {
            Set<Integer> targetPartitions = target.getOrDefault(topicId, Set.of());
            Set<Integer> current = member.assignedPartitions.getOrDefault(topicId, Set.of());
            Set<Integer> assigned = new TreeSet<>(current);
            assigned.retainAll(targetPartitions);
            Set<Integer> revoking = new TreeSet<>(current);
            revoking.removeAll(assigned);
            Set<Integer> pending = new TreeSet<>(targetPartitions);
            pending.removeAll(assigned);
            hasUnreleased = pending.removeIf(p -> group.currentPartitionEpoch(topicId, p) != -1) || hasUnreleased;
            if (!assigned.isEmpty()) {
                newAssigned.put(topicId, assigned);
            }
            if (!revoking.isEmpty()) {
                newRevoking.put(topicId, revoking);
            }
            if (!pending.isEmpty()) {
                newPending.put(topicId, pending);
            }
        }
        if (!newRevoking.isEmpty() && ownsAny(owned, newRevoking)) {
            // first the member gives up what others are to get; it stays at its epoch meanwhile
            member.state = ConsumerGroupMember.State.UNREVOKED_PARTITIONS;
            member.updateMemberEpoch(memberEpoch);
            member.assignedPartitions = freeze(newAssigned);
            member.partitionsPendingRevocation = freeze(newRevoking);
            return;
        }
        newPending.forEach((topicId, ps) -> newAssigned.computeIfAbsent(topicId, k -> new TreeSet<>()).addAll(ps));
        member.state = hasUnreleased ? ConsumerGroupMember.State.UNRELEASED_PARTITIONS : ConsumerGroupMember.State.STABLE;
        member.updateMemberEpoch(group.assignmentEpoch);
        member.assignedPartitions = freeze(newAssigned);
        member.partitionsPendingRevocation = Map.of();
    }

    /** Whether the client still reports owning any of {@code partitions} (not reporting counts as owning). */
    private static boolean ownsAny(List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned,
                                   Map<Uuid, Set<Integer>> partitions) {
        if (owned == null) {
            return true;
        }
        for (ConsumerGroupHeartbeatRequestData.TopicPartitions tp : owned) {
            Set<Integer> revoking = partitions.getOrDefault(tp.topicId(), Set.of());
            for (int p : tp.partitions()) {
                if (revoking.contains(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Map<Uuid, Set<Integer>> freeze(Map<Uuid, Set<Integer>> partitions) {
        Map<Uuid, Set<Integer>> out = new HashMap<>();
        partitions.forEach((topic, ps) -> out.put(topic, Collections.unmodifiableSet(new TreeSet<>(ps))));
        return Collections.unmodifiableMap(out);
    }

    private static List<ConsumerGroupHeartbeatResponseData.TopicPartitions> heartbeatPartitions(Map<Uuid, Set<Integer>> partitions) {
        List<ConsumerGroupHeartbeatResponseData.TopicPartitions> out = new ArrayList<>(partitions.size());
        new TreeMap<>(partitions).forEach((topic, ps) -> out.add(new ConsumerGroupHeartbeatResponseData.TopicPartitions()
                .setTopicId(topic).setPartitions(new ArrayList<>(new TreeSet<>(ps)))));
        return out;
    }

    // ================================================================== describe

    /** ConsumerGroupDescribe's view of the group (under its lock). */
    public ConsumerGroupDescribeResponseData.DescribedGroup describe(ConsumerGroup group, short version,
                                                                     boolean includeAuthorizedOperations) {
        ConsumerGroupDescribeResponseData.DescribedGroup described = new ConsumerGroupDescribeResponseData.DescribedGroup()
                .setGroupId(group.groupId())
                .setGroupState(group.state().wireName())
                .setGroupEpoch(group.groupEpoch)
                .setAssignmentEpoch(group.assignmentEpoch)
                .setAssignorName(preferredAssignor(group))
                .setAuthorizedOperations(includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : Integer.MIN_VALUE);
        for (ConsumerGroupMember m : group.members.values()) {
            ConsumerGroupDescribeResponseData.Member member = new ConsumerGroupDescribeResponseData.Member()
                    .setMemberId(m.memberId)
                    .setInstanceId(m.instanceId)
                    .setRackId(m.rackId)
                    .setMemberEpoch(m.memberEpoch)
                    .setClientId(m.clientId)
                    .setClientHost(m.clientHost)
                    .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames))
                    .setSubscribedTopicRegex(m.subscribedTopicRegex)
                    .setAssignment(describeAssignment(group, m.assignedPartitions))
                    .setTargetAssignment(describeAssignment(group, group.targetAssignment(m.memberId)));
            if (version >= 1) {
                member.setMemberType(m.classic != null ? (byte) 0 : (byte) 1); // classic or consumer protocol (KIP-1099)
            }
            described.members().add(member);
        }
        return described;
    }

    private ConsumerGroupDescribeResponseData.Assignment describeAssignment(ConsumerGroup group,
                                                                            Map<Uuid, Set<Integer>> partitions) {
        ConsumerGroupDescribeResponseData.Assignment assignment = new ConsumerGroupDescribeResponseData.Assignment();
        new TreeMap<>(partitions).forEach((topicId, ps) -> {
            String name = topicName(group, topicId);
            if (name != null) {
                assignment.topicPartitions().add(new ConsumerGroupDescribeResponseData.TopicPartitions()
                        .setTopicId(topicId).setTopicName(name).setPartitions(new ArrayList<>(new TreeSet<>(ps))));
            }
        });
        return assignment;
    }

    String topicName(ConsumerGroup group, Uuid topicId) {
        for (TopicInfo t : group.subscriptionMetadata == null ? List.<TopicInfo>of() : group.subscriptionMetadata.values()) {
            if (t.id().equals(topicId)) {
                return t.name();
            }
        }
        TopicInfo topic = topics.byId(topicId);
        return topic == null ? null : topic.name();
    }
}
