package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The stock kafka-transactions.sh finds and aborts a hanging transaction: a transactional batch on a partition
 * whose coordinator never heard of the transaction (the situation KIP-890 prevents, made here with verification
 * off and a raw Produce), which holds the last stable offset back. {@code find-hanging} combines
 * DescribeProducers with ListTransactions and DescribeTransactions; {@code abort} writes the abort marker
 * through the admin client's WriteTxnMarkers, which the leader accepts as Kafka does.
 */
class HangingTransactionToolTest {
    private static final String TOOL = "org.apache.kafka.tools.TransactionsCommand";
    private static final long PRODUCER_ID = 77_000;

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of(
            "transaction.partition.verification.enable", "false"));

    @Test
    void findHangingListsTheTransactionAndAbortReleasesTheLastStableOffset() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-hanging");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        // written an hour ago as far as its timestamps tell: longer than any transaction may run
        long longAgo = System.currentTimeMillis() - Duration.ofHours(1).toMillis();
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(20))) {
            MemoryRecords batch = MemoryRecords.withTransactionalRecords(Compression.NONE, PRODUCER_ID, (short) 3, 0,
                    new SimpleRecord(longAgo, null, "hanging".getBytes(StandardCharsets.UTF_8)));
            ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000)
                    .setTransactionalId("forgotten-by-its-coordinator");
            ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName(topic);
            topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(batch));
            request.topicData().add(topicData);
            ProduceResponseData response = raw.roundTrip(ApiKeys.PRODUCE, (short) 9, request, ProduceResponseData::new);
            assertThat(response.responses().iterator().next().partitionResponses().get(0).errorCode()).isZero();
        }
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            assertThat(lastStableOffset(admin, tp)).as("the open transaction holds the LSO").isZero();

            ToolRunner.Result hanging = ToolRunner.runTool(TOOL, "--bootstrap-server", BROKER.bootstrapServers(),
                    "find-hanging", "--broker-id", String.valueOf(BROKER.broker().broker().brokerId()));
            assertThat(hanging.exitCode()).as(hanging.describe()).isZero();
            assertThat(hanging.stdout()).as(hanging.describe()).contains(topic).contains(String.valueOf(PRODUCER_ID));

            ToolRunner.Result abort = ToolRunner.runTool(TOOL, "--bootstrap-server", BROKER.bootstrapServers(),
                    "abort", "--topic", topic, "--partition", "0", "--start-offset", "0");
            assertThat(abort.exitCode()).as(abort.describe()).isZero();

            await().atMost(Clients.TIMEOUT).untilAsserted(() ->
                    assertThat(lastStableOffset(admin, tp)).as("the marker ends the transaction").isEqualTo(2));
            List<ProducerState> producers = Clients.get(admin.describeProducers(List.of(tp)).partitionResult(tp))
                    .activeProducers();
            assertThat(producers).filteredOn(p -> p.producerId() == PRODUCER_ID).singleElement()
                    .satisfies(p -> assertThat(p.currentTransactionStartOffset()).isEmpty());

            ToolRunner.Result none = ToolRunner.runTool(TOOL, "--bootstrap-server", BROKER.bootstrapServers(),
                    "find-hanging", "--topic", topic);
            assertThat(none.exitCode()).as(none.describe()).isZero();
            assertThat(none.stdout()).as(none.describe()).doesNotContain(String.valueOf(PRODUCER_ID));
        }
        try (var consumer = Clients.consumer(BROKER.bootstrapServers(), Map.of("isolation.level", "read_committed"))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> seen = new java.util.ArrayList<>();
            await().atMost(Clients.TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
                return consumer.position(tp) >= 2;
            });
            assertThat(seen).as("aborted records stay hidden").isEmpty();
        }
    }

    private static long lastStableOffset(Admin admin, TopicPartition tp) {
        return Clients.get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).partitionResult(tp)).offset();
    }
}
