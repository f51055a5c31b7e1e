package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.broker.intercept.FaultInjector;
import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.intercept.TraceRecord;
import io.gregor.config.BrokerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Faults injected into a running broker's answers, seen by stock clients: they retry, wait and
 * reconnect through them as through a real broker's trouble, and the wire trace shows what they got.
 */
class FaultInjectionTest {
    private static TestBroker broker;
    private FaultInjector faults;
    private RequestTrace trace;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("FaultInjectionTest", Map.of("group.initial.rebalance.delay.ms", "0"));
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @BeforeEach
    void traceOn() {
        faults = broker.broker().faultInjector();
        trace = broker.broker().requestTrace();
        trace.clear();
        trace.setEnabled(true);
    }

    @AfterEach
    void clear() {
        faults.clear();
        trace.setEnabled(false);
        trace.clear();
    }

    private List<TraceRecord> traced(ApiKeys api, String clientId) {
        return trace.entries().stream()
                .filter(r -> r.apiKey() == api.id && clientId.equals(r.clientId()))
                .collect(Collectors.toList());
    }

    @Test
    void anIdempotentProducerRetriesThroughNotLeaderAndEveryRecordLandsOnce() throws Exception {
        String topic = "faults-idempotent";
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        faults.failNext(ApiKeys.PRODUCE.id, Errors.NOT_LEADER_OR_FOLLOWER.code(), 3, null, null);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                ProducerConfig.CLIENT_ID_CONFIG, "idempotent-producer", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10))) {
            List<Future<?>> sends = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sends.add(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
            }
            for (Future<?> send : sends) {
                send.get(30, TimeUnit.SECONDS);
            }
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            List<ConsumerRecord<String, String>> read = Clients.readAll(consumer, List.of(new TopicPartition(topic, 0)));
            assertThat(read).extracting(ConsumerRecord::value)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "v" + i).toList());
        }
        List<TraceRecord> produces = traced(ApiKeys.PRODUCE, "idempotent-producer");
        List<TraceRecord> injected = produces.stream().filter(TraceRecord::injected).toList();
        assertThat(injected).hasSize(3).allSatisfy(r -> {
            assertThat(r.errorCodes()).containsExactly(Errors.NOT_LEADER_OR_FOLLOWER.code());
            assertThat(r.brokerId()).isEqualTo(broker.broker().brokerId());
            assertThat(r.request()).contains(topic);
            assertThat(r.response()).contains("NOT_LEADER_OR_FOLLOWER");
        });
        assertThat(injected).extracting(TraceRecord::correlationId).doesNotHaveDuplicates().isSorted();
        assertThat(produces.stream().filter(r -> !r.injected())).isNotEmpty()
                .allSatisfy(r -> assertThat(r.errorCodes()).isEmpty());
        assertThat(trace.dump()).contains("PRODUCE", "idempotent-producer", "NOT_LEADER_OR_FOLLOWER", "[injected]");
    }

    @Test
    void coordinatorNotAvailableDelaysTheGroupJoinButTheConsumerThenConsumes() {
        String topic = "faults-coordinator";
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            Clients.get(producer.send(new ProducerRecord<>(topic, "k", "v")));
        }
        faults.failNext(ApiKeys.FIND_COORDINATOR.id, Errors.COORDINATOR_NOT_AVAILABLE.code(), 5, "group-member", null);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers(), Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "faults-group", ConsumerConfig.CLIENT_ID_CONFIG, "group-member",
                ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, 10))) {
            consumer.subscribe(List.of(topic));
            assertThat(Clients.pollUntil(consumer, 1)).extracting(ConsumerRecord::value).containsExactly("v");
        }
        List<TraceRecord> finds = traced(ApiKeys.FIND_COORDINATOR, "group-member");
        assertThat(finds.stream().filter(TraceRecord::injected))
                .hasSize(5)
                .allSatisfy(r -> assertThat(r.errorCodes()).containsExactly(Errors.COORDINATOR_NOT_AVAILABLE.code()));
        assertThat(finds.get(finds.size() - 1).errorCodes()).as("the answer the consumer joined with").isEmpty();
        assertThat(traced(ApiKeys.JOIN_GROUP, "group-member")).isNotEmpty();
    }

    @Test
    void aFetchDelayShowsUpAsConsumerLatency() {
        String topic = "faults-slow-fetch";
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            Clients.get(producer.send(new ProducerRecord<>(topic, "k", "v")));
        }
        faults.delay(ApiKeys.FETCH.id, 2_000, "slow-consumer", null);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers(),
                Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "slow-consumer"))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            consumer.position(tp); // the offset lookup is not delayed: only fetches count below
            long began = System.nanoTime();
            List<ConsumerRecord<String, String>> read = Clients.pollUntil(consumer, 1);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            assertThat(read).extracting(ConsumerRecord::value).containsExactly("v");
            assertThat(tookMs).as("poll to first record").isGreaterThanOrEqualTo(2_000);
        }
        assertThat(traced(ApiKeys.FETCH, "slow-consumer")).isNotEmpty().allSatisfy(r -> {
            assertThat(r.latencyNanos()).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
            assertThat(r.injected()).isTrue();
        });
    }

    @Test
    void aMetadataDisconnectIsSurvived() throws Exception {
        String topic = "faults-disconnect";
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        faults.disconnectNext(ApiKeys.METADATA.id, 1, "disconnected-producer", null);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                ProducerConfig.CLIENT_ID_CONFIG, "disconnected-producer", ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 10))) {
            assertThat(producer.send(new ProducerRecord<>(topic, "k", "v")).get(30, TimeUnit.SECONDS).offset()).isZero();
        }
        List<TraceRecord> metadata = traced(ApiKeys.METADATA, "disconnected-producer");
        assertThat(metadata.get(0).disconnected()).isTrue();
        assertThat(metadata.get(0).injected()).isTrue();
        assertThat(metadata.stream().skip(1)).isNotEmpty().noneMatch(TraceRecord::disconnected);
    }

    @Test
    void aClientIdFaultHitsOnlyThatClientAndNothingIsCreated() {
        faults.failNext(ApiKeys.CREATE_TOPICS.id, Errors.POLICY_VIOLATION.code(), 1, "admin-a", null);
        try (Admin a = admin("admin-a"); Admin b = admin("admin-b")) {
            Clients.get(b.createTopics(List.of(new NewTopic("faults-created-by-b", 1, (short) 1))).all());
            assertThatThrownBy(() -> Clients.get(a.createTopics(List.of(new NewTopic("faults-refused-to-a", 1, (short) 1))).all()))
                    .isInstanceOf(PolicyViolationException.class);
            Set<String> names = Clients.get(b.listTopics().names());
            assertThat(names).contains("faults-created-by-b").doesNotContain("faults-refused-to-a");
        }
    }

    @Test
    void aTopicFaultHitsOnlyThatTopicAndTheRestOfTheRequestIsHandled() throws Exception {
        faults.failNext(ApiKeys.CREATE_TOPICS.id, Errors.POLICY_VIOLATION.code(), 1, null, "faults-refused-topic");
        try (Admin admin = admin("one-request-two-topics")) {
            CreateTopicsResult result = admin.createTopics(List.of(new NewTopic("faults-accepted-topic", 1, (short) 1),
                    new NewTopic("faults-refused-topic", 1, (short) 1)));
            result.values().get("faults-accepted-topic").get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> result.values().get("faults-refused-topic").get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(PolicyViolationException.class);
            assertThat(Clients.get(admin.listTopics().names()))
                    .contains("faults-accepted-topic").doesNotContain("faults-refused-topic");
        }
        TraceRecord create = traced(ApiKeys.CREATE_TOPICS, "one-request-two-topics").get(0);
        assertThat(create.injected()).isTrue();
        assertThat(create.request()).contains("faults-accepted-topic", "faults-refused-topic");
        assertThat(create.errorCodes()).containsExactly(Errors.POLICY_VIOLATION.code());
    }

    @Test
    void aProduceFaultForOneTopicLeavesTheOtherTopicsRecordsAlone() throws Exception {
        String hit = "faults-produce-hit";
        String spared = "faults-produce-spared";
        Clients.createTopic(broker.bootstrapServers(), hit, 1);
        Clients.createTopic(broker.bootstrapServers(), spared, 1);
        faults.failNext(ApiKeys.PRODUCE.id, Errors.NOT_LEADER_OR_FOLLOWER.code(), 1, null, hit);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                ProducerConfig.CLIENT_ID_CONFIG, "two-topic-producer", ProducerConfig.LINGER_MS_CONFIG, 50,
                ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10))) {
            producer.partitionsFor(hit);
            producer.partitionsFor(spared);
            Future<?> toHit = producer.send(new ProducerRecord<>(hit, "k", "hit"));
            Future<?> toSpared = producer.send(new ProducerRecord<>(spared, "k", "spared"));
            toHit.get(30, TimeUnit.SECONDS);
            toSpared.get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            assertThat(Clients.readAll(consumer, List.of(new TopicPartition(hit, 0), new TopicPartition(spared, 0))))
                    .extracting(ConsumerRecord::value).containsExactlyInAnyOrder("hit", "spared");
        }
        List<TraceRecord> injected = traced(ApiKeys.PRODUCE, "two-topic-producer").stream()
                .filter(TraceRecord::injected).toList();
        assertThat(injected).hasSize(1);
        assertThat(injected.get(0).response()).contains("topic=" + hit + " ", "NOT_LEADER_OR_FOLLOWER");
    }

    @Test
    void anAcksZeroProducerLearnsOfAnInjectedErrorByTheConnectionClosingAsWithKafka() throws Exception {
        String topic = "faults-acks-zero";
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        faults.failNext(ApiKeys.PRODUCE.id, Errors.NOT_LEADER_OR_FOLLOWER.code(), 1, "fire-and-forget", null);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                ProducerConfig.CLIENT_ID_CONFIG, "fire-and-forget", ProducerConfig.ACKS_CONFIG, "0",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false))) {
            producer.send(new ProducerRecord<>(topic, "k", "lost")).get(30, TimeUnit.SECONDS);
            await("the connection is closed instead of answering").atMost(Clients.TIMEOUT)
                    .until(() -> traced(ApiKeys.PRODUCE, "fire-and-forget").stream().anyMatch(TraceRecord::disconnected));
            producer.send(new ProducerRecord<>(topic, "k", "kept")).get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            await("the second record is appended").atMost(Clients.TIMEOUT)
                    .until(() -> consumer.endOffsets(List.of(tp)).get(tp) == 1L);
            assertThat(Clients.readAll(consumer, List.of(tp))).extracting(ConsumerRecord::value).containsExactly("kept");
        }
    }

    @Test
    void aFetchFaultForOneTopicIsRetriedWhileTheOtherTopicIsServed() {
        String hit = "faults-fetch-hit";
        String spared = "faults-fetch-spared";
        Clients.createTopic(broker.bootstrapServers(), hit, 1);
        Clients.createTopic(broker.bootstrapServers(), spared, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            Clients.get(producer.send(new ProducerRecord<>(hit, "k", "hit")));
            Clients.get(producer.send(new ProducerRecord<>(spared, "k", "spared")));
        }
        faults.failNext(ApiKeys.FETCH.id, Errors.NOT_LEADER_OR_FOLLOWER.code(), 2, "two-topic-consumer", hit);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers(), Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG, "two-topic-consumer", ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, 10))) {
            assertThat(Clients.readFromBeginning(consumer, List.of(new TopicPartition(hit, 0), new TopicPartition(spared, 0)), 2))
                    .extracting(ConsumerRecord::value).containsExactlyInAnyOrder("hit", "spared");
        }
        List<TraceRecord> injected = traced(ApiKeys.FETCH, "two-topic-consumer").stream().filter(TraceRecord::injected).toList();
        assertThat(injected).hasSize(2).allSatisfy(r -> {
            assertThat(r.errorCodes()).containsExactly(Errors.NOT_LEADER_OR_FOLLOWER.code());
            assertThat(r.response()).contains("topic=" + hit + " ");
        });
    }

    @Test
    void theTraceKeepsTheLastTenThousandAnswersInOrderAndNothingWhileOff() throws Exception {
        int requests = RequestTrace.CAPACITY + 50;
        int last = 0;
        try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(30))) {
            for (int sent = 0; sent < requests; sent += 100) {
                for (int i = 0; i < 100; i++) {
                    last = raw.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                            .setClientSoftwareName("raw").setClientSoftwareVersion("1"));
                }
                for (int i = 0; i < 100; i++) {
                    raw.receive((short) 0);
                }
            }
            List<TraceRecord> entries = trace.entries();
            assertThat(entries).hasSize(RequestTrace.CAPACITY);
            assertThat(entries).extracting(TraceRecord::correlationId).isSorted().endsWith(last)
                    .startsWith(last - RequestTrace.CAPACITY + 1);

            trace.setEnabled(false);
            trace.clear();
            raw.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("raw").setClientSoftwareVersion("1"));
            raw.receive((short) 0);
            assertThat(trace.entries()).isEmpty();
        }
    }

    @Test
    void badFaultsAreRefusedNamingWhatIsWrong() {
        assertThatThrownBy(() -> faults.failNext(ApiKeys.FETCH_SNAPSHOT.id, Errors.UNKNOWN_SERVER_ERROR.code(), 1, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FETCH_SNAPSHOT");
        assertThatThrownBy(() -> faults.delay(ApiKeys.FETCH_SNAPSHOT.id, 10, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FETCH_SNAPSHOT");
        assertThatThrownBy(() -> faults.failNext(ApiKeys.JOIN_GROUP.id, Errors.UNKNOWN_SERVER_ERROR.code(), 1, null, "t"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JOIN_GROUP");
        assertThatThrownBy(() -> faults.failNext(ApiKeys.PRODUCE.id, (short) 9999, 1, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("9999");
        assertThatThrownBy(() -> faults.disconnectNext(ApiKeys.PRODUCE.id, 0, null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoBrokersHaveIndependentFaultsAndTraces() {
        try (TestBroker other = TestBroker.start("FaultInjectionTest-other", Map.of())) {
            faults.failNext(ApiKeys.CREATE_TOPICS.id, Errors.POLICY_VIOLATION.code(), 1, null, null);
            Clients.createTopic(other.bootstrapServers(), "faults-on-the-other-broker", 1);
            assertThat(other.broker().requestTrace().entries()).isEmpty();
            assertThat(trace.entries()).noneMatch(r -> r.apiKey() == ApiKeys.CREATE_TOPICS.id);
        }
    }

    @Test
    void traceLatencyIsTakenOnTheBrokersOwnClock() throws Exception {
        // the broker's clock runs an hour ahead of System.nanoTime(): a latency mixing the two would be an hour
        long ahead = TimeUnit.HOURS.toNanos(1);
        Time shifted = new Time() {
            @Override
            public long milliseconds() {
                return Time.SYSTEM.milliseconds();
            }

            @Override
            public long nanoseconds() {
                return Time.SYSTEM.nanoseconds() + ahead;
            }

            @Override
            public void sleep(long ms) {
                Time.SYSTEM.sleep(ms);
            }

            @Override
            public void waitObject(Object obj, Supplier<Boolean> condition, long deadlineMs) throws InterruptedException {
                Time.SYSTEM.waitObject(obj, condition, deadlineMs);
            }
        };
        Path dir = TestDirs.newDataDir("FaultInjectionTest-clock");
        Broker shiftedBroker = Broker.start(BrokerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
                "log.dirs", dir.toString())), shifted);
        try {
            shiftedBroker.requestTrace().setEnabled(true);
            Map<String, Object> props = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + shiftedBroker.port(), AdminClientConfig.CLIENT_ID_CONFIG, "clocked-admin");
            try (Admin admin = Admin.create(props)) {
                admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            }
            List<TraceRecord> records = shiftedBroker.requestTrace().entries();
            assertThat(records).isNotEmpty().allSatisfy(r ->
                    assertThat(r.latencyNanos()).isBetween(0L, TimeUnit.SECONDS.toNanos(30)));
        } finally {
            shiftedBroker.close();
            TestDirs.deleteRecursively(dir);
        }
    }

    private Admin admin(String clientId) {
        Map<String, Object> props = new HashMap<>();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        return Admin.create(props);
    }
}
