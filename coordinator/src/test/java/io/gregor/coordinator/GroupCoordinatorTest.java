package io.gregor.coordinator;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The classic group state machine's error answers, driven through the coordinator's API with the
 * generated request classes; the offsets topic is an in-memory log with the same contract as the broker's.
 */
class GroupCoordinatorTest {
    private static final short V = 9;
    private final MemoryLog log = new MemoryLog();
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    private GroupCoordinator coordinator = newCoordinator(new GroupConfig(1000, 60_000, 0, 3, 10, 60_000, 600_000));

    private GroupCoordinator newCoordinator(GroupConfig config) {
        GroupCoordinator c = new GroupCoordinator(config, log, (topic, p) -> topic.equals("t"), scheduler, Time.SYSTEM);
        c.startup();
        return c;
    }

    @AfterEach
    void stop() {
        coordinator.close();
        scheduler.shutdownNow();
    }

    /** An in-memory __consumer_offsets: records appended per partition, replayed in order. */
    static final class MemoryLog implements CoordinatorLog {
        final List<List<CoordinatorRecord>> partitions = new ArrayList<>();
        final java.util.Set<Integer> notLed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        /** When set, appends report replication through this future instead of at once. */
        volatile CompletableFuture<Void> replication;

        @Override
        public boolean isLeader(int partition) {
            return !notLed.contains(partition);
        }

        MemoryLog() {
            for (int i = 0; i < 50; i++) {
                partitions.add(new ArrayList<>());
            }
        }

        @Override
        public int partitionCount() {
            return 50;
        }

        @Override
        public synchronized CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records) {
            partitions.get(partition).addAll(records);
            CompletableFuture<Void> r = replication;
            return r != null ? r : CompletableFuture.completedFuture(null);
        }

