package io.gregor.coordinator.share;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareGroupDescribeResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Share groups' membership (KIP-932): members join, heartbeat and leave with ShareGroupHeartbeat; every
 * member is assigned every partition of the topics the group subscribes to (share groups share partitions;
 * the records are divided by acquisition on the partition leaders). A member that stops heartbeating for its
 * session timeout is removed. The group itself (its epoch, the share partitions assigned, which have state with
 * the share coordinators) is persisted in {@code __consumer_offsets} as Kafka writes it; members are kept in
 * memory: after a restart or a coordinator move they rejoin (their next heartbeat is answered UNKNOWN_MEMBER_ID).
 */
public final class ShareGroupCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShareGroupCoordinator.class);
    private static final long EXPIRY_CHECK_MS = 250;

    /** A topic as the coordinator needs it. */
    public record TopicInfo(Uuid id, String name, int partitions) {
    }

    /** What the coordinator asks of the broker's metadata. */
    public interface Topics {
        Optional<TopicInfo> byName(String name);

        Optional<TopicInfo> byId(Uuid id);
    }

    /** Told when a member leaves or is removed, so its acquired records go back to the others at once. */
    @FunctionalInterface
    public interface MemberListener {
        void memberLeft(String groupId, String memberId);
    }

    public record Listed(String groupId, String state) {
    }

    private static final class Member {
        final String id;
        int epoch;
        String rackId;
        String clientId;
        String clientHost;
        List<String> subscribed = List.of();
        long deadlineMs;
        /** The assignment last sent: topic id to partition count. */
        Map<Uuid, Integer> assignment = Map.of();

        Member(String id) {
            this.id = id;
        }
    }

    private static final class Group {
        final String id;
        int epoch;
        int assignmentEpoch;
        final Map<String, Member> members = new LinkedHashMap<>();

        Group(String id) {
            this.id = id;
        }
    }

    private final ShareGroupConfig config;
    private final ShareGroupConfigs groupConfigs;
    private final Topics topics;
    private final Predicate<String> otherGroupExists;
    private final ShareGroupMetadataStore metadata;
    private final Time time;
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    private volatile MemberListener listener = (g, m) -> { };
    private final ScheduledFuture<?> expiry;

    /**
     * @param otherGroupExists whether a classic or consumer group of that id exists (a share group cannot take it)
     */
    public ShareGroupCoordinator(ShareGroupConfig config, ShareGroupConfigs groupConfigs, Topics topics,
                                 Predicate<String> otherGroupExists, ShareGroupMetadataStore metadata,
                                 ScheduledExecutorService scheduler, Time time) {
        this.config = config;
        this.groupConfigs = groupConfigs;
        this.topics = topics;
        this.otherGroupExists = otherGroupExists;
        this.metadata = metadata;
        this.time = time;
        this.expiry = scheduler.scheduleAtFixedRate(this::expireMembers, EXPIRY_CHECK_MS, EXPIRY_CHECK_MS,
                TimeUnit.MILLISECONDS);
    }

    public void setMemberListener(MemberListener listener) {
        this.listener = listener;
    }

    public ShareGroupConfigs groupConfigs() {
        return groupConfigs;
    }

    public ShareGroupHeartbeatResponseData heartbeat(String groupId, String memberId, int memberEpoch, String rackId,
                                                     List<String> subscribedTopicNames, String clientId,
                                                     String clientHost) {
        ShareGroupHeartbeatResponseData response = new ShareGroupHeartbeatResponseData();
        if (groupId == null || groupId.isEmpty()) {
            return error(response, Errors.INVALID_REQUEST, "GroupId can't be empty.");
        }
        if (memberId == null || memberId.isEmpty()) {
            return error(response, Errors.INVALID_REQUEST, "MemberId can't be empty.");
        }
        if (memberEpoch < -1) {
            return error(response, Errors.INVALID_REQUEST, "MemberEpoch is invalid.");
        }
        if (memberEpoch == 0 && (subscribedTopicNames == null || subscribedTopicNames.isEmpty())) {
            return error(response, Errors.INVALID_REQUEST, "SubscribedTopicNames must be set in first request.");
        }
        if (otherGroupExists.test(groupId)) {
            return error(response, Errors.GROUP_ID_NOT_FOUND, "Group " + groupId + " is not a share group.");
        }
        List<String> leftMember = null;
        synchronized (this) {
            Group group = groups.get(groupId);
            Member member = group == null ? null : group.members.get(memberId);
            if (memberEpoch == -1) {
                if (member != null) {
                    remove(group, member);
                    leftMember = List.of(memberId);
                }
                response.setMemberId(memberId).setMemberEpoch(-1);
            } else {
                if (memberEpoch > 0) {
                    if (member == null) {
                        return error(response, Errors.UNKNOWN_MEMBER_ID,
                                "Member " + memberId + " is not a member of group " + groupId + ".");
                    }
                    if (memberEpoch != member.epoch) {
                        return error(response, Errors.FENCED_MEMBER_EPOCH, "The share group member has a "
                                + (memberEpoch > member.epoch ? "larger" : "smaller") + " member epoch ("
                                + memberEpoch + ") than the one known by the group coordinator (" + member.epoch + ").");
                    }
                }
                if (group == null) {
                    group = groups.computeIfAbsent(groupId, Group::new);
                    // a group persisted before (a restart, a coordinator move) goes on from its epoch
                    group.epoch = metadata.group(groupId).map(ShareGroupMetadataStore.Persisted::epoch).orElse(0);
                    group.assignmentEpoch = group.epoch;
                }
                boolean changed = false;
                if (member == null) {
                    if (group.members.size() >= config.maxSize()) {
                        return error(response, Errors.GROUP_MAX_SIZE_REACHED, "The share group has reached its maximum size.");
                    }
                    member = new Member(memberId);
                    group.members.put(memberId, member);
                    changed = true;
                    log.info("Member {} joined share group {}", memberId, groupId);
                }
                if (subscribedTopicNames != null && !subscribedTopicNames.equals(member.subscribed)) {
                    member.subscribed = List.copyOf(subscribedTopicNames);
                    changed = true;
                }
                if (rackId != null) {
                    member.rackId = rackId;
                }
                member.clientId = clientId;
                member.clientHost = clientHost;
                member.deadlineMs = time.milliseconds() + groupConfigs.sessionTimeoutMs(groupId);
                Map<Uuid, Integer> target = targetAssignment(member);
                boolean assignmentChanged = !target.equals(member.assignment);
                if (changed || assignmentChanged) {
                    group.epoch++;
                    group.assignmentEpoch = group.epoch;
                    persistEpoch(group);
                }
                for (Map.Entry<Uuid, Integer> t : target.entrySet()) {
                    // the assigned share partitions get state with their share coordinators (on first fetch)
                    String name = topics.byId(t.getKey()).map(TopicInfo::name).orElse("");
                    metadata.addInitialized(groupId, t.getKey(), name, range(t.getValue())).whenComplete((v, e) -> {
                        if (e != null) {
                            log.warn("Cannot persist the share partitions of share group {}: {}", groupId, e.toString());
                        }
                    });
                }
                boolean sendAssignment = memberEpoch == 0 || assignmentChanged || member.epoch != group.epoch;
                member.assignment = target;
                if (sendAssignment) {
                    member.epoch = group.epoch;
                    response.setAssignment(new ShareGroupHeartbeatResponseData.Assignment()
                            .setTopicPartitions(topicPartitions(target)));
                }
                response.setMemberId(memberId).setMemberEpoch(member.epoch)
                        .setHeartbeatIntervalMs(groupConfigs.heartbeatIntervalMs(groupId));
            }
        }
        if (leftMember != null) {
            listener.memberLeft(groupId, memberId);
        }
        return response;
    }

    private Map<Uuid, Integer> targetAssignment(Member member) {
        Map<Uuid, Integer> target = new TreeMap<>();
        for (String name : member.subscribed) {
            topics.byName(name).filter(t -> t.partitions() > 0).ifPresent(t -> target.put(t.id(), t.partitions()));
        }
        return target;
    }

    private static List<ShareGroupHeartbeatResponseData.TopicPartitions> topicPartitions(Map<Uuid, Integer> assignment) {
        List<ShareGroupHeartbeatResponseData.TopicPartitions> out = new ArrayList<>();
        assignment.forEach((id, n) -> out.add(new ShareGroupHeartbeatResponseData.TopicPartitions().setTopicId(id)
                .setPartitions(range(n))));
        return out;
    }

    private static List<Integer> range(int n) {
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }

    private void remove(Group group, Member member) {
        group.members.remove(member.id);
        group.epoch++;
        group.assignmentEpoch = group.epoch;
        persistEpoch(group);
    }

    private void persistEpoch(Group group) {
        metadata.writeEpoch(group.id, group.epoch).whenComplete((v, e) -> {
            if (e != null) {
                log.warn("Cannot persist the epoch of share group {}: {}", group.id, e.toString());
            }
        });
    }

    /** The group's share partitions that have state with their share coordinators, as persisted. */
    public Map<Uuid, ShareGroupMetadataStore.TopicPartitions> initialized(String groupId) {
        return metadata.group(groupId).map(ShareGroupMetadataStore.Persisted::initialized).orElse(Map.of());
    }

    /** Records that {@code partitions} of a topic have state (AlterShareGroupOffsets initialized them). */
    public java.util.concurrent.CompletableFuture<Void> addInitialized(String groupId, Uuid topicId, String topicName,
                                                                       List<Integer> partitions) {
        return metadata.addInitialized(groupId, topicId, topicName, partitions);
    }

    /** Records that the topics' share partitions no longer have state (DeleteShareGroupOffsets). */
    public java.util.concurrent.CompletableFuture<Void> removeInitialized(String groupId, List<Uuid> topicIds) {
        return metadata.removeTopics(groupId, topicIds);
    }

    private static ShareGroupHeartbeatResponseData error(ShareGroupHeartbeatResponseData response, Errors error,
                                                         String message) {
        return response.setErrorCode(error.code()).setErrorMessage(message);
    }

    private void expireMembers() {
        try {
            long now = time.milliseconds();
            List<String[]> expired = new ArrayList<>();
            synchronized (this) {
                for (Group group : groups.values()) {
                    for (Member m : List.copyOf(group.members.values())) {
                        if (m.deadlineMs <= now) {
                            remove(group, m);
                            expired.add(new String[]{group.id, m.id});
                            log.info("Member {} of share group {} removed: no heartbeat within its session timeout",
                                    m.id, group.id);
                        }
                    }
                }
            }
            for (String[] e : expired) {
                listener.memberLeft(e[0], e[1]);
            }
        } catch (RuntimeException e) {
            log.warn("Share group session expiry failed: {}", e.toString());
        }
    }

    /** Whether {@code groupId} is a share group here (with members now, or with persisted state). */
    public boolean isShareGroup(String groupId) {
        return groups.containsKey(groupId) || metadata.group(groupId).isPresent();
    }

    public synchronized boolean hasMembers(String groupId) {
        Group g = groups.get(groupId);
        return g != null && !g.members.isEmpty();
    }

    /** Share groups with their state (Empty or Stable). */
    public synchronized List<Listed> list() {
        TreeSet<String> ids = new TreeSet<>(groups.keySet());
        ids.addAll(metadata.groups());
        List<Listed> out = new ArrayList<>();
        for (String id : ids) {
            out.add(new Listed(id, hasMembers(id) ? "Stable" : "Empty"));
        }
        return out;
    }

    public synchronized ShareGroupDescribeResponseData.DescribedGroup describe(String groupId) {
        ShareGroupDescribeResponseData.DescribedGroup d = new ShareGroupDescribeResponseData.DescribedGroup()
                .setGroupId(groupId);
        if (otherGroupExists.test(groupId)) {
            return d.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + groupId
                    + " is not a share group.").setGroupState("Dead");
        }
        Group group = groups.get(groupId);
        Optional<ShareGroupMetadataStore.Persisted> persisted = metadata.group(groupId);
        if (group == null && persisted.isEmpty()) {
            return d.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + groupId + " not found.")
                    .setGroupState("Dead");
        }
        d.setGroupState(group != null && !group.members.isEmpty() ? "Stable" : "Empty")
                .setGroupEpoch(group == null ? persisted.get().epoch() : group.epoch)
                .setAssignmentEpoch(group == null ? persisted.get().epoch() : group.assignmentEpoch)
                .setAssignorName("simple");
        if (group != null) {
            for (Member m : group.members.values()) {
                List<ShareGroupDescribeResponseData.TopicPartitions> assigned = new ArrayList<>();
                m.assignment.forEach((id, n) -> assigned.add(new ShareGroupDescribeResponseData.TopicPartitions()
                        .setTopicId(id).setTopicName(topics.byId(id).map(TopicInfo::name).orElse(""))
                        .setPartitions(range(n))));
                d.members().add(new ShareGroupDescribeResponseData.Member().setMemberId(m.id).setRackId(m.rackId)
                        .setMemberEpoch(m.epoch).setClientId(m.clientId == null ? "" : m.clientId)
                        .setClientHost(m.clientHost == null ? "" : m.clientHost)
                        .setSubscribedTopicNames(new ArrayList<>(m.subscribed))
                        .setAssignment(new ShareGroupDescribeResponseData.Assignment().setTopicPartitions(assigned)));
            }
        }
        return d;
    }

    /** The topics the group's members subscribe to now. */
    public synchronized List<String> subscribedTopics(String groupId) {
        Group g = groups.get(groupId);
        TreeSet<String> out = new TreeSet<>();
        if (g != null) {
            g.members.values().forEach(m -> out.addAll(m.subscribed));
        }
        return new ArrayList<>(out);
    }

    /** Forgets an empty group: NON_EMPTY_GROUP while members are in it, GROUP_ID_NOT_FOUND if unknown. */
    public synchronized Errors delete(String groupId) {
        if (!isShareGroup(groupId)) {
            return Errors.GROUP_ID_NOT_FOUND;
        }
        if (hasMembers(groupId)) {
            return Errors.NON_EMPTY_GROUP;
        }
        groups.remove(groupId);
        metadata.delete(groupId).whenComplete((v, e) -> {
            if (e != null) {
                log.warn("Cannot delete share group {} from __consumer_offsets: {}", groupId, e.toString());
            }
        });
        return Errors.NONE;
    }

    @Override
    public void close() {
        expiry.cancel(false);
    }
}
