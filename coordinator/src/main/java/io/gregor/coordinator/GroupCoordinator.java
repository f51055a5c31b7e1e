package io.gregor.coordinator;

import org.apache.kafka.common.TopicPartition;
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
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
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
public final class GroupCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);

    private final GroupConfig config;
    private final GroupStore store;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    private final ConcurrentMap<String, ClassicGroup> groups = new ConcurrentHashMap<>();
    private final ClassicMembership membership;
    private final OffsetManager offsets;
    private final GroupAdmin admin;
    private ScheduledFuture<?> expiryTask;

    public GroupCoordinator(GroupConfig config, OffsetsLog offsetsLog, TopicCatalog catalog,
                            ScheduledExecutorService scheduler, Time time) {
        this.config = config;
        this.store = new GroupStore(offsetsLog);
        this.scheduler = scheduler;
        this.time = time;
        this.membership = new ClassicMembership(config, store, groups, scheduler, time);
        this.offsets = new OffsetManager(config, store, catalog, groups, membership, time);
        this.admin = new GroupAdmin(store, groups, time);
    }

    /** The {@code __consumer_offsets} partition of a group: abs(hashCode) % partitions, abs(MIN_VALUE) being 0. */
    public static int partitionFor(String groupId, int partitionCount) {
        int hash = groupId.hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitionCount;
    }

    public int partitionFor(String groupId) {
        return store.partitionFor(groupId);
    }

    /** Rebuilds every group and offset from {@code __consumer_offsets}, then starts offset expiry. */
    public void startup() {
        long began = time.milliseconds();
        for (int p = 0; p < store.partitionCount(); p++) {
            for (ClassicGroup group : store.load(p, time.milliseconds())) {
                groups.put(group.groupId, group);
                synchronized (group) {
                    membership.startSessions(group);
                }
            }
        }
        long interval = config.retentionCheckIntervalMs();
        expiryTask = scheduler.scheduleAtFixedRate(offsets::expireOffsets, interval, interval, TimeUnit.MILLISECONDS);
        log.info("Group coordinator loaded {} groups in {} ms", groups.size(), time.milliseconds() - began);
    }

    @Override
    public void close() {
        if (expiryTask != null) {
            expiryTask.cancel(false);
        }
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

    public LeaveGroupResponseData leaveGroup(LeaveGroupRequestData request, short version) {
        return membership.leaveGroup(request, version);
    }

    // ================================================================== offsets

    public OffsetCommitResponseData commitOffsets(OffsetCommitRequestData request, short version) {
        return offsets.commitOffsets(request, version);
    }

    /**
     * The committed offsets of a group: of the given partitions (topic to partitions), or all of them when
     * {@code partitions} is null. Partitions without a commit are left out; callers answer them with -1.
     */
    public Map<TopicPartition, CommittedOffset> committedOffsets(String groupId, Map<String, List<Integer>> partitions) {
        return offsets.committedOffsets(groupId, partitions);
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