        @Override
        public synchronized void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor) {
            for (CoordinatorRecord r : partitions.get(partition)) {
                visitor.accept(ByteBuffer.wrap(r.key()), r.value() == null ? null : ByteBuffer.wrap(r.value()));
            }
        }
    }

    private static JoinGroupRequestData join(String group, String memberId, String instanceId, String... protocols) {
        JoinGroupRequestProtocolCollection list = new JoinGroupRequestProtocolCollection();
        for (String p : protocols) {
            list.add(new JoinGroupRequestProtocol().setName(p).setMetadata(new byte[]{1}));
        }
        return new JoinGroupRequestData().setGroupId(group).setMemberId(memberId).setGroupInstanceId(instanceId)
                .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(5_000).setProtocolType("consumer").setProtocols(list);
    }

    private JoinGroupResponseData joined(JoinGroupRequestData request) throws Exception {
        return coordinator.joinGroup(request, V, "client", "/127.0.0.1").get(10, TimeUnit.SECONDS);
    }

    /** Two-step join of a lone dynamic member; returns the (generation 1) join response. */
    private JoinGroupResponseData joinAlone(String group) throws Exception {
        JoinGroupResponseData first = joined(join(group, "", null, "range"));
        assertThat(Errors.forCode(first.errorCode())).isEqualTo(Errors.MEMBER_ID_REQUIRED);
        assertThat(first.memberId()).startsWith("client-");
        JoinGroupResponseData second = joined(join(group, first.memberId(), null, "range"));
        assertThat(second.errorCode()).isZero();
        return second;
    }

    private SyncGroupResponseData sync(String group, String memberId, int generation, byte[] assignment)
            throws Exception {
        SyncGroupRequestData request = new SyncGroupRequestData().setGroupId(group).setMemberId(memberId)
                .setGenerationId(generation).setProtocolType("consumer").setProtocolName("range");
        if (assignment != null) {
            request.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(memberId)
                    .setAssignment(assignment));
        }
        return coordinator.syncGroup(request, (short) 5).get(10, TimeUnit.SECONDS);
    }

    private Errors heartbeat(String group, String memberId, int generation) {
        return Errors.forCode(coordinator.heartbeat(new HeartbeatRequestData().setGroupId(group).setMemberId(memberId)
                .setGenerationId(generation), (short) 4).errorCode());
    }

    private static OffsetCommitRequestData commit(String group, int generation, String memberId, long offset, String metadata) {
        OffsetCommitRequestData request = new OffsetCommitRequestData().setGroupId(group)
                .setGenerationIdOrMemberEpoch(generation).setMemberId(memberId);
        request.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t").setPartitions(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                        .setCommittedOffset(offset).setCommittedMetadata(metadata))));
        return request;
    }

    private static Errors partitionError(OffsetCommitResponseData response) {
        return Errors.forCode(response.topics().get(0).partitions().get(0).errorCode());
    }

    @Test
    void partitionForUsesKafkasAbsWithMinValueAsZero() {
        assertThat("polygenelubricants".hashCode()).isEqualTo(Integer.MIN_VALUE);
        assertThat(GroupCoordinator.partitionFor("polygenelubricants", 50)).isZero();
        assertThat(GroupCoordinator.partitionFor("test-17", 50)).isEqualTo(Math.abs("test-17".hashCode()) % 50);
    }

    @Test
    void joinSyncHeartbeatAndGenerationChecks() throws Exception {
        JoinGroupResponseData joined = joinAlone("g");
        assertThat(joined.generationId()).isEqualTo(1);
        assertThat(joined.leader()).isEqualTo(joined.memberId());
        assertThat(joined.members()).hasSize(1);
        assertThat(joined.protocolName()).isEqualTo("range");
        assertThat(coordinator.state("g")).isEqualTo(GroupState.COMPLETING_REBALANCE);

        byte[] assignment = {7, 7};
        SyncGroupResponseData synced = sync("g", joined.memberId(), 1, assignment);
        assertThat(synced.errorCode()).isZero();
        assertThat(synced.assignment()).isEqualTo(assignment);
        assertThat(coordinator.state("g")).isEqualTo(GroupState.STABLE);

        assertThat(heartbeat("g", joined.memberId(), 1)).isEqualTo(Errors.NONE);
        assertThat(heartbeat("g", joined.memberId(), 0)).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(heartbeat("g", "nobody", 1)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(heartbeat("nogroup", "nobody", 1)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(Errors.forCode(sync("g", joined.memberId(), 2, null).errorCode())).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(Errors.forCode(sync("g", "nobody", 1, null).errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

        // A second member joining starts a rebalance: the first one's heartbeat says so.
        CompletableFuture<JoinGroupResponseData> second = coordinator.joinGroup(join("g", "", null, "range"), (short) 3,
                "other", "/127.0.0.1");
        assertThat(heartbeat("g", joined.memberId(), 1)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(second).isNotDone();
        JoinGroupResponseData rejoined = joined(join("g", joined.memberId(), null, "range"));
        assertThat(rejoined.generationId()).isEqualTo(2);
        assertThat(rejoined.members()).hasSize(2);
        assertThat(second.get(10, TimeUnit.SECONDS).generationId()).isEqualTo(2);
    }

    @Test
    void aNewMemberWhoseJoinNeverCompletesIsRemovedAfterTheNewMemberJoinTimeout() throws Exception {
        coordinator.close();
        // Kafka's 5 minutes, shortened: the rule is what is tested, not the constant
        coordinator = newCoordinator(new GroupConfig(1000, 60_000, 0, 3, 10, 60_000, 600_000, 300));
        JoinGroupResponseData joined = joinAlone("n");
        assertThat(sync("n", joined.memberId(), 1, new byte[]{1}).errorCode()).isZero();

        // The new member's join waits for the first member to rejoin (up to its 5 s rebalance timeout); the
        // new member cannot heartbeat meanwhile, so after the join timeout it is removed and told so.
        long started = System.nanoTime();
        CompletableFuture<JoinGroupResponseData> newcomer = coordinator.joinGroup(join("n", "", null, "range"),
                (short) 3, "newcomer", "/127.0.0.1");
        JoinGroupResponseData dropped = newcomer.get(4, TimeUnit.SECONDS);
        assertThat(Errors.forCode(dropped.errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));

        // the member that rejoins completes the rebalance alone
        JoinGroupResponseData rejoined = joined(join("n", joined.memberId(), null, "range"));
        assertThat(rejoined.errorCode()).isZero();
        assertThat(rejoined.members()).hasSize(1);
    }

    @Test
    void joinValidation() throws Exception {
        JoinGroupRequestData badSession = join("v", "", null, "range").setSessionTimeoutMs(100);
        assertThat(Errors.forCode(joined(badSession).errorCode())).isEqualTo(Errors.INVALID_SESSION_TIMEOUT);
        assertThat(Errors.forCode(joined(join("v", "unknown", null, "range")).errorCode()))
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        joinAlone("v");
        assertThat(Errors.forCode(joined(join("v", "", null, "roundrobin")).errorCode()))
                .isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        JoinGroupRequestData otherType = join("v", "", null, "range").setProtocolType("connect");
        assertThat(Errors.forCode(joined(otherType).errorCode())).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
    }

    @Test
    void groupMaxSizeRefusesNewMembers() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(Errors.forCode(joined(join("full", "", null, "range")).errorCode()))
                    .isEqualTo(Errors.MEMBER_ID_REQUIRED);
        }
        assertThat(Errors.forCode(joined(join("full", "", null, "range")).errorCode()))
                .isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
    }

    @Test
    void staticMembersAreFencedByInstanceId() throws Exception {
        JoinGroupResponseData a = joined(join("s", "", "instance-1", "range"));
        assertThat(a.errorCode()).isZero();
        sync("s", a.memberId(), a.generationId(), new byte[]{1});
        // The same instance restarted: new member id, same assignment, no new generation.
        JoinGroupResponseData again = joined(join("s", "", "instance-1", "range"));
        assertThat(again.errorCode()).isZero();
        assertThat(again.memberId()).isNotEqualTo(a.memberId());
        assertThat(again.generationId()).isEqualTo(a.generationId());
        assertThat(again.skipAssignment()).isTrue();
        assertThat(sync("s", again.memberId(), again.generationId(), null).assignment()).containsExactly(1);
        // The old incarnation is fenced.
        HeartbeatRequestData old = new HeartbeatRequestData().setGroupId("s").setMemberId(a.memberId())
                .setGroupInstanceId("instance-1").setGenerationId(a.generationId());
        assertThat(Errors.forCode(coordinator.heartbeat(old, (short) 4).errorCode())).isEqualTo(Errors.FENCED_INSTANCE_ID);
        LeaveGroupResponseData left = coordinator.leaveGroup(new LeaveGroupRequestData().setGroupId("s").setMembers(List.of(
                new MemberIdentity().setMemberId(a.memberId()).setGroupInstanceId("instance-1"),
                new MemberIdentity().setMemberId("").setGroupInstanceId("instance-2"),
                new MemberIdentity().setMemberId(again.memberId()).setGroupInstanceId("instance-1"))), (short) 5).join();
        assertThat(left.members()).extracting(m -> Errors.forCode(m.errorCode()))
                .containsExactly(Errors.FENCED_INSTANCE_ID, Errors.UNKNOWN_MEMBER_ID, Errors.NONE);
        assertThat(coordinator.state("s")).isEqualTo(GroupState.EMPTY);
    }

    @Test
    void sessionExpiryRemovesTheMember() throws Exception {
        coordinator.close();
        coordinator = newCoordinator(new GroupConfig(100, 60_000, 0, 10, 4096, 60_000, 600_000));
        JoinGroupResponseData first = joined(join("e", "", null, "range").setSessionTimeoutMs(300));
        JoinGroupResponseData joined = joined(join("e", first.memberId(), null, "range").setSessionTimeoutMs(300));
        sync("e", joined.memberId(), joined.generationId(), new byte[0]);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> coordinator.state("e") == GroupState.EMPTY);
        assertThat(heartbeat("e", joined.memberId(), joined.generationId())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void commitsAreValidatedAndReplayedFromTheLog() throws Exception {
        assertThat(partitionError(coordinator.commitOffsets(commit("c", -1, "", 5, "x"), (short) 9).join())).isEqualTo(Errors.NONE);
        assertThat(partitionError(coordinator.commitOffsets(commit("c", -1, "", 6, "far too long metadata"), (short) 9).join()))
                .isEqualTo(Errors.OFFSET_METADATA_TOO_LARGE);
        assertThat(partitionError(coordinator.commitOffsets(commit("nogroup", 3, "m", 1, ""), (short) 9).join()))
                .isEqualTo(Errors.GROUP_ID_NOT_FOUND);
        assertThat(partitionError(coordinator.commitOffsets(commit("nogroup", 3, "m", 1, ""), (short) 8).join()))
                .isEqualTo(Errors.ILLEGAL_GENERATION);

        JoinGroupResponseData member = joinAlone("c");
        assertThat(partitionError(coordinator.commitOffsets(commit("c", 1, member.memberId(), 7, ""), (short) 9).join()))
                .isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        sync("c", member.memberId(), 1, new byte[0]);
        assertThat(partitionError(coordinator.commitOffsets(commit("c", 0, member.memberId(), 7, ""), (short) 9).join()))
                .isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(partitionError(coordinator.commitOffsets(commit("c", -1, "", 7, ""), (short) 9).join()))
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(partitionError(coordinator.commitOffsets(commit("c", 1, member.memberId(), 8, "meta"), (short) 9).join()))
                .isEqualTo(Errors.NONE);

        assertThat(coordinator.deleteGroup("c").errorCode()).isEqualTo(Errors.NON_EMPTY_GROUP.code());
        assertThat(coordinator.deleteGroup("nogroup").errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());
        OffsetDeleteRequestData deleteOffsets = new OffsetDeleteRequestData().setGroupId("c");
        deleteOffsets.topics().add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("t")
                .setPartitions(List.of(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))));
        // The member's subscription metadata is not a consumer-protocol subscription, so nothing counts as subscribed.
        assertThat(coordinator.deleteOffsets(deleteOffsets).errorCode()).isZero();

        assertThat(partitionError(coordinator.commitOffsets(commit("c", 1, member.memberId(), 9, "meta"), (short) 9).join()))
                .isEqualTo(Errors.NONE);
        GroupCoordinator reloaded = newCoordinator(new GroupConfig(1000, 60_000, 0, 3, 10, 60_000, 600_000));
        try {
            CommittedOffset offset = reloaded.committedOffsets("c", null).get(new TopicPartition("t", 0));
            assertThat(offset.offset()).isEqualTo(9L);
            assertThat(offset.metadata()).isEqualTo("meta");
            assertThat(reloaded.state("c")).isEqualTo(GroupState.STABLE);
        } finally {
            reloaded.close();
        }
    }

    @Test
    void offsetsOfAnEmptyGroupExpireAndTheGroupGoes() throws Exception {
        coordinator.close();
        coordinator = newCoordinator(new GroupConfig(1000, 60_000, 0, 10, 4096, 200, 50));
        coordinator.commitOffsets(commit("old", -1, "", 5, ""), (short) 9).join();
        assertThat(coordinator.state("old")).isEqualTo(GroupState.EMPTY);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> coordinator.state("old") == GroupState.DEAD);
        assertThat(coordinator.committedOffsets("old", null)).isEmpty();
        // Tombstones for the offset and the group went to the log.
        List<CoordinatorRecord> records = log.partitions.get(coordinator.partitionFor("old"));
        assertThat(records.subList(records.size() - 2, records.size())).allMatch(r -> r.value() == null);
    }

    @Test
    void aCommitIsAnsweredAndVisibleOnlyOnceReplicatedAndFailsWhenReplicationDoes() {
        log.replication = new CompletableFuture<>();
        CompletableFuture<OffsetCommitResponseData> pending = coordinator.commitOffsets(commit("r", -1, "", 5, ""), (short) 9);
        assertThat(pending).isNotDone();
        assertThat(coordinator.committedOffsets("r", null)).isEmpty();
        log.replication.complete(null);
        assertThat(partitionError(pending.join())).isEqualTo(Errors.NONE);
        assertThat(coordinator.committedOffsets("r", null).get(new TopicPartition("t", 0)).offset()).isEqualTo(5L);

        log.replication = CompletableFuture.failedFuture(Errors.NOT_ENOUGH_REPLICAS.exception());
        assertThat(partitionError(coordinator.commitOffsets(commit("r", -1, "", 6, ""), (short) 9).join()))
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        log.replication = CompletableFuture.failedFuture(Errors.NOT_LEADER_OR_FOLLOWER.exception());
        assertThat(partitionError(coordinator.commitOffsets(commit("r", -1, "", 7, ""), (short) 9).join()))
                .isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(coordinator.committedOffsets("r", null).get(new TopicPartition("t", 0)).offset()).isEqualTo(5L);
    }

    @Test
    void groupsFollowTheLeadershipOfTheirOffsetsPartition() throws Exception {
        int partition = coordinator.partitionFor("moving");
        coordinator.commitOffsets(commit("moving", -1, "", 42, ""), (short) 9).join();
        JoinGroupResponseData first = coordinator.joinGroup(join("moving", "", null, "range"), V, "client", "/127.0.0.1")
                .get(10, TimeUnit.SECONDS);
        CompletableFuture<JoinGroupResponseData> parked = coordinator.joinGroup(
                join("moving", first.memberId(), null, "range").setRebalanceTimeoutMs(60_000), V, "client", "/127.0.0.1");
        assertThat(coordinator.coordinatorError("moving")).isEqualTo(Errors.NONE);

        log.notLed.add(partition);
        coordinator.onResignation(partition);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> coordinator.coordinatorError("moving") == Errors.NOT_COORDINATOR);
        assertThat(coordinator.committedOffsets("moving", null)).isEmpty();
        if (parked.isDone()) {
            // the join may have completed before the resignation; otherwise it is told to look again
            assertThat(parked.get().errorCode()).isIn(Errors.NONE.code(), Errors.NOT_COORDINATOR.code());
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(parked::isDone);
        // other partitions are still coordinated here
        String other = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "g" + i)
                .filter(g -> coordinator.partitionFor(g) != partition).findFirst().orElseThrow();
        assertThat(coordinator.coordinatorError(other)).isEqualTo(Errors.NONE);

        log.notLed.remove(partition);
        coordinator.onElection(partition);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> coordinator.coordinatorError("moving") == Errors.NONE);
        assertThat(coordinator.committedOffsets("moving", null).get(new TopicPartition("t", 0)).offset()).isEqualTo(42L);
    }
}
