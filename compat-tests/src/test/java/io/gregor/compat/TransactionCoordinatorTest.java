package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.utils.Utils;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The transaction coordinator as stock clients and tools see it: FindCoordinator(TRANSACTION),
 * InitProducerId with a transactional id, fencing, AddPartitionsToTxn, EndTxn, DescribeTransactions,
 * ListTransactions and Kafka's error codes for bad input.
 */
class TransactionCoordinatorTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of("transaction.max.timeout.ms", "60000"));

    private static Admin admin;

    @BeforeAll
    static void openAdmin() {
        admin = Clients.admin(BROKER.bootstrapServers());
    }

    @AfterAll
    static void closeAdmin() {
        admin.close();
    }

    private static KafkaProducer<String, String> transactionalProducer(String transactionalId) {
        return Clients.producer(BROKER.bootstrapServers(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000));
    }

    @Test
    void findCoordinatorNamesThisBrokerForATransactionalId() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(20))) {
            FindCoordinatorResponseData response = raw.roundTrip(ApiKeys.FIND_COORDINATOR, (short) 4,
                    new FindCoordinatorRequestData().setKeyType(CoordinatorType.TRANSACTION.id())
                            .setCoordinatorKeys(List.of("txn-a", "txn-b")), FindCoordinatorResponseData::new);
            assertThat(response.coordinators()).hasSize(2).allSatisfy(c -> {
                assertThat(c.errorCode()).isEqualTo(Errors.NONE.code());
                assertThat(c.port()).isEqualTo(BROKER.broker().port());
            });
        }
        assertThat(Clients.get(admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true))
                .names())).contains("__transaction_state");
        assertThat(Clients.get(admin.describeTopics(List.of("__transaction_state")).allTopicNames())
                .get("__transaction_state").partitions()).hasSize(50);
        // Kafka's defaults (rf 3, min.isr 2) bounded by the one live broker, so a single broker can write it
        org.apache.kafka.clients.admin.Config configs = Clients.get(admin.describeConfigs(List.of(
                new ConfigResource(ConfigResource.Type.TOPIC, "__transaction_state"))).all())
                .get(new ConfigResource(ConfigResource.Type.TOPIC, "__transaction_state"));
        assertThat(configs.get("cleanup.policy").value()).isEqualTo("compact");
        assertThat(configs.get("min.insync.replicas").value()).isEqualTo("1");
        assertThat(configs.get("segment.bytes").value()).isEqualTo("104857600");
    }

    @Test
    void apiVersionsOfferTransactionsV2AsKafka44Does() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(20))) {
            ApiVersionsResponseData versions = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"),
                    ApiVersionsResponseData::new);
            // the 4.x Java producer uses transactions v2 only with EndTxn v5 and transaction.version >= 2 finalized
            assertThat(versions.apiKeys().find(ApiKeys.END_TXN.id).maxVersion()).isEqualTo((short) 5);
            assertThat(versions.finalizedFeatures().find("transaction.version").maxVersionLevel()).isEqualTo((short) 2);
            // v3 asks: clients before v4 cannot parse a supported minimum of 0 (KAFKA-17011), so Kafka says 1
            assertThat(versions.supportedFeatures().find("transaction.version").minVersion()).isEqualTo((short) 1);
            assertThat(versions.supportedFeatures().find("transaction.version").maxVersion()).isEqualTo((short) 2);
            assertThat(versions.finalizedFeaturesEpoch()).isPositive();
            for (ApiKeys api : List.of(ApiKeys.INIT_PRODUCER_ID, ApiKeys.ADD_PARTITIONS_TO_TXN, ApiKeys.ADD_OFFSETS_TO_TXN,
                    ApiKeys.TXN_OFFSET_COMMIT, ApiKeys.WRITE_TXN_MARKERS, ApiKeys.DESCRIBE_TRANSACTIONS,
                    ApiKeys.LIST_TRANSACTIONS)) {
                assertThat(versions.apiKeys().find(api.id)).as("%s advertised", api).isNotNull();
            }
            ApiVersionsResponseData v4 = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 4,
                    new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"),
                    ApiVersionsResponseData::new);
            assertThat(v4.supportedFeatures().find("transaction.version").minVersion()).isZero();
        }
    }

    @Test
    void initTransactionsThenAnOngoingTransactionIsDescribedAndListed() {
        String id = TestDirs.uniqueTopic("txn-describe");
        String topic = TestDirs.uniqueTopic("txn-describe-topic");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 2);
        try (KafkaProducer<String, String> producer = transactionalProducer(id)) {
            producer.initTransactions();
            TransactionDescription empty = Clients.get(admin.describeTransactions(List.of(id)).description(id));
            assertThat(empty.state()).isEqualTo(TransactionState.EMPTY);
            assertThat(empty.producerEpoch()).isZero();
            assertThat(empty.transactionTimeoutMs()).isEqualTo(30_000);
            assertThat(empty.topicPartitions()).isEmpty();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 1, "k", "v"));
            producer.flush();
            TransactionDescription ongoing = Clients.get(admin.describeTransactions(List.of(id)).description(id));
            assertThat(ongoing.state()).isEqualTo(TransactionState.ONGOING);
            assertThat(ongoing.topicPartitions()).containsExactly(new TopicPartition(topic, 1));
            assertThat(ongoing.producerId()).isEqualTo(empty.producerId());
            assertThat(ongoing.transactionStartTimeMs()).isPresent();

            Collection<TransactionListing> listed = Clients.get(admin.listTransactions(
                    new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING))).all());
            assertThat(listed).anySatisfy(l -> {
                assertThat(l.transactionalId()).isEqualTo(id);
                assertThat(l.producerId()).isEqualTo(empty.producerId());
                assertThat(l.state()).isEqualTo(TransactionState.ONGOING);
            });
            assertThat(Clients.get(admin.listTransactions(new ListTransactionsOptions()
                    .filterProducerIds(List.of(empty.producerId() + 1_000_000))).all())).isEmpty();
            assertThat(Clients.get(admin.listTransactions(new ListTransactionsOptions()
                    .filterOnDuration(3_600_000)).all())).noneMatch(l -> l.transactionalId().equals(id));
        }
    }

    @Test
    void aSecondProducerWithTheSameTransactionalIdFencesTheFirst() {
        String id = TestDirs.uniqueTopic("txn-fence");
        String topic = TestDirs.uniqueTopic("txn-fence-topic");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> zombie = transactionalProducer(id)) {
            zombie.initTransactions();
            try (KafkaProducer<String, String> successor = transactionalProducer(id)) {
                successor.initTransactions();
                TransactionDescription d = Clients.get(admin.describeTransactions(List.of(id)).description(id));
                assertThat(d.producerEpoch()).as("each initTransactions bumps the epoch").isEqualTo(1);

                zombie.beginTransaction();
                assertThatThrownBy(() -> {
                    zombie.send(new ProducerRecord<>(topic, "k", "zombie")).get();
                    zombie.commitTransaction();
                    // transactions v2: the leader's AddPartitionsToTxn is fenced, which Produce reports as
                    // INVALID_PRODUCER_EPOCH (as Kafka maps it); v1 clients see PRODUCER_FENCED from their own call
                }).satisfies(e -> assertThat(e instanceof ProducerFencedException || e.getCause() instanceof ProducerFencedException
                        || e.getCause() instanceof InvalidProducerEpochException).as(e.toString()).isTrue());
            }
        }
    }

    @Test
    void badInputGetsKafkasErrorCodes() throws Exception {
        String id = TestDirs.uniqueTopic("txn-bad");
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(20))) {
            InitProducerIdResponseData tooLong = raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(id).setTransactionTimeoutMs(60_001)
                            .setProducerId(-1).setProducerEpoch((short) -1), InitProducerIdResponseData::new);
            assertThat(tooLong.errorCode()).isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT.code());

            InitProducerIdResponseData first = initProducerId(raw, id);
            assertThat(first.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(first.producerEpoch()).isZero();
            InitProducerIdResponseData second = initProducerId(raw, id);
            assertThat(second.producerId()).isEqualTo(first.producerId());
            assertThat(second.producerEpoch()).isEqualTo((short) 1);

            EndTxnResponseData noTxn = raw.roundTrip(ApiKeys.END_TXN, (short) 3, new EndTxnRequestData()
                    .setTransactionalId(id).setProducerId(second.producerId()).setProducerEpoch(second.producerEpoch())
                    .setCommitted(true), EndTxnResponseData::new);
            assertThat(noTxn.errorCode()).as("EndTxn without a transaction").isEqualTo(Errors.INVALID_TXN_STATE.code());

            EndTxnResponseData stale = raw.roundTrip(ApiKeys.END_TXN, (short) 3, new EndTxnRequestData()
                    .setTransactionalId(id).setProducerId(first.producerId()).setProducerEpoch(first.producerEpoch())
                    .setCommitted(true), EndTxnResponseData::new);
            assertThat(stale.errorCode()).as("stale epoch").isEqualTo(Errors.PRODUCER_FENCED.code());
            EndTxnResponseData staleV1 = raw.roundTrip(ApiKeys.END_TXN, (short) 1, new EndTxnRequestData()
                    .setTransactionalId(id).setProducerId(first.producerId()).setProducerEpoch(first.producerEpoch())
                    .setCommitted(true), EndTxnResponseData::new);
            assertThat(staleV1.errorCode()).as("stale epoch, old client").isEqualTo(Errors.INVALID_PRODUCER_EPOCH.code());

            EndTxnResponseData unknownId = raw.roundTrip(ApiKeys.END_TXN, (short) 3, new EndTxnRequestData()
                    .setTransactionalId(id + "-unknown").setProducerId(first.producerId()).setProducerEpoch((short) 0)
                    .setCommitted(false), EndTxnResponseData::new);
            assertThat(unknownId.errorCode()).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING.code());

            String existing = TestDirs.uniqueTopic("txn-bad-topic");
            Clients.createTopic(BROKER.bootstrapServers(), existing, 1);
            AddPartitionsToTxnRequestData add = AddPartitionsToTxnRequest.Builder.forClient(id, second.producerId(),
                    second.producerEpoch(), List.of(new TopicPartition(existing, 0), new TopicPartition("no-such-topic", 0)))
                    .data;
            AddPartitionsToTxnResponseData added = raw.roundTrip(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 3, add,
                    AddPartitionsToTxnResponseData::new);
            assertThat(AddPartitionsToTxnResponse.errorsForTransaction(added.resultsByTopicV3AndBelow())).isEqualTo(Map.of(
                    new TopicPartition(existing, 0), Errors.OPERATION_NOT_ATTEMPTED,
                    new TopicPartition("no-such-topic", 0), Errors.UNKNOWN_TOPIC_OR_PARTITION));

            DescribeTransactionsResponseData described = raw.roundTrip(ApiKeys.DESCRIBE_TRANSACTIONS, (short) 0,
                    new DescribeTransactionsRequestData().setTransactionalIds(List.of(id + "-unknown")),
                    DescribeTransactionsResponseData::new);
            assertThat(described.transactionStates().get(0).errorCode())
                    .isEqualTo(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
        }
        assertThatThrownBy(() -> admin.describeTransactions(List.of(id + "-unknown")).description(id + "-unknown").get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TransactionalIdNotFoundException.class);
        try (KafkaProducer<String, String> tooLong = Clients.producer(BROKER.bootstrapServers(), Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, id + "-too-long", ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 120_000))) {
            // the client reports INVALID_TRANSACTION_TIMEOUT with its message, as against Kafka
            assertThatThrownBy(tooLong::initTransactions).isInstanceOf(KafkaException.class)
                    .hasMessageContaining("transaction.max.timeout.ms");
        }
    }

    private static InitProducerIdResponseData initProducerId(RawKafkaConnection raw, String id) throws Exception {
        return raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4, new InitProducerIdRequestData().setTransactionalId(id)
                .setTransactionTimeoutMs(10_000).setProducerId(-1).setProducerEpoch((short) -1),
                InitProducerIdResponseData::new);
    }

    @Test
    void kafkasTransactionLogFormatterDecodesTheStateTopic() {
        String id = TestDirs.uniqueTopic("txn-formatter");
        String topic = TestDirs.uniqueTopic("txn-formatter-topic");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = transactionalProducer(id)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "v"));
            producer.commitTransaction();
        }
        int partition = Utils.abs(id.hashCode()) % 50;
        ToolRunner.Result run = ToolRunner.runTool(ToolRunner.CONSOLE_CONSUMER, "--bootstrap-server",
                BROKER.bootstrapServers(), "--topic", "__transaction_state", "--partition", Integer.toString(partition),
                "--offset", "earliest", "--formatter", "org.apache.kafka.tools.consumer.TransactionLogMessageFormatter",
                "--timeout-ms", "5000");
        // the formatter prints one JSON object per record with no separator between them
        List<String> ours = java.util.Arrays.stream(run.stdout().split("(?<=\\}\\}\\})(?=\\{\"key\")"))
                .filter(l -> l.contains("\"transactionalId\":\"" + id + "\"")).toList();
        assertThat(ours).as(run.describe()).hasSize(4);
        assertThat(ours.get(0)).contains("\"key\":{\"type\":0,").contains("\"value\":{\"version\":0,")
                .contains("\"transactionStatus\":\"Empty\"").contains("\"transactionTimeoutMs\":30000");
        assertThat(ours.get(1)).contains("\"transactionStatus\":\"Ongoing\"").contains("\"topic\":\"" + topic + "\"");
        assertThat(ours.get(2)).contains("\"transactionStatus\":\"PrepareCommit\"");
        assertThat(ours.get(3)).contains("\"transactionStatus\":\"CompleteCommit\"");
    }

    @Test
    void brokerFormOfAddPartitionsToTxnAndKip360Recovery() throws Exception {
        String id = TestDirs.uniqueTopic("txn-batched");
        String topic = TestDirs.uniqueTopic("txn-batched-topic");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 2);
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(20))) {
            InitProducerIdResponseData init = initProducerId(raw, id);
            TopicPartition p0 = new TopicPartition(topic, 0);
            TopicPartition p1 = new TopicPartition(topic, 1);
            AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection txns =
                    new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection();
            txns.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction().setTransactionalId(id)
                    .setProducerId(init.producerId()).setProducerEpoch(init.producerEpoch()).setVerifyOnly(false)
                    .setTopics(AddPartitionsToTxnRequest.Builder.forClient(id, 0, (short) 0, List.of(p0)).data.v3AndBelowTopics()));
            AddPartitionsToTxnResponseData added = raw.roundTrip(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 4,
                    new AddPartitionsToTxnRequestData().setTransactions(txns), AddPartitionsToTxnResponseData::new);
            assertThat(AddPartitionsToTxnResponse.errorsForTransaction(
                    added.resultsByTransaction().find(id).topicResults())).isEqualTo(Map.of(p0, Errors.NONE));

            AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection verify =
                    new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection();
            verify.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction().setTransactionalId(id)
                    .setProducerId(init.producerId()).setProducerEpoch(init.producerEpoch()).setVerifyOnly(true)
                    .setTopics(AddPartitionsToTxnRequest.Builder.forClient(id, 0, (short) 0, List.of(p0, p1)).data.v3AndBelowTopics()));
            AddPartitionsToTxnResponseData verified = raw.roundTrip(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 5,
                    new AddPartitionsToTxnRequestData().setTransactions(verify), AddPartitionsToTxnResponseData::new);
            assertThat(AddPartitionsToTxnResponse.errorsForTransaction(verified.resultsByTransaction().find(id).topicResults()))
                    .isEqualTo(Map.of(p0, Errors.NONE, p1, Errors.INVALID_TXN_STATE));

            // KIP-360: after aborting, the producer names its own id and epoch and gets the next epoch
            EndTxnResponseData aborted = raw.roundTrip(ApiKeys.END_TXN, (short) 3, new EndTxnRequestData()
                    .setTransactionalId(id).setProducerId(init.producerId()).setProducerEpoch(init.producerEpoch())
                    .setCommitted(false), EndTxnResponseData::new);
            assertThat(aborted.errorCode()).isEqualTo(Errors.NONE.code());
            InitProducerIdRequestData recover = new InitProducerIdRequestData().setTransactionalId(id)
                    .setTransactionTimeoutMs(10_000).setProducerId(init.producerId()).setProducerEpoch(init.producerEpoch());
            InitProducerIdResponseData recovered = Awaitility.await().atMost(Clients.TIMEOUT).until(
                    () -> raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4, recover, InitProducerIdResponseData::new),
                    r -> r.errorCode() != Errors.CONCURRENT_TRANSACTIONS.code());
            assertThat(recovered.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(recovered.producerId()).isEqualTo(init.producerId());
            assertThat(recovered.producerEpoch()).isEqualTo((short) (init.producerEpoch() + 1));
            // the same request again is a retry of a bump whose answer was lost: the same epoch comes back
            InitProducerIdResponseData retried = raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4, recover,
                    InitProducerIdResponseData::new);
            assertThat(retried.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(retried.producerEpoch()).isEqualTo(recovered.producerEpoch());
            InitProducerIdResponseData wrongId = raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(id).setTransactionTimeoutMs(10_000)
                            .setProducerId(init.producerId() + 12345).setProducerEpoch((short) 0),
                    InitProducerIdResponseData::new);
            assertThat(wrongId.errorCode()).isEqualTo(Errors.PRODUCER_FENCED.code());
        }
    }

    @Test
    void transactionStateSurvivesARestart() {
        try (TestBroker broker = TestBroker.start("txn-restart", Map.of())) {
            String id = "restarted-txn";
            String topic = TestDirs.uniqueTopic("txn-restart-topic");
            Clients.createTopic(broker.bootstrapServers(), topic, 1);
            long producerId;
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, id))) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, "k", "v"));
                producer.commitTransaction();
            }
            try (Admin a = Clients.admin(broker.bootstrapServers())) {
                Awaitility.await().atMost(Clients.TIMEOUT).until(() -> Clients.get(a.describeTransactions(List.of(id))
                        .description(id)).state() == TransactionState.COMPLETE_COMMIT);
                producerId = Clients.get(a.describeTransactions(List.of(id)).description(id)).producerId();
            }
            broker.restart();
            try (Admin a = Clients.admin(broker.bootstrapServers())) {
                TransactionDescription loaded = Clients.get(a.describeTransactions(List.of(id)).description(id));
                assertThat(loaded.state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
                assertThat(loaded.producerId()).isEqualTo(producerId);
                assertThat(loaded.producerEpoch()).as("transactions v2 bumped the epoch at the commit").isEqualTo((short) 1);
            }
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, id))) {
                producer.initTransactions();
            }
            try (Admin a = Clients.admin(broker.bootstrapServers())) {
                TransactionDescription bumped = Clients.get(a.describeTransactions(List.of(id)).description(id));
                assertThat(bumped.producerId()).as("the id keeps its producer id").isEqualTo(producerId);
                assertThat(bumped.producerEpoch()).isEqualTo((short) 2);
            }
        }
    }

    @Test
    void kafkaTransactionsToolListsAndDescribes() {
        String id = TestDirs.uniqueTopic("txn-tool");
        try (KafkaProducer<String, String> producer = transactionalProducer(id)) {
            producer.initTransactions();
            ToolRunner.Result list = ToolRunner.runTool("org.apache.kafka.tools.TransactionsCommand",
                    "--bootstrap-server", BROKER.bootstrapServers(), "list");
            assertThat(list.exitCode()).as(list.describe()).isZero();
            assertThat(list.stdout()).as(list.describe()).contains(id).contains("Empty");

            ToolRunner.Result describe = ToolRunner.runTool("org.apache.kafka.tools.TransactionsCommand",
                    "--bootstrap-server", BROKER.bootstrapServers(), "describe", "--transactional-id", id);
            assertThat(describe.exitCode()).as(describe.describe()).isZero();
            assertThat(describe.stdout()).as(describe.describe()).contains(id).contains("Empty").contains("30000");
        }
    }
}
