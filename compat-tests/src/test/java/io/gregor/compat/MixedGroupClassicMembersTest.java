package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupResult;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Classic members inside a consumer-protocol group (Kafka's mixed groups), as Kafka's group coordinator treats
 * them: a classic member that joined but never syncs, or was told to rejoin and never does, is fenced after its
 * rebalance timeout (raw JoinGroup/SyncGroup/Heartbeat, as a stock consumer never stalls on purpose); a static
 * classic consumer restarted with the same group.instance.id takes its predecessor's place and partitions without
 * a rebalance and the predecessor is fenced (FENCED_INSTANCE_ID), and one replacing the last consumer-protocol
 * member turns the group back into a classic group; Admin's removeMembersFromConsumerGroup removes
 * several members in one step (one group epoch bump) and answers UNKNOWN_MEMBER_ID for an unknown instance id.
 */
class MixedGroupClassicMembersTest {
    private static final String TOPIC = "mixed-classic";
    private static final String OTHER_TOPIC = "mixed-classic-other";
    private static final int PARTITIONS = 4;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final short JOIN_VERSION = 9;
    private static final short SYNC_VERSION = 5;
    private static final short HEARTBEAT_VERSION = 4;
    private static final int REBALANCE_TIMEOUT_MS = 1500;
    private static final int SESSION_TIMEOUT_MS = 10_000;

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(overrides());

    private static Map<String, String> overrides() {
        Map<String, String> o = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        o.put("group.consumer.heartbeat.interval.ms", "500");
        o.put("group.consumer.min.heartbeat.interval.ms", "500");
        return o;
    }

    @BeforeAll
    static void createTopics() throws Exception {
        GroupTestSupport.createTopic(BROKER.bootstrapServers(), TOPIC, PARTITIONS);
        GroupTestSupport.createTopic(BROKER.bootstrapServers(), OTHER_TOPIC, 1);
        try (Admin admin = GroupTestSupport.admin(BROKER.bootstrapServers())) {
            // FindCoordinator makes __consumer_offsets exist and be led here before the raw requests
            admin.listConsumerGroupOffsets("mixed-classic-warmup").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        }
    }

    // ================================================================== join and sync timeouts

    @Test
    void aClassicMemberThatJoinsButNeverSyncsIsFencedAfterItsRebalanceTimeout() throws Exception {
        String group = "mixed-sync-timeout";
        consumerProtocolJoin(group); // the group is a consumer group: the raw classic member below joins it
        JoinGroupResponseData joined = classicJoin(group);
        long joinedAt = System.nanoTime();
        // it heartbeats (its session stays alive) but never sends SyncGroup
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            Errors error = classicHeartbeat(group, joined.memberId(), joined.generationId());
            assertThat(error).isIn(Errors.NONE, Errors.UNKNOWN_MEMBER_ID);
            assertThat(error).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        });
        assertThat(Duration.ofNanos(System.nanoTime() - joinedAt))
                .isGreaterThanOrEqualTo(Duration.ofMillis(REBALANCE_TIMEOUT_MS - 100))
                .isLessThan(Duration.ofMillis(SESSION_TIMEOUT_MS));
        assertThat(memberIds(describe(group))).doesNotContain(joined.memberId()).hasSize(1);
    }

    @Test
    void aClassicMemberToldToRejoinThatNeverDoesIsFencedAfterItsRebalanceTimeout() throws Exception {
        String group = "mixed-join-timeout";
        consumerProtocolJoin(group);
        JoinGroupResponseData joined = classicJoin(group);
        SyncGroupResponseData synced = classicSync(group, joined);
        assertThat(synced.errorCode()).isEqualTo(Errors.NONE.code());
        // synced: the sync timeout is over, the member stays as long as it heartbeats
        await().during(Duration.ofMillis(REBALANCE_TIMEOUT_MS + 500)).atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> classicHeartbeat(group, joined.memberId(), joined.generationId()) == Errors.NONE);

        consumerProtocolJoin(group); // a new member: the group epoch moves on and the classic member must rejoin
        long[] toldAt = {0};
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            Errors error = classicHeartbeat(group, joined.memberId(), joined.generationId());
            if (error == Errors.REBALANCE_IN_PROGRESS && toldAt[0] == 0) {
                toldAt[0] = System.nanoTime();
            }
            assertThat(error).isIn(Errors.REBALANCE_IN_PROGRESS, Errors.UNKNOWN_MEMBER_ID);
            assertThat(error).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        });
        assertThat(toldAt[0]).as("told to rejoin first").isNotZero();
        assertThat(Duration.ofNanos(System.nanoTime() - toldAt[0]))
                .isGreaterThanOrEqualTo(Duration.ofMillis(REBALANCE_TIMEOUT_MS - 300))
                .isLessThan(Duration.ofMillis(SESSION_TIMEOUT_MS));
        assertThat(memberIds(describe(group))).doesNotContain(joined.memberId()).hasSize(2);
    }

    @Test
    void theSyncGroupAnswerEchoesTheRequestsProtocolTypeAndName() throws Exception {
        String group = "mixed-sync-echo";
        consumerProtocolJoin(group);
        JoinGroupResponseData joined = classicJoin(group);
        // SyncGroup v5 may leave both out (nullable): Kafka's classicGroupSyncToConsumerGroup answers what was sent
        SyncGroupResponseData bare = classicSync(group, joined, null, null);
        assertThat(bare.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(bare.protocolType()).isNull();
        assertThat(bare.protocolName()).isNull();
        assertThat(bare.assignment()).isNotEmpty();

        SyncGroupResponseData full = classicSync(group, joined);
        assertThat(full.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(full.protocolType()).isEqualTo(ConsumerProtocol.PROTOCOL_TYPE);
        assertThat(full.protocolName()).isEqualTo("range").isEqualTo(joined.protocolName());
    }

    // ================================================================== static classic members

    @Test
    void aRestartedStaticClassicMemberTakesThePlaceOfTheOldOneWithoutARebalanceAndFencesIt() throws Exception {
        String group = "mixed-static";
        String bootstrap = BROKER.bootstrapServers();
        try (ConsumerProtocolMember modern = ConsumerProtocolMember.subscribed(
                GroupTestSupport.consumerProps(bootstrap, group), List.of(TOPIC), "modern")) {
            // a consumer group first, which the classic member then joins
            await().atMost(TIMEOUT).until(() -> modern.assignment().size() == PARTITIONS);
            try (PollingConsumer first = staticClassicMember(group, "static-1", "first")) {
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(modern.assignment(), first.assignment()));
                ConsumerGroupDescription before = describe(group);
                assertThat(before.type()).isEqualTo(GroupType.CONSUMER);
                String firstId = staticMemberId(before, "static-1");
                Set<TopicPartition> firstPartitions = first.assignment();

                // the same instance id again (the first one still runs): it takes the place and the partitions
                try (PollingConsumer second = staticClassicMember(group, "static-1", "second")) {
                    await().atMost(TIMEOUT).untilAsserted(() -> {
                        assertThat(second.assignment()).isEqualTo(firstPartitions);
                        ConsumerGroupDescription after = describe(group);
                        assertThat(staticMemberId(after, "static-1")).isNotEqualTo(firstId);
                        assertThat(after.members()).hasSize(2);
                        // no rebalance: the group epoch did not move, the other member kept its partitions
                        assertThat(after.groupEpoch()).isEqualTo(before.groupEpoch());
                    });
                    assertThat(modern.assignment()).hasSize(PARTITIONS - firstPartitions.size());
                    // the old incarnation's next heartbeat is answered FENCED_INSTANCE_ID: its poll throws
                    await().atMost(TIMEOUT).until(() -> first.failure() != null);
                    assertThat(first.failure()).isInstanceOf(FencedInstanceIdException.class);
                    assertThat(second.failure()).isNull();
                }
            }
        }
    }

    @Test
    void aStaticConsumerProtocolMemberRestartedAsAClassicOneDowngradesTheGroupWhenOnlyClassicMembersRemain() throws Exception {
        String group = "mixed-static-downgrade";
        String bootstrap = BROKER.bootstrapServers();
        Properties props = GroupTestSupport.consumerProps(bootstrap, group);
        props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "downgrade-1");
        try (PollingConsumer other = startAfter(ConsumerProtocolMember.subscribed(props, List.of(TOPIC), "modern"),
                group, "downgrade-other")) {
            // the consumer-protocol static member left for a restart (epoch -2) and comes back as a classic consumer
            try (PollingConsumer restarted = staticClassicMember(group, "downgrade-1", "restarted")) {
                await().atMost(TIMEOUT).untilAsserted(() -> {
                    ConsumerGroupDescription d = describe(group);
                    assertThat(d.type()).isEqualTo(GroupType.CLASSIC);
                    assertThat(d.members()).hasSize(2);
                    assertSharedOnce(other.assignment(), restarted.assignment());
                });
            }
        }
    }

    /** A classic static member joining the consumer group {@code modern} forms, once {@code modern} has left. */
    private static PollingConsumer startAfter(ConsumerProtocolMember modern, String group, String instanceId)
            throws Exception {
        try (modern) {
            await().atMost(TIMEOUT).until(() -> modern.assignment().size() == PARTITIONS);
            PollingConsumer member = staticClassicMember(group, instanceId, instanceId);
            try {
                await().atMost(TIMEOUT).untilAsserted(() -> assertSharedOnce(modern.assignment(), member.assignment()));
            } catch (RuntimeException | Error e) {
                member.close();
                throw e;
            }
            return member;
        }
    }

    @Test
    void removingSeveralMembersBumpsTheGroupEpochOnceAndAnUnknownInstanceIsRefused() throws Exception {
        String group = "mixed-batch-leave";
        String bootstrap = BROKER.bootstrapServers();
        try (ConsumerProtocolMember modern = ConsumerProtocolMember.subscribed(
                GroupTestSupport.consumerProps(bootstrap, group), List.of(TOPIC), "modern")) {
            await().atMost(TIMEOUT).until(() -> modern.assignment().size() == PARTITIONS);
            try (PollingConsumer a = staticClassicMember(group, "batch-a", "a");
                 PollingConsumer b = staticClassicMember(group, "batch-b", "b")) {
                await().atMost(TIMEOUT).untilAsserted(() ->
                        assertSharedOnce(modern.assignment(), a.assignment(), b.assignment()));
            }
            // closed static classic members send no LeaveGroup: they stay members until removed
            ConsumerGroupDescription before = describe(group);
            assertThat(before.members()).hasSize(3);
            try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                MemberToRemove unknown = new MemberToRemove("batch-unknown");
                RemoveMembersFromConsumerGroupResult result = admin.removeMembersFromConsumerGroup(group,
                        new RemoveMembersFromConsumerGroupOptions(Set.of(new MemberToRemove("batch-a"),
                                new MemberToRemove("batch-b"), unknown)));
                result.memberResult(new MemberToRemove("batch-a")).get(30, TimeUnit.SECONDS);
                result.memberResult(new MemberToRemove("batch-b")).get(30, TimeUnit.SECONDS);
                assertThatThrownBy(() -> result.memberResult(unknown).get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(UnknownMemberIdException.class);
            }
            ConsumerGroupDescription after = describe(group);
            assertThat(after.members()).hasSize(1);
            assertThat(after.groupEpoch().orElseThrow()).isEqualTo(before.groupEpoch().orElseThrow() + 1);
            // and the consumer-protocol member gets the partitions they held
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(modern.assignment()).hasSize(PARTITIONS));
        }
    }

    // ================================================================== helpers

    /** Every member has partitions, and together they own each partition of the topic exactly once. */
    @SafeVarargs
    private static void assertSharedOnce(Set<TopicPartition>... assignments) {
        Set<TopicPartition> all = new HashSet<>();
        int count = 0;
        for (Set<TopicPartition> mine : assignments) {
            assertThat(mine).isNotEmpty();
            all.addAll(mine);
            count += mine.size();
        }
        assertThat(all).hasSize(PARTITIONS);
        assertThat(count).as("no partition owned twice").isEqualTo(PARTITIONS);
    }

    private static ConsumerGroupDescription describe(String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(BROKER.bootstrapServers())) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        }
    }

    private static Set<String> memberIds(ConsumerGroupDescription d) {
        Set<String> ids = new HashSet<>();
        for (MemberDescription m : d.members()) {
            ids.add(m.consumerId());
        }
        return ids;
    }

    private static String staticMemberId(ConsumerGroupDescription d, String instanceId) {
        return d.members().stream().filter(m -> m.groupInstanceId().filter(instanceId::equals).isPresent())
                .map(MemberDescription::consumerId).findFirst().orElseThrow();
    }

    /** A raw consumer-protocol member of {@code group} on the other topic; it never heartbeats again. */
    private static void consumerProtocolJoin(String group) throws Exception {
        try (RawKafkaConnection raw = connect()) {
            ConsumerGroupHeartbeatResponseData r = raw.roundTrip(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                    new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(Uuid.randomUuid().toString())
                            .setMemberEpoch(0).setRebalanceTimeoutMs(60_000).setSubscribedTopicNames(List.of(OTHER_TOPIC))
                            .setTopicPartitions(List.of()),
                    ConsumerGroupHeartbeatResponseData::new);
            assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
        }
    }

    /** A dynamic classic member's JoinGroup (v4+: first MEMBER_ID_REQUIRED, then the join with that id). */
    private static JoinGroupResponseData classicJoin(String group) throws Exception {
        byte[] subscription = Utils.toArray(ConsumerProtocol.serializeSubscription(
                new ConsumerPartitionAssignor.Subscription(List.of(TOPIC))));
        JoinGroupRequestData request = new JoinGroupRequestData().setGroupId(group).setMemberId("")
                .setProtocolType(ConsumerProtocol.PROTOCOL_TYPE).setSessionTimeoutMs(SESSION_TIMEOUT_MS)
                .setRebalanceTimeoutMs(REBALANCE_TIMEOUT_MS);
        request.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(subscription));
        try (RawKafkaConnection raw = connect()) {
            JoinGroupResponseData first = raw.roundTrip(ApiKeys.JOIN_GROUP, JOIN_VERSION, request, JoinGroupResponseData::new);
            assertThat(first.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
            JoinGroupResponseData joined = raw.roundTrip(ApiKeys.JOIN_GROUP, JOIN_VERSION,
                    request.duplicate().setMemberId(first.memberId()), JoinGroupResponseData::new);
            assertThat(joined.errorCode()).isEqualTo(Errors.NONE.code());
            return joined;
        }
    }

    private static SyncGroupResponseData classicSync(String group, JoinGroupResponseData joined) throws Exception {
        return classicSync(group, joined, ConsumerProtocol.PROTOCOL_TYPE, joined.protocolName());
    }

    private static SyncGroupResponseData classicSync(String group, JoinGroupResponseData joined, String protocolType,
                                                     String protocolName) throws Exception {
        try (RawKafkaConnection raw = connect()) {
            return raw.roundTrip(ApiKeys.SYNC_GROUP, SYNC_VERSION, new SyncGroupRequestData().setGroupId(group)
                    .setMemberId(joined.memberId()).setGenerationId(joined.generationId())
                    .setProtocolType(protocolType).setProtocolName(protocolName),
                    SyncGroupResponseData::new);
        }
    }

    private static Errors classicHeartbeat(String group, String memberId, int generation) throws Exception {
        try (RawKafkaConnection raw = connect()) {
            HeartbeatResponseData r = raw.roundTrip(ApiKeys.HEARTBEAT, HEARTBEAT_VERSION, new HeartbeatRequestData()
                    .setGroupId(group).setMemberId(memberId).setGenerationId(generation), HeartbeatResponseData::new);
            return Errors.forCode(r.errorCode());
        }
    }

    private static RawKafkaConnection connect() {
        return new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(10));
    }

    /** A stock classic-protocol KafkaConsumer with a group.instance.id, polling the topic on its own thread. */
    private static PollingConsumer staticClassicMember(String group, String instanceId, String name) {
        Properties props = GroupTestSupport.consumerProps(BROKER.bootstrapServers(), group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, group + "-" + name);
        // long enough that a closed static member stays in the group for the test
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        return new PollingConsumer(props, TOPIC, name);
    }
}
