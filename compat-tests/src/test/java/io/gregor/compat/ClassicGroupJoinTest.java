package io.gregor.compat;

import io.gregor.testkit.GregorCluster;
import io.gregor.testkit.TraceEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.GroupTestSupport.createTopic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Classic-protocol consumers that start together (group.initial.rebalance.delay.ms=0): however their joins
 * interleave with the first rebalance (a member alone in generation 1 is told REBALANCE_IN_PROGRESS on its
 * SyncGroup, or on its heartbeat once Stable, as in Kafka), they end up sharing the topic in one generation.
 */
class ClassicGroupJoinTest {
    private static Path dir;
    private static GregorCluster cluster;

    @BeforeAll
    static void start() {
        dir = TestDirs.newDataDir("classic-join");
        cluster = GregorCluster.builder().dataDir(dir).trace(true)
                .brokerProperty("group.initial.rebalance.delay.ms", "0").start();
    }

    @AfterAll
    static void stop() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            TestDirs.deleteRecursively(dir);
        }
    }

    /**
     * Two members of a new group whose JoinGroups (with their member ids) come a moment apart join its first generation
     * together, as on Kafka, where even a 0 ms group.initial.rebalance.delay.ms passes through the coordinator's timer
     * and event queue. Before, the first member's join completed alone at once and the second needed another rebalance.
     */
    @Test
    void joinsAMomentApartOnANewGroupFormItsFirstGenerationTogether() throws Exception {
        String topic = TestDirs.uniqueTopic("moment");
        short version = 9;
        JoinGroupRequestData request = joinRequest(topic);
        int port = cluster.broker(0).port();
        try (RawKafkaConnection a = new RawKafkaConnection(port, Duration.ofSeconds(20));
             RawKafkaConnection b = new RawKafkaConnection(port, Duration.ofSeconds(20))) {
            String idA = a.roundTrip(ApiKeys.JOIN_GROUP, version, request, JoinGroupResponseData::new).memberId();
            String idB = b.roundTrip(ApiKeys.JOIN_GROUP, version, request, JoinGroupResponseData::new).memberId();
            // a's join is parked by the broker while b's follows it without waiting for an answer
            int correlationA = a.send(ApiKeys.JOIN_GROUP, version, request.duplicate().setMemberId(idA));
            JoinGroupResponseData joinedB = b.roundTrip(ApiKeys.JOIN_GROUP, version,
                    request.duplicate().setMemberId(idB), JoinGroupResponseData::new);
            RawKafkaConnection.Response answerA = a.receive(ApiKeys.JOIN_GROUP.responseHeaderVersion(version));
            assertThat(answerA.correlationId()).isEqualTo(correlationA);
            JoinGroupResponseData joinedA = new JoinGroupResponseData(
                    new ByteBufferAccessor(answerA.body()), version);
            assertThat(joinedA.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(joinedB.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(joinedA.generationId()).isEqualTo(1);
            assertThat(joinedB.generationId()).isEqualTo(1);
            // whichever join the broker took first leads (the two connections race), and its answer lists both
            JoinGroupResponseData leader = joinedA.leader().equals(idA) ? joinedA : joinedB;
            assertThat(leader.leader()).isEqualTo(leader.memberId());
            assertThat(leader.members()).extracting(JoinGroupResponseData.JoinGroupResponseMember::memberId)
                    .containsExactlyInAnyOrder(idA, idB);
        }
    }

    /**
     * A new member's JoinGroup that is answered MEMBER_ID_REQUIRED keeps a 0 ms initial delay open as a join does:
     * the first generation waits a step after the last JoinGroup of a new member, so a member whose rejoin with its id
     * comes after the first step ended (counted from the first member's join) is still in it. Before, only rejoins
     * with an id extended the delay, in whole steps, and the first member completed its join alone. Several
     * connections ask for member ids at once so that the broker sees them without a step's gap even on a busy machine.
     */
    @Test
    void aMemberStillGettingItsIdWhenTheFirstStepEndsJoinsTheFirstGeneration() throws Exception {
        String topic = TestDirs.uniqueTopic("getting-id");
        short version = 9;
        JoinGroupRequestData request = joinRequest(topic);
        int port = cluster.broker(0).port();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch ready = new CountDownLatch(4);
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong until = new AtomicLong();
        List<RawKafkaConnection> askers = new ArrayList<>();
        List<Future<String>> lastIds = new ArrayList<>();
        try (RawKafkaConnection a = new RawKafkaConnection(port, Duration.ofSeconds(20))) {
            for (int i = 0; i < 4; i++) {
                RawKafkaConnection c = new RawKafkaConnection(port, Duration.ofSeconds(20));
                askers.add(c);
                lastIds.add(pool.submit(() -> {
                    String id = askForMemberId(c, version, request);
                    ready.countDown();
                    go.await();
                    do {
                        id = askForMemberId(c, version, request);
                    } while (System.nanoTime() < until.get());
                    return id;
                }));
            }
            String idA = a.roundTrip(ApiKeys.JOIN_GROUP, version, request, JoinGroupResponseData::new).memberId();
            assertThat(ready.await(20, TimeUnit.SECONDS)).isTrue();
            int correlationA = a.send(ApiKeys.JOIN_GROUP, version, request.duplicate().setMemberId(idA));
            // for three steps of the delay after a's join was sent, new members keep asking for their ids
            until.set(System.nanoTime() + Duration.ofMillis(3 * 20).toNanos());
            go.countDown();
            // b is the first of them to come back with its id
            String idB = lastIds.get(0).get(20, TimeUnit.SECONDS);
            JoinGroupResponseData joinedB = askers.get(0).roundTrip(ApiKeys.JOIN_GROUP, version,
                    request.duplicate().setMemberId(idB), JoinGroupResponseData::new);
            RawKafkaConnection.Response answerA = a.receive(ApiKeys.JOIN_GROUP.responseHeaderVersion(version));
            assertThat(answerA.correlationId()).isEqualTo(correlationA);
            JoinGroupResponseData joinedA = new JoinGroupResponseData(new ByteBufferAccessor(answerA.body()), version);
            assertThat(joinedA.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(joinedB.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(joinedA.generationId()).isEqualTo(1);
            assertThat(joinedB.generationId()).isEqualTo(1);
            assertThat(joinedA.leader()).isEqualTo(idA);
            assertThat(joinedA.members()).extracting(JoinGroupResponseData.JoinGroupResponseMember::memberId)
                    .containsExactlyInAnyOrder(idA, idB);
        } finally {
            pool.shutdownNow();
            askers.forEach(RawKafkaConnection::close);
        }
    }

    private static String askForMemberId(RawKafkaConnection connection, short version, JoinGroupRequestData request)
            throws IOException {
        JoinGroupResponseData required = connection.roundTrip(ApiKeys.JOIN_GROUP, version, request,
                JoinGroupResponseData::new);
        assertThat(required.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        return required.memberId();
    }

    private static JoinGroupRequestData joinRequest(String topic) {
        byte[] subscription = Utils.toArray(ConsumerProtocol.serializeSubscription(
                new ConsumerPartitionAssignor.Subscription(List.of(topic))));
        JoinGroupRequestData request = new JoinGroupRequestData().setGroupId(topic + "-group").setMemberId("")
                .setProtocolType(ConsumerProtocol.PROTOCOL_TYPE).setSessionTimeoutMs(10_000)
                .setRebalanceTimeoutMs(10_000);
        request.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                .setMetadata(subscription));
        return request;
    }

    @Test
    void threeConsumersStartedTogetherShareTheTopicInOneGeneration() throws Exception {
        String topic = TestDirs.uniqueTopic("together");
        createTopic(cluster.bootstrapServers(), topic, 12);
        String group = topic + "-group";
        Properties props = consumerProps(cluster.bootstrapServers(), group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        cluster.trace().clear();
        List<PollingConsumer> consumers = new ArrayList<>();
        try {
            for (String name : List.of("a", "b", "c")) {
                consumers.add(new PollingConsumer(props, topic, name));
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                Set<TopicPartition> all = new HashSet<>();
                int count = 0;
                for (PollingConsumer c : consumers) {
                    Set<TopicPartition> mine = c.assignment();
                    assertThat(mine).isNotEmpty();
                    all.addAll(mine);
                    count += mine.size();
                }
                assertThat(all).hasSize(12);
                assertThat(count).isEqualTo(12);
            });
            // each member's last SyncGroup answer (the assignment it consumes with) is of one and the same generation
            Map<String, String> lastSyncGeneration = new HashMap<>();
            for (TraceEntry e : cluster.trace().entries()) {
                if (e.apiKey() == ApiKeys.SYNC_GROUP && e.errors().isEmpty() && e.request().contains(group)) {
                    lastSyncGeneration.put(e.clientId(), generation(e.request()));
                }
            }
            assertThat(lastSyncGeneration).as(cluster.trace().dump()).hasSize(3);
            assertThat(new HashSet<>(lastSyncGeneration.values())).as(cluster.trace().dump()).hasSize(1);
        } finally {
            for (PollingConsumer c : consumers) {
                c.close();
            }
        }
    }

    private static String generation(String fields) {
        Matcher m = Pattern.compile("generationId=(-?\\d+)").matcher(fields);
        return m.find() ? m.group(1) : fields;
    }
}
