package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
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
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The consumer protocol's timers, seen by a raw client: a member that stops heartbeating is fenced after
 * group.consumer.session.timeout.ms, and one that keeps heartbeating but never revokes what it was asked to
 * give up is fenced after its rebalance timeout; either way the others get its partitions. A lowered
 * {@code consumer.session.timeout.ms} group config applies to a member from its next heartbeat, as in Kafka
 * (which re-arms a member's session timer with the group's current timeout on each heartbeat, and leaves the
 * timer armed before the change alone).
 */
class ConsumerGroupTimeoutsTest {
    private static final String TOPIC = "kip848-timeouts";

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(overrides());

    private static Uuid topicId;

    private static Map<String, String> overrides() {
        Map<String, String> o = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        o.put("group.consumer.min.session.timeout.ms", "1000");
        o.put("group.consumer.session.timeout.ms", "3000");
        o.put("group.consumer.min.heartbeat.interval.ms", "500");
        o.put("group.consumer.heartbeat.interval.ms", "500");
        return o;
    }

    @BeforeAll
    static void createTopic() throws Exception {
        GroupTestSupport.createTopic(BROKER.bootstrapServers(), TOPIC, 2);
        try (Admin admin = GroupTestSupport.admin(BROKER.bootstrapServers())) {
            topicId = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS).get(TOPIC).topicId();
            admin.listConsumerGroupOffsets("kip848-warmup").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        }
    }

    private static ConsumerGroupHeartbeatResponseData heartbeat(ConsumerGroupHeartbeatRequestData request) throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(10))) {
            return raw.roundTrip(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1, request, ConsumerGroupHeartbeatResponseData::new);
        }
    }

    private static ConsumerGroupHeartbeatRequestData join(String group, String memberId, int rebalanceTimeoutMs) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(memberId).setMemberEpoch(0)
                .setRebalanceTimeoutMs(rebalanceTimeoutMs).setSubscribedTopicNames(List.of(TOPIC))
                .setTopicPartitions(List.of());
    }

    private static ConsumerGroupHeartbeatRequestData beat(String group, String memberId, int epoch, List<Integer> owned) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(memberId).setMemberEpoch(epoch)
                .setTopicPartitions(List.of(new ConsumerGroupHeartbeatRequestData.TopicPartitions()
                        .setTopicId(topicId).setPartitions(owned)));
    }

    private static List<Integer> assigned(ConsumerGroupHeartbeatResponseData response) {
        List<Integer> out = new ArrayList<>();
        if (response.assignment() != null) {
            response.assignment().topicPartitions().forEach(tp -> out.addAll(tp.partitions()));
        }
        out.sort(null);
        return out;
    }

    @Test
    void aSilentMemberIsFencedAfterTheSessionTimeout() throws Exception {
        String group = "kip848-session";
        String a = Uuid.randomUuid().toString();
        String b = Uuid.randomUuid().toString();
        ConsumerGroupHeartbeatResponseData joinedA = heartbeat(join(group, a, 60_000));
        assertThat(joinedA.heartbeatIntervalMs()).isEqualTo(500);
        assertThat(assigned(joinedA)).containsExactly(0, 1);
        // a goes silent; b keeps heartbeating and gets both partitions once a's session has ended
        ConsumerGroupHeartbeatResponseData joinedB = heartbeat(join(group, b, 60_000));
        int[] epoch = {joinedB.memberEpoch()};
        List<Integer> owned = new ArrayList<>(assigned(joinedB));
        long started = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            ConsumerGroupHeartbeatResponseData r = heartbeat(beat(group, b, epoch[0], owned));
            assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
            epoch[0] = r.memberEpoch();
            if (r.assignment() != null) {
                owned.clear();
                owned.addAll(assigned(r));
            }
            assertThat(owned).containsExactly(0, 1);
        });
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(2000));
        assertThat(heartbeat(beat(group, a, joinedA.memberEpoch(), List.of(0, 1))).errorCode())
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }

    @Test
    void aMemberThatNeverRevokesIsFencedAfterItsRebalanceTimeout() throws Exception {
        String group = "kip848-revocation";
        String a = Uuid.randomUuid().toString();
        String b = Uuid.randomUuid().toString();
        ConsumerGroupHeartbeatResponseData joinedA = heartbeat(join(group, a, 1500));
        assertThat(assigned(joinedA)).containsExactly(0, 1);
        ConsumerGroupHeartbeatResponseData joinedB = heartbeat(join(group, b, 60_000));
        // a is asked to give up a partition but keeps reporting both: it stays alive, yet is fenced
        Errors[] aError = {Errors.NONE};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            aError[0] = Errors.forCode(heartbeat(beat(group, a, joinedA.memberEpoch(), List.of(0, 1))).errorCode());
            assertThat(aError[0]).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        });
        // and b gets both partitions
        ConsumerGroupHeartbeatResponseData bAfter = heartbeat(beat(group, b, joinedB.memberEpoch(), List.of()));
        assertThat(bAfter.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(assigned(bAfter)).containsExactly(0, 1);
    }

    @Test
    void aLoweredGroupSessionTimeoutAppliesToAMemberFromItsNextHeartbeat() throws Exception {
        String group = "kip848-lowered-session";
        String a = Uuid.randomUuid().toString();
        String b = Uuid.randomUuid().toString();
        heartbeat(join(group, a, 60_000)); // a's session timer: the broker's 3 s, and a stays silent from here
        long aLastHeartbeat = System.nanoTime();
        ConsumerGroupHeartbeatResponseData joinedB = heartbeat(join(group, b, 60_000));
        try (Admin admin = GroupTestSupport.admin(BROKER.bootstrapServers())) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), List.of(
                    new AlterConfigOp(new ConfigEntry("consumer.session.timeout.ms", "1000"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            // b heartbeats once after the change, then goes silent too: its session is now 1 s
            assertThat(heartbeat(beat(group, b, joinedB.memberEpoch(), assigned(joinedB))).errorCode())
                    .isEqualTo(Errors.NONE.code());
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> !members(admin, group).contains(b));
            // a, silent since before the change, still has the 3 s it was given: the new timeout waits for a heartbeat
            assertThat(members(admin, group)).containsExactly(a);
            assertThat(Duration.ofNanos(System.nanoTime() - aLastHeartbeat)).isGreaterThan(Duration.ofMillis(1000));
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> members(admin, group).isEmpty());
            assertThat(Duration.ofNanos(System.nanoTime() - aLastHeartbeat)).isGreaterThanOrEqualTo(Duration.ofMillis(2900));
        }
    }

    private static Set<String> members(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members().stream()
                .map(MemberDescription::consumerId).collect(Collectors.toSet());
    }
}
