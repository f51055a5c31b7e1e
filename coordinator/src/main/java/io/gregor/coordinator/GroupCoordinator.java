package io.gregor.coordinator;

import io.gregor.coordinator.consumer.ClassicMembersProtocol;
import io.gregor.coordinator.consumer.ConsumerGroup;
import io.gregor.coordinator.consumer.ConsumerGroupMember;
import io.gregor.coordinator.consumer.ConsumerGroupRecords;
import io.gregor.coordinator.consumer.ConsumerGroupConfig;
import io.gregor.coordinator.consumer.ConsumerGroupProtocol;
import io.gregor.coordinator.consumer.ConsumerTopics;
import io.gregor.coordinator.consumer.TopicInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Kafka's classic group coordinator, as the broker sees it. It owns the groups, loads them from
 * {@code __consumer_offsets} at start-up and hands each request to the part that serves it:
 * {@link ClassicMembership} (join, sync, heartbeat, leave), {@link OffsetManager} (commit, fetch, delete,
 * expiry) and {@link GroupAdmin} (list, describe, delete). {@link GroupStore} writes and reads the records.
 * <p>
 * Each group is guarded by its own monitor, which every part takes; all timers run on one shared scheduler.
 */
public final class GroupCoordinator implements PartitionLeadershipListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);

    private final GroupConfig config;
    private final GroupStore store;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    private final ConcurrentMap<String, ClassicGroup> groups = new ConcurrentHashMap<>();
    private final ClassicMembership membership;
    private final OffsetManager offsets;
    private final GroupAdmin admin;
    private final ConsumerGroupProtocol consumerProtocol;
    private final ClassicMembersProtocol classicMembers;
    private ScheduledFuture<?> expiryTask;
    /** Partitions of __consumer_offsets whose groups are in memory: this broker coordinates their groups. */
    private final Set<Integer> loaded = ConcurrentHashMap.newKeySet();
    private final Set<Integer> loading = ConcurrentHashMap.newKeySet();
    /** Loads and unloads run here, one at a time and in the order leadership changed. */
    private final ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gregor-group-loader");
        t.setDaemon(true);
        return t;
    });

    /** A coordinator whose consumer-protocol groups see no topics (tests of the classic protocol). */
    public GroupCoordinator(GroupConfig config, CoordinatorLog offsetsLog, TopicCatalog catalog,
                            ScheduledExecutorService scheduler, Time time) {
        this(config, ConsumerGroupConfig.defaults(), offsetsLog, catalog, NO_TOPICS, scheduler, time);
    }

    private static final ConsumerTopics NO_TOPICS = new ConsumerTopics() {
        @Override
        public TopicInfo byName(String name) {
            return null;
        }

        @Override
        public TopicInfo byId(Uuid id) {
            return null;
        }

        @Override
        public Collection<TopicInfo> all() {
            return List.of();
        }
    };

    public GroupCoordinator(GroupConfig config, ConsumerGroupConfig consumerConfig, CoordinatorLog offsetsLog,
                            TopicCatalog catalog, ConsumerTopics topics, ScheduledExecutorService scheduler, Time time) {
        this.config = config;
        this.store = new GroupStore(offsetsLog);
        this.scheduler = scheduler;
        this.time = time;
        this.consumerProtocol = new ConsumerGroupProtocol(consumerConfig, topics, scheduler, time,
                new ConsumerGroupProtocol.Listener() {
                    @Override
                    public void membersChanged(ConsumerGroup group) {
                        consumerMembersChanged(group);
                    }

                    @Override
                    public void write(ConsumerGroup group, List<CoordinatorRecord> records) {
                        try {
                            store.append(group.groupId(), records).whenComplete((ignored, e) -> {
                                if (e != null) {
                                    log.warn("Writing the records of consumer group {} failed: {}", group.groupId(), e.toString());
                                }
                            });
                        } catch (RuntimeException e) {
                            log.warn("Writing the records of consumer group {} failed: {}", group.groupId(), e.toString());
                        }
                    }

                    @Override
                    public void downgrade(ConsumerGroup group, Set<ConsumerGroupMember> leaving, List<CoordinatorRecord> records) {
                        downgradeToClassic(group, leaving, records);
                    }
                });
        this.classicMembers = new ClassicMembersProtocol(consumerProtocol);
        this.membership = new ClassicMembership(config, store, groups, scheduler, time, classicMembers);
        this.offsets = new OffsetManager(config, store, catalog, groups, membership, time);
        this.admin = new GroupAdmin(store, groups, time);
    }

    /**
     * Kafka's convertToClassicGroup (under the group's lock): the consumer group's records are deleted, the
     * remaining classic members form a Stable classic group at the group epoch with their target assignments,
     * whose record follows, and a rebalance starts.
     */
    private void downgradeToClassic(ConsumerGroup consumerGroup, Set<ConsumerGroupMember> leaving, List<CoordinatorRecord> records) {
        ClassicGroup group = (ClassicGroup) consumerGroup.lock();
        List<ClassicMembersProtocol.ClassicMemberView> members = classicMembers.downgradeMembers(consumerGroup, leaving);
        records.addAll(ConsumerGroupRecords.groupTombstones(consumerGroup));
        consumerGroup.markDead();
        group.consumer = null;
        membership.installDowngradedMembers(group, consumerGroup.groupEpoch(), members);
        records.add(GroupStore.groupRecord(group));
        membership.rebalanceAfterDowngrade(group);
        log.info("Downgraded the consumer group {} to a classic group of {} members", group.groupId, members.size());
    }

    /**
     * Kafka's convertToConsumerGroup (under the group's lock), when a consumer-protocol member joins a classic group
     * with members: the classic group's record is deleted and the consumer group's written.
     */
    private void upgradeToConsumer(ClassicGroup group, List<CoordinatorRecord> records) {
        int generation = group.generationId;
        String protocolName = group.protocolName;
        List<ClassicMembersProtocol.ClassicMemberView> members = membership.takeMembersForUpgrade(group);
        records.add(GroupStore.groupTombstone(group.groupId));
        group.consumer = classicMembers.upgrade(group.groupId, group, generation, protocolName, members, records);
        group.protocolName = null;
        group.transitionTo(GroupState.STABLE, time.milliseconds());
    }

    /** A consumer group gained its first member or lost its last: its classic state follows (offset expiry, deletion). */
    private void consumerMembersChanged(ConsumerGroup consumerGroup) {
        ClassicGroup group = (ClassicGroup) consumerGroup.lock();
        group.transitionTo(consumerGroup.isEmpty() ? GroupState.EMPTY : GroupState.STABLE, time.milliseconds());
    }

    /** The {@code __consumer_offsets} partition of a group: abs(hashCode) % partitions, abs(MIN_VALUE) being 0. */
    public static int partitionFor(String groupId, int partitionCount) {
        int hash = groupId.hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitionCount;
    }

    public int partitionFor(String groupId) {
        return store.partitionFor(groupId);
    }

    /**
     * Rebuilds the groups and offsets of every {@code __consumer_offsets} partition this broker leads, then
     * starts offset expiry. Leadership changes later arrive through {@link #onElection} and {@link #onResignation}.
     */
    public void startup() {
        long began = time.milliseconds();
        for (int p = 0; p < store.partitionCount(); p++) {
            load(p);
        }
        long interval = config.retentionCheckIntervalMs();
        expiryTask = scheduler.scheduleAtFixedRate(offsets::expireOffsets, interval, interval, TimeUnit.MILLISECONDS);
        log.info("Group coordinator loaded {} groups of {} partitions in {} ms", groups.size(), loaded.size(),
                time.milliseconds() - began);
    }

    /** This broker now leads partition {@code p} of __consumer_offsets: load its groups (in the background). */
    @Override
    public void onElection(int partition) {
        loading.add(partition);
        loader.execute(() -> load(partition));
    }

    /** Another broker leads partition {@code p} now: forget its groups; their members must find the new coordinator. */
    @Override
    public void onResignation(int partition) {
        loader.execute(() -> unload(partition));
    }

    private synchronized void load(int partition) {
        try {
            if (loaded.contains(partition) || !store.isLeader(partition)) {
                return;
            }
            long now = time.milliseconds();
            unloadGroups(partition); // leftovers of an earlier term are stale
            List<ClassicGroup> found = store.load(partition, now);
            for (ClassicGroup group : found) {
                groups.put(group.groupId, group);
                synchronized (group) {
                    membership.startSessions(group);
                    if (group.consumer != null) {
                        consumerProtocol.startSessions(group.consumer);
                    }
                }
            }
            loaded.add(partition);
            if (!found.isEmpty()) {
                log.info("Loaded {} groups of {}-{}", found.size(), "__consumer_offsets", partition);
            }
        } catch (RuntimeException e) {
            log.error("Loading the groups of __consumer_offsets-{} failed", partition, e);
        } finally {
            loading.remove(partition);
        }
    }

    private synchronized void unload(int partition) {
        if (!loaded.remove(partition)) {
            return;
        }
        int n = unloadGroups(partition);
        if (n > 0) {
            log.info("Unloaded {} groups of __consumer_offsets-{}: another broker coordinates them now", n, partition);
        }
    }

    private int unloadGroups(int partition) {
        int n = 0;
        for (ClassicGroup group : List.copyOf(groups.values())) {
            if (store.partitionFor(group.groupId) == partition) {
                synchronized (group) {
                    if (group.consumer != null) {
                        group.consumer.markDead();
                    }
                    membership.unload(group);
                }
                groups.remove(group.groupId, group);
                n++;
            }
        }
        return n;
    }

    /**
     * NONE when this broker coordinates the group; COORDINATOR_LOAD_IN_PROGRESS while its partition loads;
     * NOT_COORDINATOR when another broker leads the partition (the client looks the coordinator up again).
     */
    public Errors coordinatorError(String groupId) {
        int partition = store.partitionFor(groupId);
        if (loaded.contains(partition)) {
            return Errors.NONE;
        }
        return loading.contains(partition) ? Errors.COORDINATOR_LOAD_IN_PROGRESS : Errors.NOT_COORDINATOR;
    }

    @Override
    public void close() {
        if (expiryTask != null) {
            expiryTask.cancel(false);
        }
        loader.shutdownNow();
    }

    // ================================================================== membership

    public CompletableFuture<JoinGroupResponseData> joinGroup(JoinGroupRequestData request, short version,
                                                              String clientId, String clientHost) {
        return membership.joinGroup(request, version, clientId, clientHost);
    }

    public CompletableFuture<SyncGroupResponseData> syncGroup(SyncGroupRequestData request, short version) {
        return membership.syncGroup(request, version);
    }

    public HeartbeatResponseData heartbeat(HeartbeatRequestData request, short version) {
        return membership.heartbeat(request, version);
    }

    public CompletableFuture<LeaveGroupResponseData> leaveGroup(LeaveGroupRequestData request, short version) {
        return membership.leaveGroup(request, version);
    }

    // ================================================================== consumer protocol (KIP-848)

    /**
     * ConsumerGroupHeartbeat. An empty classic group (one that only has offsets, say) becomes a consumer group
     * when a consumer-protocol member joins it, as in Kafka; a classic group with members is not converted.
     */
    public CompletableFuture<ConsumerGroupHeartbeatResponseData> consumerGroupHeartbeat(
            ConsumerGroupHeartbeatRequestData request, short version, String clientId, String clientHost) {
        List<CoordinatorRecord> records = new ArrayList<>();
        ConsumerGroupHeartbeatResponseData response;
        CompletableFuture<Void> written = CompletableFuture.completedFuture(null);
        try {
            consumerProtocol.validate(request, version);
            String groupId = request.groupId();
            boolean joining = request.memberEpoch() == 0;
            ClassicGroup group = groups.get(groupId);
            if (group == null) {
                if (!joining) {
                    throw Errors.GROUP_ID_NOT_FOUND.exception("Consumer group " + groupId + " not found.");
                }
                group = groups.computeIfAbsent(groupId, g -> new ClassicGroup(g, time.milliseconds()));
            }
            synchronized (group) {
                if (group.is(GroupState.DEAD)) {
                    // deleted or moved meanwhile: the client looks the coordinator up again and retries
                    throw Errors.COORDINATOR_NOT_AVAILABLE.exception("Group " + groupId + " is being unloaded.");
                }
                if (group.consumer == null && joining && !group.members.isEmpty()
                        && ClassicGroup.CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)
                        && classicMembers.canUpgrade(groupId, group.members.size())) {
                    upgradeToConsumer(group, records);
                } else if (group.consumer == null) {
                    if (!joining || !group.is(GroupState.EMPTY) || !group.members.isEmpty()) {
                        if (joining && !group.members.isEmpty() && !ClassicGroup.CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)) {
                            log.info("Cannot upgrade classic group {} to consumer group because the group does not use the "
                                    + "consumer embedded protocol.", groupId);
                        }
                        throw Errors.GROUP_ID_NOT_FOUND.exception("Group " + groupId + " is not a consumer group.");
                    }
                    List<CoordinatorRecord> conversion = new ArrayList<>();
                    if (group.protocolType != null) {
                        log.info("Converting the empty classic group {} to a consumer group", groupId);
                        conversion.add(GroupStore.groupTombstone(groupId));
                    }
                    group.consumer = new ConsumerGroup(groupId, group);
                    records.addAll(conversion);
                    group.protocolType = ClassicGroup.CONSUMER_PROTOCOL_TYPE;
                    group.protocolName = null;
                    group.leaderId = null;
                    group.pendingMembers.clear();
                }
                response = consumerProtocol.heartbeat(group.consumer, request, version, clientId, clientHost, records);
                if (!records.isEmpty()) {
                    // appended under the group's lock, so the group's records land in the order of its changes
                    written = store.append(groupId, records);
                }
            }
        } catch (ApiException e) {
            Errors error = Errors.forException(e);
            if (error == Errors.INVALID_REQUEST || error == Errors.UNSUPPORTED_ASSIGNOR
                    || error == Errors.INVALID_REGULAR_EXPRESSION) {
                log.info("ConsumerGroupHeartbeat of group {} refused: {} ({})", request.groupId(), error, e.getMessage());
            } else {
                log.debug("ConsumerGroupHeartbeat of group {} failed: {} ({})", request.groupId(), error, e.getMessage());
            }
            return CompletableFuture.completedFuture(
                    new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code()).setErrorMessage(e.getMessage()));
        } catch (RuntimeException e) {
            Errors error = GroupStore.appendError(e);
            log.warn("Writing the records of consumer group {} failed: {}", request.groupId(), e.toString());
            return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code()));
        }
        ConsumerGroupHeartbeatResponseData answer = response;
        // the member hears of its new epoch and assignment once they are replicated, as in Kafka
        return written.handle((ignored, e) -> {
            if (e == null) {
                return answer;
            }
            Errors error = GroupStore.appendError(e);
            log.warn("Writing the records of consumer group {} failed: {}", request.groupId(), error);
            return new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code());
        });
    }

    /** ConsumerGroupDescribe of one group; GROUP_ID_NOT_FOUND for a classic group, so admin clients fall back. */
    public ConsumerGroupDescribeResponseData.DescribedGroup consumerGroupDescribe(String groupId, short version,
                                                                              boolean includeAuthorizedOperations) {
        ClassicGroup group = groups.get(groupId);
        if (group != null) {
            synchronized (group) {
                if (!group.is(GroupState.DEAD)) {
                    if (group.consumer != null) {
                        return consumerProtocol.describe(group.consumer, version, includeAuthorizedOperations);
                    }
                    return new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(groupId)
                            .setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                            .setErrorMessage("Group " + groupId + " is not a consumer group.");
                }
            }
        }
        return new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(groupId)
                .setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + groupId + " not found.");
    }

    /**
     * OffsetFetch v9+'s member check: a consumer-protocol member must fetch at its current epoch
     * (STALE_MEMBER_EPOCH otherwise); admin clients (no member id, epoch -1) always may.
     */
    public Errors validateOffsetFetch(String groupId, String memberId, int memberEpoch) {
        if (memberId == null && memberEpoch < 0) {
            return Errors.NONE;
        }
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return Errors.NONE;
        }
        synchronized (group) {
            return group.consumer == null ? Errors.NONE : group.consumer.validateOffsetFetch(memberId, memberEpoch);
        }
    }

    // ================================================================== offsets

    public CompletableFuture<OffsetCommitResponseData> commitOffsets(OffsetCommitRequestData request, short version) {
        return offsets.commitOffsets(request, version);
    }

    /**
     * The committed offsets of a group: of the given partitions (topic to partitions), or all of them when
     * {@code partitions} is null. Partitions without a commit are left out; callers answer them with -1.
     */
    public Map<TopicPartition, CommittedOffset> committedOffsets(String groupId, Map<String, List<Integer>> partitions) {
        return offsets.committedOffsets(groupId, partitions);
    }

    public CompletableFuture<TxnOffsetCommitResponseData> commitTransactionalOffsets(TxnOffsetCommitRequestData request,
                                                                                   short version) {
        return offsets.commitTransactionalOffsets(request, version, null);
    }

    /**
     * TxnOffsetCommit after its verification with the transaction coordinator: {@code verificationGuard} is what
     * {@link #transactionVerificationGuard} gave before asking; the write is refused if the transaction ended since.
     */
    public CompletableFuture<TxnOffsetCommitResponseData> commitTransactionalOffsets(TxnOffsetCommitRequestData request,
                                                                                   short version, Object verificationGuard) {
        return offsets.commitTransactionalOffsets(request, version, verificationGuard);
    }

    /** The group's offsets partition's token for the producer's verification (Kafka's VerificationGuard). */
    public Object transactionVerificationGuard(String groupId, long producerId, short producerEpoch) {
        return store.transactionVerificationGuard(groupId, producerId, producerEpoch);
    }

    /** A transaction marker of {@code producerId} was written on {@code __consumer_offsets-offsetsPartition}. */
    public void completeTransaction(int offsetsPartition, long producerId, boolean committed) {
        offsets.completeTransaction(offsetsPartition, producerId, committed);
    }

    public Set<TopicPartition> pendingTransactionalOffsets(String groupId) {
        return offsets.pendingTransactionalOffsets(groupId);
    }

    public OffsetDeleteResponseData deleteOffsets(OffsetDeleteRequestData request) {
        return offsets.deleteOffsets(request);
    }

    // ================================================================== administration

    /** Groups for ListGroups: {@code states} and {@code types} filters as v4/v5 define them (empty = all). */
    public List<ListedGroup> listGroups(Collection<String> states, Collection<String> types, short version) {
        return admin.listGroups(states, types, version);
    }

    public DescribedGroup describeGroup(String groupId, short version, boolean includeAuthorizedOperations) {
        return admin.describeGroup(groupId, version, includeAuthorizedOperations);
    }

    public DeletableGroupResult deleteGroup(String groupId) {
        return admin.deleteGroup(groupId);
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
