package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarkerTopic;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The partition leader's half of transactions, driven without a transaction coordinator: transactional batches
 * and WriteTxnMarkers sent by hand, read back by stock clients. A read_committed KafkaConsumer sees exactly the
 * committed records, stops at an open transaction, and is woken by its commit; ListOffsets and
 * DescribeProducers through AdminClient, and Kafka's kafka-dump-log on the files.
 */
class TransactionalReadTest {
    /** No coordinator knows these transactions: the leader must not ask one (KIP-890 verification off). */
    private static final Map<String, String> UNVERIFIED = Map.of("transaction.partition.verification.enable", "false");
    private static final short PRODUCE_VERSION = 9;
    private static final short MARKERS_VERSION = 1;

    private static TestBroker broker;
    private static RawKafkaConnection raw;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("txn-read", UNVERIFIED);
        raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (raw != null) {
            raw.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static SimpleRecord[] records(String prefix, int count) {
        SimpleRecord[] out = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            out[i] = new SimpleRecord(System.currentTimeMillis(), null,
                    (prefix + i).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Produce with acks=all of one batch; returns its error. */
    private static Errors produce(String topic, String transactionalId, MemoryRecords records) throws IOException {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000)
                .setTransactionalId(transactionalId);
        ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName(topic);
        topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
        request.topicData().add(topicData);
        ProduceResponseData response = raw.roundTrip(ApiKeys.PRODUCE, PRODUCE_VERSION, request, ProduceResponseData::new);
        return Errors.forCode(response.responses().iterator().next().partitionResponses().get(0).errorCode());
    }

    private static Errors produceTxn(String topic, long producerId, short epoch, int sequence, String prefix, int count)
            throws IOException {
        return produce(topic, "txn-" + producerId, MemoryRecords.withTransactionalRecords(Compression.NONE,
                producerId, epoch, sequence, records(prefix, count)));
    }

    private static Errors producePlain(String topic, String prefix, int count) throws IOException {
        return produce(topic, null, MemoryRecords.withRecords(Compression.NONE, records(prefix, count)));
    }

    private static Errors writeMarker(String topic, long producerId, short epoch, boolean commit, int coordinatorEpoch)
            throws IOException {
        WriteTxnMarkersRequestData request = new WriteTxnMarkersRequestData().setMarkers(List.of(
                new WritableTxnMarker().setProducerId(producerId).setProducerEpoch(epoch).setTransactionResult(commit)
                        .setCoordinatorEpoch(coordinatorEpoch).setTopics(List.of(new WritableTxnMarkerTopic()
                                .setName(topic).setPartitionIndexes(List.of(0))))));
        WriteTxnMarkersResponseData response = raw.roundTrip(ApiKeys.WRITE_TXN_MARKERS, MARKERS_VERSION, request,
                WriteTxnMarkersResponseData::new);
        assertThat(response.markers().get(0).producerId()).isEqualTo(producerId);
        return Errors.forCode(response.markers().get(0).topics().get(0).partitions().get(0).errorCode());
    }

    private static KafkaConsumer<String, String> consumer(String isolation) {
        return Clients.consumer(broker.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10_000, ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 40_000));
    }

    private static long latest(Admin admin, TopicPartition tp, IsolationLevel isolation) {
        return Clients.get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(isolation))
                .partitionResult(tp)).offset();
    }

    private static List<String> values(List<ConsumerRecord<String, String>> records) {
        List<String> out = new ArrayList<>();
        records.forEach(r -> out.add(r.value()));
        return out;
    }

    @Test
    void readCommittedSeesExactlyTheCommittedRecordsAndStopsAtAnOpenTransaction() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-read");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        await().atMost(Clients.TIMEOUT).until(() -> producePlain(topic, "p", 1) == Errors.NONE); // offset 0
        assertThat(produceTxn(topic, 1000, (short) 0, 0, "a", 3)).isEqualTo(Errors.NONE); // 1..3, committed below
        assertThat(produceTxn(topic, 2000, (short) 0, 0, "b", 2)).isEqualTo(Errors.NONE); // 4..5, aborted below
        assertThat(producePlain(topic, "q", 1)).isEqualTo(Errors.NONE); // 6

        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(latest(admin, tp, IsolationLevel.READ_COMMITTED)).as("LSO: A is open from 1").isEqualTo(1);
            assertThat(latest(admin, tp, IsolationLevel.READ_UNCOMMITTED)).isEqualTo(7);
            ProducerState open = Clients.get(admin.describeProducers(List.of(tp)).partitionResult(tp))
                    .activeProducers().stream().filter(p -> p.producerId() == 2000).findFirst().orElseThrow();
            assertThat(open.currentTransactionStartOffset()).hasValue(4);
            assertThat(open.lastSequence()).isEqualTo(1);

            try (KafkaConsumer<String, String> committed = consumer("read_committed")) {
                committed.assign(List.of(tp));
                committed.seekToBeginning(List.of(tp));
                assertThat(values(Clients.pollUntil(committed, 1))).containsExactly("p0");
                committed.poll(Duration.ofMillis(300));
                assertThat(committed.position(tp)).as("stops at the open transaction").isEqualTo(1);

                assertThat(writeMarker(topic, 1000, (short) 0, true, 0)).isEqualTo(Errors.NONE); // 7
                assertThat(writeMarker(topic, 2000, (short) 0, false, 0)).isEqualTo(Errors.NONE); // 8
                assertThat(values(Clients.pollUntil(committed, 4))).containsExactly("a0", "a1", "a2", "q0");
                committed.poll(Duration.ofMillis(300));
                assertThat(committed.position(tp)).isEqualTo(9);
            }
            assertThat(latest(admin, tp, IsolationLevel.READ_COMMITTED)).isEqualTo(9);
            assertThat(Clients.get(admin.describeProducers(List.of(tp)).partitionResult(tp)).activeProducers())
                    .allSatisfy(p -> assertThat(p.currentTransactionStartOffset()).isEmpty());
        }
        try (KafkaConsumer<String, String> uncommitted = consumer("read_uncommitted")) {
            assertThat(values(Clients.readFromBeginning(uncommitted, List.of(tp), 7)))
                    .containsExactly("p0", "a0", "a1", "a2", "b0", "b1", "q0");
        }
    }

    @Test
    void aCommitMarkerWakesAParkedReadCommittedFetch() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-wake");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        await().atMost(Clients.TIMEOUT).until(() -> produceTxn(topic, 3000, (short) 5, 0, "c", 2) == Errors.NONE);
        try (KafkaConsumer<String, String> committed = consumer("read_committed")) {
            committed.assign(List.of(tp));
            committed.seekToBeginning(List.of(tp));
            assertThat(committed.poll(Duration.ofMillis(500)).isEmpty()).isTrue(); // parked: nothing is stable
            long sentAt = System.nanoTime();
            assertThat(writeMarker(topic, 3000, (short) 5, true, 2)).isEqualTo(Errors.NONE);
            assertThat(values(Clients.pollUntil(committed, 2))).containsExactly("c0", "c1");
            long latencyMs = (System.nanoTime() - sentAt) / 1_000_000;
            assertThat(latencyMs).as("ms from commit to consume with a 10 s fetch wait").isLessThan(3_000);
            committed.close(CloseOptions.timeout(Duration.ofMillis(500)));
        }
    }

    /**
     * fetch.min.bytes above a marker's size: the commit makes the whole transaction readable at once and the parked
     * fetch counts all of it (Kafka measures a delayed fetch up to the LSO), whether the transaction's records came
     * before the fetch parked or while it was parked. Before, only the marker's bytes counted and the consumer waited
     * out its 30 s fetch.max.wait.ms.
     */
    @Test
    void aCommitCountsTheWholeTransactionTowardAParkedFetchsMinBytes() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-min-bytes");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        // 200 records of a few bytes: about 2 KiB in one batch; a marker is 78 bytes
        await().atMost(Clients.TIMEOUT).until(() -> produceTxn(topic, 9000, (short) 0, 0, "m", 200) == Errors.NONE);
        try (KafkaConsumer<String, String> committed = Clients.consumer(broker.bootstrapServers(), Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1500,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 30_000, ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 60_000))) {
            committed.assign(List.of(tp));
            committed.seekToBeginning(List.of(tp));
            assertThat(committed.poll(Duration.ofMillis(500)).isEmpty()).isTrue(); // parked behind the open transaction
            assertThat(writeMarker(topic, 9000, (short) 0, true, 0)).isEqualTo(Errors.NONE);
            List<ConsumerRecord<String, String>> first = new ArrayList<>();
            await("records written before the fetch parked").until(() -> {
                committed.poll(Duration.ofMillis(200)).forEach(first::add);
                return first.size() >= 200;
            });

            assertThat(committed.poll(Duration.ofMillis(500)).isEmpty()).isTrue(); // parked at the log end
            assertThat(produceTxn(topic, 9000, (short) 0, 200, "n", 200)).isEqualTo(Errors.NONE);
            assertThat(writeMarker(topic, 9000, (short) 0, true, 0)).isEqualTo(Errors.NONE);
            List<ConsumerRecord<String, String>> second = new ArrayList<>();
            await("records written while the fetch was parked").until(() -> {
                committed.poll(Duration.ofMillis(200)).forEach(second::add);
                return second.size() >= 200;
            });
            assertThat(second.get(0).value()).isEqualTo("n0");
            committed.close(CloseOptions.timeout(Duration.ofMillis(500)));
        }
    }

    @Test
    void markersAnswerKafkasPerPartitionErrors() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-errors");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        await().atMost(Clients.TIMEOUT).until(() -> produceTxn(topic, 4000, (short) 3, 0, "d", 1) == Errors.NONE);
        assertThat(writeMarker(topic, 4000, (short) 2, false, 0)).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(writeMarker(topic, 4000, (short) 3, false, 7)).isEqualTo(Errors.NONE);
        assertThat(writeMarker(topic, 4000, (short) 3, false, 6)).isEqualTo(Errors.TRANSACTION_COORDINATOR_FENCED);
        assertThat(writeMarker("no-such-topic-" + topic, 4000, (short) 3, true, 7))
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        // no batch can carry a negative producer id or epoch (the wire fuzzer's find: it was a stack trace)
        assertThat(writeMarker(topic, 4000, (short) -1, true, 7)).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(writeMarker(topic, -1, (short) 3, true, 7)).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(produceTxn(topic, 4000, (short) 2, 1, "e", 1)).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(produce(topic, null, MemoryRecords.withIdempotentRecords(Compression.NONE, 5000, (short) 0, 0,
                records("f", 1)))).isEqualTo(Errors.NONE);
        assertThat(produceTxn(topic, 5000, (short) 0, 1, "g", 1)).isEqualTo(Errors.NONE);
        assertThat(produce(topic, null, MemoryRecords.withIdempotentRecords(Compression.NONE, 5000, (short) 0, 2,
                records("h", 1)))).as("plain write inside an open transaction").isEqualTo(Errors.INVALID_TXN_STATE);
    }

    @Test
    void aMarkerOnTheOffsetsTopicDoesNotDisturbTheGroupsLoadedFromIt() throws Exception {
        TestBroker own = TestBroker.start("txn-offsets", Map.of("offsets.topic.num.partitions", "1"));
        try (Admin admin = Clients.admin(own.bootstrapServers())) {
            String topic = TestDirs.uniqueTopic("txn-offsets");
            Clients.createTopic(own.bootstrapServers(), topic, 1);
            TopicPartition tp = new TopicPartition(topic, 0);
            String group = "g-" + topic;
            Clients.get(admin.alterConsumerGroupOffsets(group,
                    Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(42))).all());
            try (RawKafkaConnection conn = new RawKafkaConnection(own.port(), Duration.ofSeconds(30))) {
                RawKafkaConnection previous = raw;
                raw = conn;
                try {
                    assertThat(writeMarker("__consumer_offsets", 8000, (short) 0, false, 0)).isEqualTo(Errors.NONE);
                } finally {
                    raw = previous;
                }
            }
            own.restart();
            await().atMost(Clients.TIMEOUT).untilAsserted(() -> assertThat(Clients.get(
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()))
                    .containsEntry(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(42)));
        } finally {
            own.close();
        }
    }

    @Test
    void kafkaDumpLogShowsTheMarkersAndReadsTheTxnIndex() throws Exception {
        TestBroker own = TestBroker.start("txn-dump", UNVERIFIED);
        try (RawKafkaConnection conn = new RawKafkaConnection(own.port(), Duration.ofSeconds(30))) {
            RawKafkaConnection previous = raw;
            raw = conn;
            String topic = TestDirs.uniqueTopic("txn-dump");
            try {
                Clients.createTopic(own.bootstrapServers(), topic, 1);
                await().atMost(Clients.TIMEOUT).until(() -> produceTxn(topic, 6000, (short) 1, 0, "x", 2) == Errors.NONE);
                assertThat(writeMarker(topic, 6000, (short) 1, false, 3)).isEqualTo(Errors.NONE); // 2
                assertThat(produceTxn(topic, 7000, (short) 0, 0, "y", 1)).isEqualTo(Errors.NONE); // 3
                assertThat(writeMarker(topic, 7000, (short) 0, true, 3)).isEqualTo(Errors.NONE); // 4
            } finally {
                raw = previous;
            }
            own.stop();
            Path partitionDir = own.logDir().resolve(topic + "-0");
            ToolRunner.Result log = SegmentDumps.dumpClean(partitionDir.resolve("00000000000000000000.log"),
                    "--print-data-log");
            assertThat(log.stdout()).as(log.describe()).contains("isControl: true",
                    "endTxnMarker: ABORT coordinatorEpoch: 3", "endTxnMarker: COMMIT coordinatorEpoch: 3",
                    "payload: x0", "payload: y0");
            ToolRunner.Result index = SegmentDumps.dumpClean(partitionDir.resolve("00000000000000000000.txnindex"));
            assertThat(index.stdoutLines()).as(index.describe())
                    .contains("version: 0 producerId: 6000 firstOffset: 0 lastOffset: 2 lastStableOffset: 3");
        } finally {
            own.close();
        }
    }
}
