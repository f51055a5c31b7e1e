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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Share groups' membership (KIP-932): members join, heartbeat and leave with ShareGroupHeartbeat; every
 * member is assigned every initialized share partition of the topics it subscribes to (share groups share
 * partitions; the records are divided by acquisition on the partition leaders). As in Kafka, the coordinator
 * initializes a subscribed partition's state with its share coordinator (InitializeShareGroupState, start
 * offset -1: the partition's leader applies share.auto.offset.reset) before assigning it. A member that stops
 * heartbeating for its session timeout is removed. The group itself (its epoch, the share partitions assigned, which have state with
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

    /**
     * Initializes share partitions' state with their share coordinators (the persister's
     * InitializeShareGroupState); fails with the partition's error once retrying coordinator errors is over.
     */
    @FunctionalInterface
    public interface StateInitializer {
        CompletableFuture<Void> initialize(String groupId, Uuid topicId, int partition, int stateEpoch, long startOffset);
    }

    /** Kafka's start offset of a share partition initialized for a heartbeat: its leader applies share.auto.offset.reset. */
    public static final long UNINITIALIZED_START_OFFSET = -1;
    /** Kafka's group.share.initialize.retry.interval.ms default: initializing partitions older than this are retried. */
    private static final long INITIALIZE_RETRY_INTERVAL_MS = 30_000;

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
        /** The assignment last sent: topic id to partitions. */
        Map<Uuid, List<Integer>> assignment = Map.of();

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
    /** When each share partition started initializing (timestamps are not persisted, as in Kafka's record). */
    private final Map<String, Long> initializingSince = new ConcurrentHashMap<>();
    private volatile StateInitializer initializer = (g, t, p, e, o) -> CompletableFuture.completedFuture(null);
    private volatile MemberListener listener = (g, m) -> { };
    private final ScheduledFuture<?> expiry;
    private final ScheduledExecutorService scheduler;

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
        this.scheduler = scheduler;
        this.expiry = scheduler.scheduleAtFixedRate(this::expireMembers, EXPIRY_CHECK_MS, EXPIRY_CHECK_MS,
                TimeUnit.MILLISECONDS);
    }

    public void setStateInitializer(StateInitializer initializer) {
        this.initializer = initializer;
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
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> toInitialize = Map.of();
        int initEpoch = 0;
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
                forgetDeletedTopics(groupId);
                Map<Uuid, List<Integer>> target = targetAssignment(groupId, member);
                boolean assignmentChanged = !target.equals(member.assignment);
                if (changed || assignmentChanged) {
                    group.epoch++;
                    group.assignmentEpoch = group.epoch;
                    persistEpoch(group);
                }
                toInitialize = partitionsToInitialize(group);
                initEpoch = group.epoch;
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
        if (!toInitialize.isEmpty()) {
            // asynchronous to the heartbeat, as Kafka: the partitions are assigned once they are initialized
            Map<Uuid, ShareGroupMetadataStore.TopicPartitions> partitions = toInitialize;
            int stateEpoch = initEpoch;
            scheduler.execute(() -> initialize(groupId, partitions, stateEpoch, UNINITIALIZED_START_OFFSET));
        }
        return response;
    }

    /** Every member is assigned the initialized share partitions of the topics it subscribes to (Kafka's assignable ones). */
    private Map<Uuid, List<Integer>> targetAssignment(String groupId, Member member) {
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> initialized = metadata.partitions(groupId).initialized();
        Map<Uuid, List<Integer>> target = new TreeMap<>();
        for (String name : member.subscribed) {
            topics.byName(name).filter(t -> t.partitions() > 0).ifPresent(t -> {
                ShareGroupMetadataStore.TopicPartitions parts = initialized.get(t.id());
                if (parts != null && !parts.partitions().isEmpty()) {
                    target.put(t.id(), List.copyOf(new TreeSet<>(parts.partitions())));
                }
            });
        }
        return target;
    }

    /**
     * The group's subscribed share partitions neither initialized nor initializing since less than the retry
     * interval (Kafka's subscribedTopicsChangeMap); recorded as initializing here.
     */
    private Map<Uuid, ShareGroupMetadataStore.TopicPartitions> partitionsToInitialize(Group group) {
        TreeSet<String> subscribed = new TreeSet<>();
        group.members.values().forEach(m -> subscribed.addAll(m.subscribed));
        ShareGroupMetadataStore.SharePartitions current = metadata.partitions(group.id);
        long now = time.milliseconds();
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> out = new TreeMap<>();
        for (String name : subscribed) {
            Optional<TopicInfo> topic = topics.byName(name);
            if (topic.isEmpty()) {
                continue;
            }
            TopicInfo t = topic.get();
            TreeSet<Integer> missing = new TreeSet<>();
            for (int p = 0; p < t.partitions(); p++) {
                if (contains(current.initialized(), t.id(), p)) {
                    continue;
                }
                Long since = initializingSince.get(initKey(group.id, t.id(), p));
                if (contains(current.initializing(), t.id(), p) && since != null
                        && now - since < INITIALIZE_RETRY_INTERVAL_MS) {
                    continue;
                }
                missing.add(p);
            }
            if (!missing.isEmpty()) {
                missing.forEach(p -> initializingSince.put(initKey(group.id, t.id(), p), now));
                out.put(t.id(), new ShareGroupMetadataStore.TopicPartitions(t.name(), Set.copyOf(missing)));
            }
        }
        return out;
    }

    private static boolean contains(Map<Uuid, ShareGroupMetadataStore.TopicPartitions> topics, Uuid id, int p) {
        ShareGroupMetadataStore.TopicPartitions parts = topics.get(id);
        return parts != null && parts.partitions().contains(p);
    }

    private static String initKey(String groupId, Uuid topicId, int partition) {
        return groupId + '\u0000' + topicId + '\u0000' + partition;
    }

    /**
     * Kafka's initialization of share partitions: recorded as initializing, InitializeShareGroupState sent to
     * their share coordinators with the group epoch as state epoch, then recorded as initialized; those that
     * fail are taken out of initializing (a later heartbeat tries them again). Completes with the partitions'
     * errors (empty when all are initialized).
     */
    public CompletableFuture<Map<Uuid, Map<Integer, Throwable>>> initialize(
            String groupId, Map<Uuid, ShareGroupMetadataStore.TopicPartitions> partitions, int stateEpoch,
            long startOffset) {
        return initialize(groupId, partitions, stateEpoch, (id, p) -> startOffset);
    }

    /** As {@link #initialize(String, Map, int, long)} with a start offset per partition (AlterShareGroupOffsets). */
    public CompletableFuture<Map<Uuid, Map<Integer, Throwable>>> initialize(
            String groupId, Map<Uuid, ShareGroupMetadataStore.TopicPartitions> partitions, int stateEpoch,
            java.util.function.ToLongBiFunction<Uuid, Integer> startOffsets) {
        long now = time.milliseconds();
        partitions.forEach((id, t) -> t.partitions().forEach(p -> initializingSince.put(initKey(groupId, id, p), now)));
        return metadata.updatePartitions(groupId, current -> withInitializing(current, partitions))
                .thenCompose(v -> {
                    Map<Uuid, Map<Integer, Throwable>> failed = new ConcurrentHashMap<>();
                    List<CompletableFuture<Void>> calls = new ArrayList<>();
                    partitions.forEach((id, t) -> t.partitions().forEach(p -> calls.add(initializer
                            .initialize(groupId, id, p, stateEpoch, startOffsets.applyAsLong(id, p))
                            .handle((x, e) -> {
                                if (e != null) {
                                    failed.computeIfAbsent(id, k -> new ConcurrentHashMap<>()).put(p, e);
                                }
                                return null;
                            }))));
                    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(x -> failed);
                })
                .thenCompose(failed -> {
                    if (!failed.isEmpty()) {
                        log.warn("Cannot initialize the state of share group {} on {}; it is tried again later",
                                groupId, failed.keySet());
                    }
                    partitions.forEach((id, t) -> t.partitions().forEach(p -> initializingSince.remove(initKey(groupId, id, p))));
                    return metadata.updatePartitions(groupId, current -> initialized(current, partitions, failed))
                            .thenApply(v -> failed);
                })
                .whenComplete((v, e) -> {
                    if (e != null) {
                        log.warn("Cannot record the initialization of share group {}: {}", groupId, e.toString());
                    }
                });
    }

    private static ShareGroupMetadataStore.SharePartitions withInitializing(
            ShareGroupMetadataStore.SharePartitions current, Map<Uuid, ShareGroupMetadataStore.TopicPartitions> adding) {
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> initializing = new TreeMap<>(current.initializing());
        adding.forEach((id, t) -> initializing.merge(id, t, ShareGroupCoordinator::union));
        Map<Uuid, String> deleting = new TreeMap<>(current.deleting());
        // a topic initialized again is no longer being deleted (Kafka's addInitializingTopicsRecords)
        deleting.keySet().removeAll(adding.keySet());
        return new ShareGroupMetadataStore.SharePartitions(Map.copyOf(initializing), current.initialized(),
                Map.copyOf(deleting));
    }

    /** The partitions move from initializing to initialized, except the failed ones, which only leave initializing. */
    private static ShareGroupMetadataStore.SharePartitions initialized(
            ShareGroupMetadataStore.SharePartitions current, Map<Uuid, ShareGroupMetadataStore.TopicPartitions> done,
            Map<Uuid, Map<Integer, Throwable>> failed) {
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> initializing = new TreeMap<>(current.initializing());
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> initialized = new TreeMap<>(current.initialized());
        done.forEach((id, t) -> {
            Set<Integer> ok = new TreeSet<>(t.partitions());
            ok.removeAll(failed.getOrDefault(id, Map.of()).keySet());
            ShareGroupMetadataStore.TopicPartitions left = initializing.get(id);
            if (left != null) {
                Set<Integer> rest = new TreeSet<>(left.partitions());
                rest.removeAll(t.partitions());
                if (rest.isEmpty()) {
                    initializing.remove(id);
                } else {
                    initializing.put(id, new ShareGroupMetadataStore.TopicPartitions(left.name(), Set.copyOf(rest)));
                }
            }
            if (!ok.isEmpty()) {
                initialized.merge(id, new ShareGroupMetadataStore.TopicPartitions(t.name(), Set.copyOf(ok)),
                        ShareGroupCoordinator::union);
            }
        });
        return new ShareGroupMetadataStore.SharePartitions(Map.copyOf(initializing), Map.copyOf(initialized),
                current.deleting());
    }

    private static ShareGroupMetadataStore.TopicPartitions union(ShareGroupMetadataStore.TopicPartitions a,
                                                                 ShareGroupMetadataStore.TopicPartitions b) {
        Set<Integer> all = new TreeSet<>(a.partitions());
        all.addAll(b.partitions());
        return new ShareGroupMetadataStore.TopicPartitions(b.name(), Set.copyOf(all));
    }

    /** Topics deleted from the cluster leave the group's share partitions (Kafka's maybeCleanupShareGroupState). */
    private void forgetDeletedTopics(String groupId) {
        ShareGroupMetadataStore.SharePartitions current = metadata.partitions(groupId);
        Predicate<Uuid> gone = id -> topics.byId(id).isEmpty();
        if (current.initializing().keySet().stream().noneMatch(gone) && current.initialized().keySet().stream().noneMatch(gone)
                && current.deleting().keySet().stream().noneMatch(gone)) {
            return;
        }
        metadata.updatePartitions(groupId, c -> new ShareGroupMetadataStore.SharePartitions(
                without(c.initializing(), gone), without(c.initialized(), gone), without(c.deleting(), gone)));
    }

    private static <V> Map<Uuid, V> without(Map<Uuid, V> map, Predicate<Uuid> gone) {
        Map<Uuid, V> out = new TreeMap<>(map);
        out.keySet().removeIf(gone);
        return Map.copyOf(out);
    }

    /**
     * DeleteShareGroupOffsets and group deletion (Kafka's deleting topics): the topics leave initializing and
     * initialized and are recorded as deleting until their state is deleted.
     */
    public CompletableFuture<Void> startDeleting(String groupId, Map<Uuid, String> topicNames) {
        return metadata.updatePartitions(groupId, c -> {
            Map<Uuid, String> deleting = new TreeMap<>(c.deleting());
            deleting.putAll(topicNames);
            return new ShareGroupMetadataStore.SharePartitions(without(c.initializing(), topicNames::containsKey),
                    without(c.initialized(), topicNames::containsKey), Map.copyOf(deleting));
        });
    }

    /** The topics' state is deleted: they leave deleting. */
    public CompletableFuture<Void> deleted(String groupId, java.util.Collection<Uuid> topicIds) {
        return metadata.updatePartitions(groupId, c -> new ShareGroupMetadataStore.SharePartitions(c.initializing(),
                c.initialized(), without(c.deleting(), topicIds::contains)));
    }

    /** The group's share partitions as persisted. */
    public ShareGroupMetadataStore.SharePartitions sharePartitions(String groupId) {
        return metadata.partitions(groupId);
    }

    /** The group's epoch (Kafka's state epoch of the share partitions it initializes). */
    public synchronized int groupEpoch(String groupId) {
        Group g = groups.get(groupId);
        return g != null ? g.epoch : metadata.group(groupId).map(ShareGroupMetadataStore.Persisted::epoch).orElse(0);
    }

    private static List<ShareGroupHeartbeatResponseData.TopicPartitions> topicPartitions(Map<Uuid, List<Integer>> assignment) {
        List<ShareGroupHeartbeatResponseData.TopicPartitions> out = new ArrayList<>();
        assignment.forEach((id, parts) -> out.add(new ShareGroupHeartbeatResponseData.TopicPartitions().setTopicId(id)
                .setPartitions(new ArrayList<>(parts))));
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
                m.assignment.forEach((id, parts) -> assigned.add(new ShareGroupDescribeResponseData.TopicPartitions()
                        .setTopicId(id).setTopicName(topics.byId(id).map(TopicInfo::name).orElse(""))
                        .setPartitions(new ArrayList<>(parts))));
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
        initializingSince.keySet().removeIf(k -> k.startsWith(groupId + '\u0000'));
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
