package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TxnOffsetCommit below v5 (a transactions-v1 client: librdkafka, kafkajs, older Java clients) under
 * transaction.partition.verification.enable=true, Kafka's default: the broker asks the transaction coordinator
 * whether AddOffsetsToTxn put the group's offsets partition into the producer's ongoing transaction, and refuses
 * the commit with INVALID_TXN_STATE when it did not, so no offset lands outside a transaction.
 */
class TxnOffsetCommitVerificationTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of());

    private static final short TXN_OFFSET_COMMIT_V1_CLIENT = 3;

    private static TxnOffsetCommitRequestData commit(String transactionalId, String group, InitProducerIdResponseData ids,
                                                     String topic, long offset) {
        TxnOffsetCommitRequestData data = new TxnOffsetCommitRequestData().setTransactionalId(transactionalId)
                .setGroupId(group).setProducerId(ids.producerId()).setProducerEpoch(ids.producerEpoch())
                .setGenerationIdOrMemberEpoch(-1).setMemberId("");
        data.topics().add(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(topic)
                .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                        .setPartitionIndex(0).setCommittedOffset(offset).setCommittedLeaderEpoch(-1))));
        return data;
    }

    private static Errors errorOf(TxnOffsetCommitResponseData response) {
        return Errors.forCode(response.topics().get(0).partitions().get(0).errorCode());
    }

    @Test
    void aCommitOutsideTheTransactionIsRefusedAndOneInsideItLandsWithTheCommit() throws Exception {
        String topic = TestDirs.uniqueTopic("txn-offsets-in");
        String group = TestDirs.uniqueTopic("txn-offsets-group");
        String transactionalId = TestDirs.uniqueTopic("txn-offsets-v1");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(20));
             Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            InitProducerIdResponseData ids = raw.roundTrip(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(transactionalId).setTransactionTimeoutMs(30_000)
                            .setProducerId(-1).setProducerEpoch((short) -1), InitProducerIdResponseData::new);
            assertThat(ids.errorCode()).isEqualTo(Errors.NONE.code());

            // no AddOffsetsToTxn: the offsets partition is in no transaction of this producer
            TxnOffsetCommitResponseData outside = raw.roundTrip(ApiKeys.TXN_OFFSET_COMMIT, TXN_OFFSET_COMMIT_V1_CLIENT,
                    commit(transactionalId, group, ids, topic, 17), TxnOffsetCommitResponseData::new);
            assertThat(errorOf(outside)).isEqualTo(Errors.INVALID_TXN_STATE);

            AddOffsetsToTxnResponseData added = raw.roundTrip(ApiKeys.ADD_OFFSETS_TO_TXN, (short) 3,
                    new AddOffsetsToTxnRequestData().setTransactionalId(transactionalId).setProducerId(ids.producerId())
                            .setProducerEpoch(ids.producerEpoch()).setGroupId(group), AddOffsetsToTxnResponseData::new);
            assertThat(added.errorCode()).isEqualTo(Errors.NONE.code());
            TxnOffsetCommitResponseData inside = raw.roundTrip(ApiKeys.TXN_OFFSET_COMMIT, TXN_OFFSET_COMMIT_V1_CLIENT,
                    commit(transactionalId, group, ids, topic, 42), TxnOffsetCommitResponseData::new);
            assertThat(errorOf(inside)).isEqualTo(Errors.NONE);
            EndTxnResponseData ended = raw.roundTrip(ApiKeys.END_TXN, (short) 3, new EndTxnRequestData()
                    .setTransactionalId(transactionalId).setProducerId(ids.producerId())
                    .setProducerEpoch(ids.producerEpoch()).setCommitted(true), EndTxnResponseData::new);
            assertThat(ended.errorCode()).isEqualTo(Errors.NONE.code());

            await("the committed offset").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()))
                            .containsEntry(tp, new OffsetAndMetadata(42, java.util.Optional.empty(), "")));

            // the transaction is over: a late commit with its epoch is refused again
            TxnOffsetCommitResponseData late = raw.roundTrip(ApiKeys.TXN_OFFSET_COMMIT, TXN_OFFSET_COMMIT_V1_CLIENT,
                    commit(transactionalId, group, ids, topic, 99), TxnOffsetCommitResponseData::new);
            assertThat(errorOf(late)).isEqualTo(Errors.INVALID_TXN_STATE);
            assertThat(Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()).get(tp).offset())
                    .isEqualTo(42);
        }
    }
}
