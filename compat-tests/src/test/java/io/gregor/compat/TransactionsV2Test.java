package io.gregor.compat;

import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.intercept.TraceRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Transactions v2 (KIP-890 part 2), which a stock 4.4 KafkaProducer uses against Gregor as against Kafka 4.4:
 * no AddPartitionsToTxn or AddOffsetsToTxn from the client (the partition leader and the group coordinator add
 * the partitions), EndTxn v5 bumping the epoch per transaction, read_committed visibility, fencing, and
 * consume-transform-produce offsets. Also the v1 verification of KIP-890 part 1 against a raw Produce v11.
 */
class TransactionsV2Test {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of());

    private static Admin admin;
    private static RequestTrace trace;

    @BeforeAll
    static void start() {
        admin = Clients.admin(BROKER.bootstrapServers());
        trace = BROKER.broker().broker().requestTrace();
        trace.setEnabled(true);
    }

    @AfterAll
    static void stop() {
        trace.setEnabled(false);
        admin.close();
    }

    private static KafkaProducer<String, String> transactionalProducer(String transactionalId) {
        return Clients.producer(BROKER.bootstrapServers(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.CLIENT_ID_CONFIG, transactionalId));
    }

    /** The requests a client sent, as the broker's trace recorded them. */
    private static List<TraceRecord> sentBy(String clientId) {
        return trace.entries().stream().filter(r -> clientId.equals(r.clientId())).toList();
    }

    private static List<Short> versionsOf(List<TraceRecord> records, ApiKeys api) {
        return records.stream().filter(r -> r.apiKey() == api.id).map(TraceRecord::apiVersion).toList();
    }

    private static List<String> committedValues(String topic, int partitions) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            List<TopicPartition> tps = Clients.partitions(topic, partitions);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            List<String> values = new ArrayList<>();
            await().atMost(Clients.TIMEOUT).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                }
                return tps.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
            });
            return values;
        }
    }

    private static TransactionDescription describe(String transactionalId) {
        return Clients.get(admin.describeTransactions(List.of(transactionalId)).description(transactionalId));
    }

    @Test
    void aStockProducerUsesTransactionsV2AndItsCommitsAloneAreVisible() {
        String topic = TestDirs.uniqueTopic("txn-v2");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 2);
        String id = topic + "-producer";
        try (KafkaProducer<String, String> producer = transactionalProducer(id)) {
            producer.initTransactions();
            int initialEpoch = describe(id).producerEpoch();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "committed-1"));
            producer.send(new ProducerRecord<>(topic, 1, "k", "committed-2"));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "aborted-1"));
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 1, "k", "committed-3"));
            producer.commitTransaction();

            await().atMost(Clients.TIMEOUT).until(() -> describe(id).state() == TransactionState.COMPLETE_COMMIT);
            assertThat(describe(id).producerEpoch()).as("EndTxn v5 bumps the epoch of every transaction")
                    .isEqualTo(initialEpoch + 3);
        }
        assertThat(committedValues(topic, 2)).containsExactlyInAnyOrder("committed-1", "committed-2", "committed-3");

        List<TraceRecord> sent = sentBy(id);
        assertThat(versionsOf(sent, ApiKeys.END_TXN)).hasSize(3).containsOnly((short) 5);
        assertThat(versionsOf(sent, ApiKeys.ADD_PARTITIONS_TO_TXN)).as("the leader adds the partitions").isEmpty();
        assertThat(versionsOf(sent, ApiKeys.PRODUCE)).isNotEmpty().allMatch(v -> v >= 12);
        assertThat(sent.stream().filter(r -> r.apiKey() == ApiKeys.END_TXN.id || r.apiKey() == ApiKeys.PRODUCE.id))
                .allMatch(r -> r.errorCodes().isEmpty() || r.errorCodes().equals(java.util.Set.of((short) 0)),
                        "no errors");
    }

    /**
     * A producer that pipelines (five requests in flight) sends several batches to a partition before the first
     * one's verification at the coordinator has answered: every transaction commits and is read whole.
     */
    @Test
    void pipelinedBatchesOfANewTransactionKeepTheirOrder() {
        String topic = TestDirs.uniqueTopic("txn-v2-pipelined");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 8);
        String value = "x".repeat(1024);
        int perTransaction = 2_000;
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(), Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, TestDirs.uniqueTopic("pipelined"),
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5, ProducerConfig.LINGER_MS_CONFIG, 0))) {
            producer.initTransactions();
            for (int txn = 0; txn < 3; txn++) {
                producer.beginTransaction();
                for (int i = 0; i < perTransaction; i++) {
                    producer.send(new ProducerRecord<>(topic, i % (txn == 0 ? 1 : 8), null, value));
                }
                producer.commitTransaction();
            }
        }
        assertThat(committedValues(topic, 8)).hasSize(3 * perTransaction);
    }

    @Test
    void aNewProducerFencesTheOldOneAndAbortsItsTransaction() {
        String topic = TestDirs.uniqueTopic("txn-v2-zombie");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        String id = topic + "-producer";
        try (KafkaProducer<String, String> zombie = transactionalProducer(id)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, "k", "from-zombie"));
            zombie.flush();
            try (KafkaProducer<String, String> successor = transactionalProducer(id)) {
                successor.initTransactions();
                assertThatThrownBy(() -> {
                    zombie.send(new ProducerRecord<>(topic, "k", "zombie-again")).get();
                    zombie.commitTransaction();
                }).satisfies(e -> assertThat(e instanceof ProducerFencedException
                        || e.getCause() instanceof ProducerFencedException
                        || e.getCause() instanceof InvalidProducerEpochException).as(e.toString()).isTrue());
                successor.beginTransaction();
                successor.send(new ProducerRecord<>(topic, "k", "from-successor"));
                successor.commitTransaction();
            }
        }
        assertThat(committedValues(topic, 1)).containsExactly("from-successor");
    }

    @Test
    void sendOffsetsToTransactionMovesTheGroupOnlyOnCommit() {
        String topic = TestDirs.uniqueTopic("txn-v2-offsets");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        String id = topic + "-producer";
        String group = topic + "-group";
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = transactionalProducer(id);
             KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                     Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "out-1"));
            producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(5)), consumer.groupMetadata());
            producer.commitTransaction();
            await().atMost(Clients.TIMEOUT).untilAsserted(() -> assertThat(Clients.get(
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())).containsEntry(tp,
                    new OffsetAndMetadata(5)));

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(9)), consumer.groupMetadata());
            producer.abortTransaction();
            await().atMost(Clients.TIMEOUT).until(() -> describe(id).state() == TransactionState.COMPLETE_ABORT);
            assertThat(Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()))
                    .as("the aborted round leaves the group's offset").containsEntry(tp, new OffsetAndMetadata(5));
        }
        List<TraceRecord> sent = sentBy(id);
        // v6 names the topic by id (KIP-1319), which the 4.4 producer sends once the broker serves it
        assertThat(versionsOf(sent, ApiKeys.TXN_OFFSET_COMMIT)).hasSize(2).containsOnly((short) 6);
        assertThat(versionsOf(sent, ApiKeys.ADD_OFFSETS_TO_TXN)).as("the group coordinator adds the partition").isEmpty();
    }

    @Test
    void aTransactionsV1ProduceToAPartitionNotInTheTransactionIsRefused() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-v1-verify");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        String id = topic + "-producer";
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(20))) {
            InitProducerIdResponseData init = raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(id).setTransactionTimeoutMs(30_000)
                            .setProducerId(-1).setProducerEpoch((short) -1), InitProducerIdResponseData::new);
            assertThat(init.errorCode()).isZero();
            // Produce v11 is transactions v1: the leader only verifies, and the client never added the partition
            MemoryRecords batch = MemoryRecords.withTransactionalRecords(Compression.NONE, init.producerId(),
                    init.producerEpoch(), 0, new SimpleRecord(System.currentTimeMillis(), null,
                            "unverified".getBytes(StandardCharsets.UTF_8)));
            ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000)
                    .setTransactionalId(id);
            ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName(topic);
            topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(batch));
            request.topicData().add(topicData);
            ProduceResponseData response = raw.roundTrip(ApiKeys.PRODUCE, (short) 11, request, ProduceResponseData::new);
            assertThat(response.responses().iterator().next().partitionResponses().get(0).errorCode())
                    .isEqualTo(Errors.INVALID_TXN_STATE.code());
        }
        assertThat(committedValues(topic, 1)).isEmpty();
    }
}
