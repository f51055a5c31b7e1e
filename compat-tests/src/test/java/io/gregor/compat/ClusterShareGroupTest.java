package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.WriteShareGroupStateRequestData;
import org.apache.kafka.common.message.WriteShareGroupStateResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Share groups in a three-broker cluster: the leader of a share partition keeps its state through the share
 * coordinator of the state key (the leader of its {@code __share_group_state} partition, another broker here),
 * with the share-group state RPCs. Stock KafkaShareConsumers carry on when either broker dies by SIGKILL:
 * every record is delivered and acknowledged, and none acknowledged (commitSync answered without error) is
 * delivered again.
 */
class ClusterShareGroupTest {
    private static final int RECORDS = 300;
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    @Test
    void consumersCarryOnWhenTheShareGroupLeaderIsKilled() throws Exception {
        killAndCarryOn("share-leader", true);
    }

    @Test
    void consumersCarryOnWhenTheShareCoordinatorIsKilled() throws Exception {
        killAndCarryOn("share-coord", false);
    }

    /**
     * kafka-share-groups --describe --offsets on a group whose coordinator does not lead the partition: the lag
     * is there all the same (the coordinator asks the leader for the partition's latest offset, as Kafka's does).
     */
    @Test
    void theLagOfAPartitionLedByAnotherBroker() throws Exception {
        cluster.start("share-lag", 3, Map.of("offsets.topic.num.partitions", "3",
                "share.coordinator.state.topic.num.partitions", "3"));
        String topic = TestDirs.uniqueTopic("lagging");
        int partitionLeader;
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            partitionLeader = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic),
                            t -> t.partitions().get(0).leader() != null).partitions().get(0).leader().id();
        }
        String group = null;
        for (int i = 0; group == null; i++) {
            String candidate = topic + "-group-" + i;
            if (coordinator(cluster.broker(partitionLeader).port(), candidate,
                    FindCoordinatorRequest.CoordinatorType.GROUP) != partitionLeader) {
                group = candidate;
            }
        }
        ShareConsumerTest.setGroupConfigs(cluster.bootstrap(), group, Map.of("share.auto.offset.reset", "earliest"));
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "v" + i)).get();
            }
        }
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                ShareConsumerTest.shareProps(cluster.bootstrap(), group, true, 6))) {
            c.subscribe(List.of(topic));
            List<Long> accepted = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    boolean accept = accepted.size() < 6;
                    c.acknowledge(r, accept ? AcknowledgeType.ACCEPT : AcknowledgeType.RELEASE);
                    if (accept) {
                        accepted.add(r.offset());
                    }
                }
                c.commitSync();
                return accepted.size() >= 6;
            });
        }
        String g = group;
        ToolRunner.Result offsets = ToolRunner.runTool("org.apache.kafka.tools.consumer.group.ShareGroupCommand",
                "--bootstrap-server", cluster.bootstrap(), "--describe", "--group", g, "--offsets");
        assertThat(offsets.exitCode()).as(offsets.describe()).isZero();
        String row = offsets.stdoutLines().stream().filter(l -> l.contains(topic)).findFirst()
                .orElseThrow(() -> new AssertionError(offsets.describe()));
        // GROUP TOPIC PARTITION LEADER-EPOCH START-OFFSET LAG: six of ten delivered for good, from offset 6 on
        List<String> columns = List.of(row.trim().split("\\s+"));
        assertThat(columns).as(offsets.describe()).startsWith(g, topic, "0");
        assertThat(columns.subList(columns.size() - 2, columns.size())).as(offsets.describe()).containsExactly("6", "4");
    }

    private void killAndCarryOn(String name, boolean killPartitionLeader) throws Exception {
        cluster.start(name, 3, Map.of(
                "zookeeper.session.timeout.ms", "4000",
                "replica.lag.time.max.ms", "10000",
                "offsets.topic.num.partitions", "3",
                "share.coordinator.state.topic.num.partitions", "3"));
        String topic = TestDirs.uniqueTopic("shared");
        Uuid topicId;
        int partitionLeader;
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
            TopicDescription d = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic),
                            t -> t.partitions().get(0).leader() != null);
            topicId = d.topicId();
            partitionLeader = d.partitions().get(0).leader().id();
        }
        // killing the share coordinator: a group whose state key ("group:topicId:0") is coordinated
        // (FindCoordinator SHARE) by another broker than the share partition's leader. Killing the leader: any
        // group, and nothing asked before the consumers start, so the first share-partition leader creates
        // __share_group_state itself.
        String group = killPartitionLeader ? topic + "-group" : null;
        for (int i = 0; group == null; i++) {
            String candidate = topic + "-group-" + i;
            if (shareCoordinator(cluster.broker(partitionLeader).port(), candidate + ":" + topicId + ":0") != partitionLeader) {
                group = candidate;
            }
        }

        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        Set<Long> realOffsets = ConcurrentHashMap.newKeySet();
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicInteger delivered = new AtomicInteger();
        AtomicInteger commitErrors = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> consumers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String g = group;
            Thread t = new Thread(() -> {
                try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(
                        ShareConsumerTest.shareProps(cluster.bootstrap(), g, true, 25))) {
                    c.subscribe(List.of(topic));
                    while (running.get()) {
                        List<Long> polled = new ArrayList<>();
                        try {
                            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                                if (acknowledged.contains(r.offset())) {
                                    violations.add("offset " + r.offset() + " delivered again (delivery "
                                            + r.deliveryCount().orElse((short) -1) + ") after it was acknowledged");
                                }
                                delivered.incrementAndGet();
                                polled.add(r.offset());
                                c.acknowledge(r, AcknowledgeType.ACCEPT);
                            }
                            if (polled.isEmpty()) {
                                continue;
                            }
                            Map<TopicIdPartition, Optional<KafkaException>> result = c.commitSync();
                            if (!result.isEmpty() && result.values().stream().allMatch(Optional::isEmpty)) {
                                acknowledged.addAll(polled);
                            } else {
                                commitErrors.incrementAndGet();
                            }
                        } catch (KafkaException e) {
                            // the failover: unacknowledged records come back, so nothing is counted as acknowledged
                            commitErrors.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "share-consumer-" + i);
            t.start();
            consumers.add(t);
        }
        String report;
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of(
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 90_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500))) {
            // the share partition starts at the end of the log when first fetched (share.auto.offset.reset=latest):
            // warm-up records until one is delivered, then the records counted
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                producer.send(new ProducerRecord<>(topic, 0, "warm-up", "w")).get();
                return delivered.get() > 0;
            });
            produce(producer, topic, "before", realOffsets);
            await().atMost(Duration.ofSeconds(60)).until(() -> realOffsets.stream().filter(acknowledged::contains)
                    .count() >= RECORDS / 3);

            int stateCoordinator = shareCoordinator(cluster.broker(partitionLeader).port(), group + ":" + topicId + ":0");
            int notCoordinator = stateCoordinator == partitionLeader ? partitionLeader % 3 + 1 : partitionLeader;
            assertNotCoordinator(cluster.broker(notCoordinator).port(), group, topicId);
            int victim = killPartitionLeader ? partitionLeader : stateCoordinator;
            report = "killed broker " + victim + " (share-partition leader " + partitionLeader + ", share coordinator "
                    + stateCoordinator + ")";
            cluster.broker(victim).kill();
            produce(producer, topic, "after", realOffsets);
        }
        try {
            await().atMost(Duration.ofSeconds(120)).until(() -> acknowledged.containsAll(realOffsets));
        } finally {
            running.set(false);
            for (Thread t : consumers) {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }
        }
        assertThat(failures).isEmpty();
        assertThat(violations).isEmpty();
        assertThat(realOffsets).hasSize(2 * RECORDS);
        // the group, persisted in __consumer_offsets, and its start offset, from the share coordinator: past
        // every record
        long end = realOffsets.stream().mapToLong(Long::longValue).max().orElseThrow() + 1;
        String g = group;
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            ToolRunner.Result offsets = ToolRunner.runTool("org.apache.kafka.tools.consumer.group.ShareGroupCommand",
                    "--bootstrap-server", cluster.bootstrap(), "--describe", "--group", g);
            assertThat(offsets.exitCode()).as(offsets.describe()).isZero();
            String row = offsets.stdoutLines().stream().filter(l -> l.contains(topic)).findFirst()
                    .orElseThrow(() -> new AssertionError(offsets.describe()));
            // GROUP TOPIC PARTITION START-OFFSET LAG
            assertThat(row.trim().split("\\s+")).as(offsets.describe()).contains(g, topic, "0", Long.toString(end));
        });
        System.out.printf("%s: %d deliveries of %d records, %d failed commits%n", report, delivered.get(),
                realOffsets.size(), commitErrors.get());
    }

    /** A broker that does not coordinate the state key refuses the state RPCs for it. */
    private static void assertNotCoordinator(int port, String group, Uuid topicId) throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(port, Duration.ofSeconds(30))) {
            WriteShareGroupStateRequestData write = new WriteShareGroupStateRequestData().setGroupId(group);
            write.topics().add(new WriteShareGroupStateRequestData.WriteStateData().setTopicId(topicId)
                    .setPartitions(List.of(new WriteShareGroupStateRequestData.PartitionData().setPartition(0)
                            .setStateEpoch(0).setLeaderEpoch(0).setStartOffset(0))));
            WriteShareGroupStateResponseData answer = raw.roundTrip(ApiKeys.WRITE_SHARE_GROUP_STATE, (short) 0, write,
                    WriteShareGroupStateResponseData::new);
            assertThat(Errors.forCode(answer.results().get(0).partitions().get(0).errorCode()))
                    .isEqualTo(Errors.NOT_COORDINATOR);
        }
    }

    /** The broker FindCoordinator (key type SHARE) names for {@code key}, once it has one. */
    static int shareCoordinator(int port, String key) {
        return coordinator(port, key, FindCoordinatorRequest.CoordinatorType.SHARE);
    }

    /** The broker FindCoordinator names for {@code key} of {@code type}, once it has one. */
    static int coordinator(int port, String key, FindCoordinatorRequest.CoordinatorType type) {
        return await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (RawKafkaConnection raw = new RawKafkaConnection(port, Duration.ofSeconds(30))) {
                FindCoordinatorResponseData answer = raw.roundTrip(ApiKeys.FIND_COORDINATOR, (short) 6,
                        new FindCoordinatorRequestData().setKeyType(type.id())
                                .setCoordinatorKeys(List.of(key)), FindCoordinatorResponseData::new);
                FindCoordinatorResponseData.Coordinator c = answer.coordinators().get(0);
                return c.errorCode() == Errors.NONE.code() ? c.nodeId() : -1;
            }
        }, id -> id >= 0);
    }

    private static void produce(KafkaProducer<String, String> producer, String topic, String prefix, Set<Long> offsets)
            throws Exception {
        List<Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, 0, prefix, prefix + "-" + i)));
        }
        for (Future<org.apache.kafka.clients.producer.RecordMetadata> f : sent) {
            offsets.add(f.get().offset());
        }
    }
}
