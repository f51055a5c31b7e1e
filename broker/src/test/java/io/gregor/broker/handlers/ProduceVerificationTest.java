package io.gregor.broker.handlers;

import io.gregor.broker.replica.Partition;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * KIP-890 part 1 at the partition leader, on real logs: a transactional produce is verified with the coordinator
 * and appended only if no marker ended the producer's transaction while the answer was on its way (Kafka's
 * VerificationStateEntry); otherwise INVALID_TXN_STATE and nothing written.
 */
class ProduceVerificationTest {
    private static final long PID = 7000;
    private static final short EPOCH = 2;

    @TempDir
    Path dir;
    private RealTopics real;

    @AfterEach
    void close() {
        if (real != null) {
            real.close();
        }
    }

    /** A coordinator whose answers the test gives. */
    private final List<CompletableFuture<Errors>> verifications = new ArrayList<>();

    private ProduceHandler handler() {
        real = new RealTopics(dir, Map.of());
        new TopicAdminHandler(real.topics, real.config).createTopics(new CreateTopicsRequestData().setTopics(
                new CreateTopicsRequestData.CreatableTopicCollection(List.of(new CreateTopicsRequestData.CreatableTopic()
                        .setName("orders").setNumPartitions(1).setReplicationFactor((short) -1)).iterator())), (short) 7);
        return new ProduceHandler(real.topics, org.apache.kafka.common.utils.Time.SYSTEM,
                (transactionalId, producerId, producerEpoch, partition, verifyOnly) -> {
                    CompletableFuture<Errors> answer = new CompletableFuture<>();
                    verifications.add(answer);
                    return answer;
                }, true, io.gregor.broker.metrics.BrokerMetrics.create(1, org.apache.kafka.common.utils.Time.SYSTEM).topics());
    }

    private Partition partition() {
        return real.topics.partition("orders", 0).orElseThrow();
    }

    private static ProduceRequestData transactionalProduce(int sequence) {
        MemoryRecords records = MemoryRecords.withTransactionalRecords(Compression.NONE, PID, EPOCH, sequence,
                new SimpleRecord(1L, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8)));
        ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(5000)
                .setTransactionalId("txn-writer");
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("orders");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
        data.topicData().add(topic);
        return data;
    }

    private static Errors errorOf(CompletionStage<ProduceResponseData> answer) throws Exception {
        ProduceResponseData response = answer.toCompletableFuture().get(10, TimeUnit.SECONDS);
        return Errors.forCode(response.responses().iterator().next().partitionResponses().get(0).errorCode());
    }

    @Test
    void aVerificationAnsweredAfterAMarkerEndedTheTransactionAppendsNothing() throws Exception {
        ProduceHandler handler = handler();
        // v11: transactions v1, verified because transaction.partition.verification.enable is on (the default)
        CompletionStage<ProduceResponseData> answer = handler.produce(transactionalProduce(0), (short) 11, "client");
        assertThat(verifications).hasSize(1);
        assertThat(answer.toCompletableFuture()).isNotDone();

        // the coordinator aborts the transaction (it timed out) and its marker reaches the partition first
        partition().appendTxnMarker(PID, EPOCH, 0, false, 0, System.currentTimeMillis());
        long endBefore = partition().log().logEndOffset();
        verifications.get(0).complete(Errors.NONE); // the answer it gave before the abort

        assertThat(errorOf(answer)).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(partition().log().logEndOffset()).isEqualTo(endBefore);
        assertThat(partition().log().hasOngoingTransaction(PID, EPOCH)).as("no transaction left hanging").isFalse();
    }

    @Test
    void aVerifiedAppendLandsAndLaterBatchesOfTheTransactionNeedNoVerification() throws Exception {
        ProduceHandler handler = handler();
        CompletionStage<ProduceResponseData> first = handler.produce(transactionalProduce(0), (short) 11, "client");
        verifications.get(0).complete(Errors.NONE);
        assertThat(errorOf(first)).isEqualTo(Errors.NONE);
        assertThat(partition().log().hasOngoingTransaction(PID, EPOCH)).isTrue();

        assertThat(errorOf(handler.produce(transactionalProduce(1), (short) 11, "client"))).isEqualTo(Errors.NONE);
        assertThat(verifications).hasSize(1);

        // once a marker ends the transaction, an unverified batch cannot reopen it
        partition().appendTxnMarker(PID, EPOCH, 0, true, 0, System.currentTimeMillis());
        CompletionStage<ProduceResponseData> next = handler.produce(transactionalProduce(2), (short) 11, "client");
        assertThat(verifications).as("the next transaction is verified again").hasSize(2);
        verifications.get(1).complete(Errors.NONE);
        assertThat(errorOf(next)).isEqualTo(Errors.NONE);
        assertThat(partition().log().hasOngoingTransaction(PID, EPOCH)).isTrue();
    }
}
