package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ConsumerGroupHeartbeat's rules as Kafka applies them, driven step by step by a raw client (a stock consumer
 * never sends a wrong epoch on purpose): a partition reaches its new owner only after the old one revoked it,
 * epochs from the past or the future are fenced, an unknown assignor and an invalid regex are refused, and
 * OffsetCommit checks the member epoch.
 */
class ConsumerGroupHeartbeatRulesTest {
    private static final short HEARTBEAT_VERSION = 1;
    private static final String TOPIC = "kip848-rules";

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(GroupTestSupport.BROKER_OVERRIDES);

    private static Uuid topicId;

    @BeforeAll
    static void createTopic() throws Exception {
        GroupTestSupport.createTopic(BROKER.bootstrapServers(), TOPIC, 4);
        try (Admin admin = GroupTestSupport.admin(BROKER.bootstrapServers())) {
            topicId = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS).get(TOPIC).topicId();
            // FindCoordinator makes __consumer_offsets exist and be led here before the raw requests
            admin.listConsumerGroupOffsets("kip848-warmup").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        }
    }

    private static RawKafkaConnection connect() {
        return new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(10));
    }

    private static ConsumerGroupHeartbeatResponseData heartbeat(RawKafkaConnection raw,
                                                                ConsumerGroupHeartbeatRequestData request) throws Exception {
        return raw.roundTrip(ApiKeys.CONSUMER_GROUP_HEARTBEAT, HEARTBEAT_VERSION, request,
                ConsumerGroupHeartbeatResponseData::new);
    }

    private static ConsumerGroupHeartbeatRequestData join(String group, String memberId) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(memberId).setMemberEpoch(0)
                .setRebalanceTimeoutMs(60_000).setSubscribedTopicNames(List.of(TOPIC)).setTopicPartitions(List.of());
    }

    private static ConsumerGroupHeartbeatRequestData beat(String group, String memberId, int epoch, List<Integer> owned) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(memberId).setMemberEpoch(epoch)
                .setTopicPartitions(owned == null ? null : List.of(
                        new ConsumerGroupHeartbeatRequestData.TopicPartitions().setTopicId(topicId).setPartitions(owned)));
    }

    private static List<Integer> assigned(ConsumerGroupHeartbeatResponseData response) {
        assertThat(response.assignment()).as("assignment in %s", response).isNotNull();
        List<Integer> out = new ArrayList<>();
        response.assignment().topicPartitions().forEach(tp -> {
            assertThat(tp.topicId()).isEqualTo(topicId);
            out.addAll(tp.partitions());
        });
        return List.copyOf(new TreeSet<>(out));
    }

    @Test
    void partitionsMoveOnlyAfterRevocationAndEpochsAreFenced() throws Exception {
        String group = "kip848-rules-group";
        String a = Uuid.randomUuid().toString();
        String b = Uuid.randomUuid().toString();
        try (RawKafkaConnection raw = connect()) {
            ConsumerGroupHeartbeatResponseData joinedA = heartbeat(raw, join(group, a));
            assertThat(joinedA.errorCode()).as(joinedA.toString()).isEqualTo(Errors.NONE.code());
            assertThat(joinedA.memberEpoch()).isEqualTo(1);
            assertThat(joinedA.heartbeatIntervalMs()).isEqualTo(5000);
            assertThat(assigned(joinedA)).containsExactly(0, 1, 2, 3);

            // b joins: the target splits the partitions, but a still owns them all, so b gets none yet
            ConsumerGroupHeartbeatResponseData joinedB = heartbeat(raw, join(group, b));
            assertThat(joinedB.memberEpoch()).isEqualTo(2);
            assertThat(assigned(joinedB)).isEmpty();

            // a is asked to revoke two partitions and stays at epoch 1 until it has
            ConsumerGroupHeartbeatResponseData revoking = heartbeat(raw, beat(group, a, 1, List.of(0, 1, 2, 3)));
            assertThat(revoking.memberEpoch()).isEqualTo(1);
            List<Integer> aKeeps = assigned(revoking);
            assertThat(aKeeps).hasSize(2);
            List<Integer> bGets = new ArrayList<>(List.of(0, 1, 2, 3));
            bGets.removeAll(aKeeps);
            ConsumerGroupHeartbeatResponseData bWaits = heartbeat(raw, beat(group, b, 2, List.of()));
            assertThat(bWaits.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(bWaits.assignment() == null ? List.of() : assigned(bWaits)).isEmpty();

            // a reports the revocation: it moves to epoch 2, and only now b gets the two partitions
            ConsumerGroupHeartbeatResponseData revoked = heartbeat(raw, beat(group, a, 1, aKeeps));
            assertThat(revoked.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(revoked.memberEpoch()).isEqualTo(2);
            ConsumerGroupHeartbeatResponseData bAssigned = heartbeat(raw, beat(group, b, 2, List.of()));
            assertThat(assigned(bAssigned)).isEqualTo(bGets);

            // epochs: a's previous epoch with a subset of its partitions is a lost response and accepted;
            // an epoch from the future, or a past one that is not the previous, is fenced
            assertThat(heartbeat(raw, beat(group, a, 1, aKeeps)).errorCode()).isEqualTo(Errors.NONE.code());
            ConsumerGroupHeartbeatResponseData future = heartbeat(raw, beat(group, a, 7, aKeeps));
            assertThat(future.errorCode()).isEqualTo(Errors.FENCED_MEMBER_EPOCH.code());
            assertThat(future.errorMessage()).contains("greater member epoch");
            ConsumerGroupHeartbeatResponseData past = heartbeat(raw, beat(group, b, 1, bGets));
            assertThat(past.errorCode()).isEqualTo(Errors.FENCED_MEMBER_EPOCH.code());
            assertThat(heartbeat(raw, beat(group, Uuid.randomUuid().toString(), 2, null)).errorCode())
                    .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());

            // OffsetCommit v9 carries the member epoch: an old one is STALE_MEMBER_EPOCH, the current one commits
            assertThat(commit(raw, group, b, 1)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
            assertThat(commit(raw, group, b, 2)).isEqualTo(Errors.NONE);

            ConsumerGroupDescribeResponseData described = raw.roundTrip(ApiKeys.CONSUMER_GROUP_DESCRIBE, (short) 1,
                    new ConsumerGroupDescribeRequestData().setGroupIds(List.of(group, "kip848-no-such-group")),
                    ConsumerGroupDescribeResponseData::new);
            ConsumerGroupDescribeResponseData.DescribedGroup g = described.groups().get(0);
            assertThat(g.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(g.groupState()).isEqualTo("Stable");
            assertThat(g.groupEpoch()).isEqualTo(2);
            assertThat(g.assignorName()).isEqualTo("uniform");
            Map<String, Integer> epochs = new HashMap<>();
            g.members().forEach(m -> epochs.put(m.memberId(), m.memberEpoch()));
            assertThat(epochs).isEqualTo(Map.of(a, 2, b, 2));
            assertThat(described.groups().get(1).errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());

            // b leaves (epoch -1): the group epoch moves on and a gets everything back at epoch 3
            ConsumerGroupHeartbeatResponseData left = heartbeat(raw, beat(group, b, -1, null));
            assertThat(left.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(left.memberEpoch()).isEqualTo(-1);
            ConsumerGroupHeartbeatResponseData alone = heartbeat(raw, beat(group, a, 2, aKeeps));
            assertThat(alone.memberEpoch()).isEqualTo(3);
            assertThat(assigned(alone)).containsExactly(0, 1, 2, 3);
        }
    }

    private static Errors commit(RawKafkaConnection raw, String group, String memberId, int epoch) throws Exception {
        OffsetCommitRequestData request = new OffsetCommitRequestData().setGroupId(group).setMemberId(memberId)
                .setGenerationIdOrMemberEpoch(epoch).setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic()
                        .setName(TOPIC).setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(0)))));
        OffsetCommitResponseData response = raw.roundTrip(ApiKeys.OFFSET_COMMIT, (short) 9, request,
                OffsetCommitResponseData::new);
        return Errors.forCode(response.topics().get(0).partitions().get(0).errorCode());
    }

    @Test
    void badRequestsGetKafkasErrors() throws Exception {
        String group = "kip848-bad-requests";
        try (RawKafkaConnection raw = connect()) {
            ConsumerGroupHeartbeatResponseData assignor = heartbeat(raw,
                    join(group, Uuid.randomUuid().toString()).setServerAssignor("no-such-assignor"));
            assertThat(assignor.errorCode()).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR.code());
            assertThat(assignor.errorMessage()).contains("no-such-assignor").contains("uniform, range");

            ConsumerGroupHeartbeatResponseData regex = heartbeat(raw, join(group, Uuid.randomUuid().toString())
                    .setSubscribedTopicNames(null).setSubscribedTopicRegex("kip848-[unclosed"));
            assertThat(regex.errorCode()).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION.code());

            ConsumerGroupHeartbeatResponseData noMemberId = heartbeat(raw, join(group, ""));
            assertThat(noMemberId.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
            ConsumerGroupHeartbeatResponseData badEpoch = heartbeat(raw, beat(group, "m", -3, null));
            assertThat(badEpoch.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
            ConsumerGroupHeartbeatResponseData ownedOnJoin = heartbeat(raw,
                    join(group, Uuid.randomUuid().toString()).setTopicPartitions(beat(group, "m", 0, List.of(0)).topicPartitions()));
            assertThat(ownedOnJoin.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
            // none of these created the group
            ConsumerGroupHeartbeatResponseData unknownGroup = heartbeat(raw, beat(group, "m", 3, null));
            assertThat(unknownGroup.errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());
        }
    }
}
