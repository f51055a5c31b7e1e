package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteShareGroupStateRequestData;
import org.apache.kafka.common.message.DeleteShareGroupStateResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.InitializeShareGroupStateRequestData;
import org.apache.kafka.common.message.InitializeShareGroupStateResponseData;
import org.apache.kafka.common.message.ReadShareGroupStateRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateResponseData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryResponseData;
import org.apache.kafka.common.message.WriteShareGroupStateRequestData;
import org.apache.kafka.common.message.WriteShareGroupStateResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The share coordinator's state RPCs as a share-partition leader sends them (KIP-932), raw on the wire:
 * initialize, read (which records the reader's leader epoch), write, read summary and delete, with Kafka's
 * fencing by state epoch (FENCED_STATE_EPOCH) and leader epoch (FENCED_LEADER_EPOCH) and its errors for bad input.
 */
class ShareGroupStateRpcTest {
    private static TestBroker broker;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("share-state-rpc", GroupTestSupport.BROKER_OVERRIDES);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Errors initialize(RawKafkaConnection raw, String group, Uuid topicId, int stateEpoch, long start)
            throws Exception {
        InitializeShareGroupStateRequestData r = new InitializeShareGroupStateRequestData().setGroupId(group);
        r.topics().add(new InitializeShareGroupStateRequestData.InitializeStateData().setTopicId(topicId)
                .setPartitions(List.of(new InitializeShareGroupStateRequestData.PartitionData().setPartition(0)
                        .setStateEpoch(stateEpoch).setStartOffset(start))));
        InitializeShareGroupStateResponseData a = raw.roundTrip(ApiKeys.INITIALIZE_SHARE_GROUP_STATE, (short) 0, r,
                InitializeShareGroupStateResponseData::new);
        return Errors.forCode(a.results().get(0).partitions().get(0).errorCode());
    }

    private static ReadShareGroupStateResponseData.PartitionResult read(RawKafkaConnection raw, String group,
                                                                         Uuid topicId, int leaderEpoch) throws Exception {
        ReadShareGroupStateRequestData r = new ReadShareGroupStateRequestData().setGroupId(group);
        r.topics().add(new ReadShareGroupStateRequestData.ReadStateData().setTopicId(topicId)
                .setPartitions(List.of(new ReadShareGroupStateRequestData.PartitionData().setPartition(0)
                        .setLeaderEpoch(leaderEpoch))));
        return raw.roundTrip(ApiKeys.READ_SHARE_GROUP_STATE, (short) 0, r, ReadShareGroupStateResponseData::new)
                .results().get(0).partitions().get(0);
    }

    private static Errors write(RawKafkaConnection raw, String group, Uuid topicId, int stateEpoch, int leaderEpoch,
                                long start, WriteShareGroupStateRequestData.StateBatch... batches) throws Exception {
        WriteShareGroupStateRequestData r = new WriteShareGroupStateRequestData().setGroupId(group);
        r.topics().add(new WriteShareGroupStateRequestData.WriteStateData().setTopicId(topicId)
                .setPartitions(List.of(new WriteShareGroupStateRequestData.PartitionData().setPartition(0)
                        .setStateEpoch(stateEpoch).setLeaderEpoch(leaderEpoch).setStartOffset(start)
                        .setStateBatches(List.of(batches)))));
        WriteShareGroupStateResponseData a = raw.roundTrip(ApiKeys.WRITE_SHARE_GROUP_STATE, (short) 1, r,
                WriteShareGroupStateResponseData::new);
        return Errors.forCode(a.results().get(0).partitions().get(0).errorCode());
    }

    private static WriteShareGroupStateRequestData.StateBatch batch(long first, long last, int state, int count) {
        return new WriteShareGroupStateRequestData.StateBatch().setFirstOffset(first).setLastOffset(last)
                .setDeliveryState((byte) state).setDeliveryCount((short) count);
    }

    @Test
    void stateIsInitializedReadWrittenAndFencedAsKafkaDoes() throws Exception {
        String topic = TestDirs.uniqueTopic("state-rpc");
        String group = topic + "-group";
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        Uuid topicId;
        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            topicId = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId();
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(30))) {
            // a lone broker leads every __share_group_state partition: it coordinates every key
            FindCoordinatorResponseData found = raw.roundTrip(ApiKeys.FIND_COORDINATOR, (short) 6,
                    new FindCoordinatorRequestData().setKeyType(FindCoordinatorRequest.CoordinatorType.SHARE.id())
                            .setCoordinatorKeys(List.of(group + ":" + topicId + ":0", "not-a-share-key")),
                    FindCoordinatorResponseData::new);
            assertThat(found.coordinators().get(0).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(found.coordinators().get(0).port()).isEqualTo(broker.port());
            assertThat(Errors.forCode(found.coordinators().get(1).errorCode())).isEqualTo(Errors.INVALID_REQUEST);

            assertThat(read(raw, group, topicId, 0).startOffset()).as("never initialized").isEqualTo(-1L);
            assertThat(initialize(raw, group, topicId, 2, 5)).isEqualTo(Errors.NONE);
            ReadShareGroupStateResponseData.PartitionResult state = read(raw, group, topicId, 3);
            assertThat(Errors.forCode(state.errorCode())).isEqualTo(Errors.NONE);
            assertThat(state.startOffset()).isEqualTo(5L);
            assertThat(state.stateEpoch()).isEqualTo(2);

            // a write from before an offset reset, and one of a former partition leader (the read recorded epoch 3)
            assertThat(write(raw, group, topicId, 1, 3, 5)).isEqualTo(Errors.FENCED_STATE_EPOCH);
            assertThat(write(raw, group, topicId, 2, 2, 5)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
            assertThat(Errors.forCode(read(raw, group, topicId, 1).errorCode())).isEqualTo(Errors.FENCED_LEADER_EPOCH);

            // batches written replace the stored ones where they overlap
            assertThat(write(raw, group, topicId, 2, 3, 5, batch(5, 9, 0, 1))).isEqualTo(Errors.NONE);
            assertThat(write(raw, group, topicId, 2, 3, -1, batch(6, 7, 2, 1))).isEqualTo(Errors.NONE);
            state = read(raw, group, topicId, 3);
            assertThat(state.startOffset()).isEqualTo(5L);
            assertThat(state.stateBatches()).extracting(b -> b.firstOffset() + "-" + b.lastOffset() + ":"
                    + b.deliveryState()).containsExactly("5-5:0", "6-7:2", "8-9:0");

            ReadShareGroupStateSummaryRequestData summaryRequest = new ReadShareGroupStateSummaryRequestData()
                    .setGroupId(group);
            summaryRequest.topics().add(new ReadShareGroupStateSummaryRequestData.ReadStateSummaryData()
                    .setTopicId(topicId).setPartitions(List.of(new ReadShareGroupStateSummaryRequestData.PartitionData()
                            .setPartition(0).setLeaderEpoch(-1))));
            ReadShareGroupStateSummaryResponseData.PartitionResult summary = raw.roundTrip(
                    ApiKeys.READ_SHARE_GROUP_STATE_SUMMARY, (short) 1, summaryRequest,
                    ReadShareGroupStateSummaryResponseData::new).results().get(0).partitions().get(0);
            assertThat(summary.startOffset()).isEqualTo(5L);
            assertThat(summary.stateEpoch()).isEqualTo(2);
            assertThat(summary.leaderEpoch()).isEqualTo(3);
            assertThat(summary.deliveryCompleteCount()).isEqualTo(2);

            assertThat(initialize(raw, group, topicId, 1, 0)).isEqualTo(Errors.FENCED_STATE_EPOCH);

            DeleteShareGroupStateRequestData delete = new DeleteShareGroupStateRequestData().setGroupId(group);
            delete.topics().add(new DeleteShareGroupStateRequestData.DeleteStateData().setTopicId(topicId)
                    .setPartitions(List.of(new DeleteShareGroupStateRequestData.PartitionData().setPartition(0))));
            DeleteShareGroupStateResponseData deleted = raw.roundTrip(ApiKeys.DELETE_SHARE_GROUP_STATE, (short) 0,
                    delete, DeleteShareGroupStateResponseData::new);
            assertThat(deleted.results().get(0).partitions().get(0).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(read(raw, group, topicId, 3).startOffset()).isEqualTo(-1L);

            // bad input: an unknown topic (initialize checks the topic; a write or read finds no state first, as
            // Kafka's share coordinator checks), negative epochs, no group id
            assertThat(initialize(raw, group, Uuid.randomUuid(), 0, 0)).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
            assertThat(write(raw, group, Uuid.randomUuid(), 0, 0, 0)).isEqualTo(Errors.INVALID_REQUEST);
            assertThat(Errors.forCode(read(raw, group, Uuid.randomUuid(), 0).errorCode()))
                    .isEqualTo(Errors.INVALID_REQUEST);
            assertThat(initialize(raw, group, topicId, 4, 0)).isEqualTo(Errors.NONE);
            assertThat(write(raw, group, topicId, 4, -1, 0)).isEqualTo(Errors.INVALID_REQUEST);
            assertThat(write(raw, group, topicId, -1, 3, 0)).isEqualTo(Errors.INVALID_REQUEST);
            assertThat(Errors.forCode(read(raw, group, topicId, -1).errorCode())).isEqualTo(Errors.INVALID_REQUEST);
            assertThat(write(raw, "", topicId, 0, 0, 0)).isEqualTo(Errors.INVALID_GROUP_ID);
        }
    }
    /**
     * Kafka 4.4's ShareCoordinatorShard: only InitializeShareGroupState creates a key's state (a write before it is
     * INVALID_REQUEST), and an initialize (an offset reset) writes leader epoch 0 without lowering the key's
     * leader-epoch fence, which keeps the highest epoch any read recorded.
     */
    @Test
    void writesNeedAnInitializedKeyAndInitializeKeepsTheLeaderEpochFence() throws Exception {
        String topic = TestDirs.uniqueTopic("state-rpc-fence");
        String group = topic + "-group";
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        Uuid topicId;
        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            topicId = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId();
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(30))) {
            assertThat(write(raw, group, topicId, 0, 0, 0, batch(0, 4, 2, 1))).as("never initialized")
                    .isEqualTo(Errors.INVALID_REQUEST);
            assertThat(read(raw, group, topicId, 0).startOffset()).as("the refused write created nothing")
                    .isEqualTo(-1L);

            assertThat(initialize(raw, group, topicId, 0, 0)).isEqualTo(Errors.NONE);
            assertThat(Errors.forCode(read(raw, group, topicId, 4).errorCode())).isEqualTo(Errors.NONE);
            // an offset reset re-initializes with a new state epoch
            assertThat(initialize(raw, group, topicId, 1, 10)).isEqualTo(Errors.NONE);
            assertThat(summary(raw, group, topicId).leaderEpoch()).as("the initialize record's leader epoch")
                    .isEqualTo(0);
            assertThat(write(raw, group, topicId, 1, 2, 10)).as("a leader older than the read before the reset")
                    .isEqualTo(Errors.FENCED_LEADER_EPOCH);
            assertThat(Errors.forCode(read(raw, group, topicId, 3).errorCode())).isEqualTo(Errors.FENCED_LEADER_EPOCH);
            ReadShareGroupStateResponseData.PartitionResult state = read(raw, group, topicId, 4);
            assertThat(Errors.forCode(state.errorCode())).isEqualTo(Errors.NONE);
            assertThat(state.startOffset()).isEqualTo(10L);
            assertThat(write(raw, group, topicId, 1, 4, 10, batch(10, 12, 2, 1))).isEqualTo(Errors.NONE);
        }
    }

    private static ReadShareGroupStateSummaryResponseData.PartitionResult summary(RawKafkaConnection raw, String group,
                                                                                Uuid topicId) throws Exception {
        ReadShareGroupStateSummaryRequestData r = new ReadShareGroupStateSummaryRequestData().setGroupId(group);
        r.topics().add(new ReadShareGroupStateSummaryRequestData.ReadStateSummaryData().setTopicId(topicId)
                .setPartitions(List.of(new ReadShareGroupStateSummaryRequestData.PartitionData().setPartition(0)
                        .setLeaderEpoch(-1))));
        return raw.roundTrip(ApiKeys.READ_SHARE_GROUP_STATE_SUMMARY, (short) 1, r,
                ReadShareGroupStateSummaryResponseData::new).results().get(0).partitions().get(0);
    }
}
