package io.gregor.broker.intercept;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fault aimed at one topic, for every API that supports it, at the versions current clients send:
 * the topic leaves the request (the rest is handled), and its error entries join the answer.
 */
class TopicFaultsTest {
    private static final Uuid HIT_ID = Uuid.randomUuid();
    private static final Uuid SPARED_ID = Uuid.randomUuid();
    private static final Function<Uuid, Optional<String>> NAMES =
            id -> Optional.ofNullable(Map.of(HIT_ID, "hit", SPARED_ID, "spared").get(id));

    static Stream<Arguments> requests() {
        return Stream.of(
                Arguments.of(ApiKeys.PRODUCE, (short) 12, produce()),
                Arguments.of(ApiKeys.PRODUCE, ApiKeys.PRODUCE.latestVersion(), produce()),
                Arguments.of(ApiKeys.FETCH, (short) 12, fetch()),
                Arguments.of(ApiKeys.FETCH, ApiKeys.FETCH.latestVersion(), fetch()),
                Arguments.of(ApiKeys.METADATA, ApiKeys.METADATA.latestVersion(), metadata()),
                Arguments.of(ApiKeys.LIST_OFFSETS, ApiKeys.LIST_OFFSETS.latestVersion(), listOffsets()),
                Arguments.of(ApiKeys.OFFSET_COMMIT, (short) 9, offsetCommit()),
                Arguments.of(ApiKeys.OFFSET_FETCH, (short) 7, offsetFetchV7()),
                Arguments.of(ApiKeys.OFFSET_FETCH, (short) 9, offsetFetchGroups()),
                Arguments.of(ApiKeys.CREATE_TOPICS, ApiKeys.CREATE_TOPICS.latestVersion(), createTopics()),
                Arguments.of(ApiKeys.DELETE_TOPICS, (short) 5, deleteTopicsByName()),
                Arguments.of(ApiKeys.DELETE_TOPICS, ApiKeys.DELETE_TOPICS.latestVersion(), deleteTopics()),
                Arguments.of(ApiKeys.DELETE_RECORDS, ApiKeys.DELETE_RECORDS.latestVersion(), deleteRecords()),
                Arguments.of(ApiKeys.OFFSET_FOR_LEADER_EPOCH, ApiKeys.OFFSET_FOR_LEADER_EPOCH.latestVersion(), offsetForLeaderEpoch()));
    }

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("requests")
    void theTopicLeavesTheRequestAndItsErrorsJoinTheAnswer(ApiKeys api, short version, ApiMessage request) {
        assertThat(TopicFaults.SUPPORTED).contains(api);
        TopicFaults.TopicMatch hit = new TopicFaults.TopicMatch("hit", HIT_ID);
        assertThat(TopicFaults.mentions(api, request, hit)).isTrue();
        assertThat(TopicFaults.mentions(api, request, new TopicFaults.TopicMatch("absent", Uuid.randomUuid()))).isFalse();

        ApiMessage onlyHit = TopicFaults.split(api, request, hit);
        assertThat(TopicFaults.mentions(api, request, hit)).as("left to handle").isFalse();
        assertThat(TopicFaults.mentions(api, request, new TopicFaults.TopicMatch("spared", SPARED_ID))).isTrue();
        assertThat(TopicFaults.isEmpty(api, request)).isFalse();

        ApiMessage errors = TopicFaults.topicErrorResponse(api, version, onlyHit, Errors.NOT_LEADER_OR_FOLLOWER);
        ApiMessage answer = TopicFaults.errorResponse(api, version, request, Errors.UNKNOWN_TOPIC_OR_PARTITION);
        TopicFaults.merge(api, answer, errors);
        Set<Short> codes = new TreeSet<>();
        MessageSummary.collectErrors(answer, codes);
        assertThat(codes).contains(Errors.NOT_LEADER_OR_FOLLOWER.code());
        String text = MessageSummary.of(answer, NAMES);
        assertThat(text).contains("NOT_LEADER_OR_FOLLOWER");
        if (!(api == ApiKeys.DELETE_TOPICS && version < 6)) {
            assertThat(text).contains("hit");
        }
    }

    private static ApiMessage produce() {
        ProduceRequestData d = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(1000);
        for (String[] t : new String[][]{{"hit"}, {"spared"}}) {
            d.topicData().add(new ProduceRequestData.TopicProduceData().setName(t[0]).setTopicId(id(t[0]))
                    .setPartitionData(List.of(new ProduceRequestData.PartitionProduceData().setIndex(0)
                            .setRecords(MemoryRecords.EMPTY))));
        }
        return d;
    }

    private static ApiMessage fetch() {
        FetchRequestData d = new FetchRequestData().setMaxWaitMs(500);
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new FetchRequestData.FetchTopic().setTopic(t).setTopicId(id(t))
                    .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(5))));
        }
        return d;
    }

    private static ApiMessage metadata() {
        MetadataRequestData d = new MetadataRequestData();
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(t));
        }
        return d;
    }

    private static ApiMessage listOffsets() {
        ListOffsetsRequestData d = new ListOffsetsRequestData();
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new ListOffsetsRequestData.ListOffsetsTopic().setName(t)
                    .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1))));
        }
        return d;
    }

    private static ApiMessage offsetCommit() {
        OffsetCommitRequestData d = new OffsetCommitRequestData().setGroupId("g");
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(t)
                    .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                            .setCommittedOffset(3))));
        }
        return d;
    }

    private static ApiMessage offsetFetchV7() {
        OffsetFetchRequestData d = new OffsetFetchRequestData().setGroupId("g");
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(t).setPartitionIndexes(List.of(0)));
        }
        return d;
    }

    private static ApiMessage offsetFetchGroups() {
        OffsetFetchRequestData.OffsetFetchRequestGroup group = new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g");
        for (String t : List.of("hit", "spared")) {
            group.topics().add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(t).setPartitionIndexes(List.of(0)));
        }
        return new OffsetFetchRequestData().setGroups(List.of(group));
    }

    private static ApiMessage createTopics() {
        CreateTopicsRequestData d = new CreateTopicsRequestData().setTimeoutMs(1000);
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(t).setNumPartitions(1).setReplicationFactor((short) 1));
        }
        return d;
    }

    private static ApiMessage deleteTopicsByName() {
        return new DeleteTopicsRequestData().setTopicNames(new java.util.ArrayList<>(List.of("hit", "spared"))).setTimeoutMs(1000);
    }

    private static ApiMessage deleteTopics() {
        DeleteTopicsRequestData d = new DeleteTopicsRequestData().setTimeoutMs(1000);
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName(t));
        }
        return d;
    }

    private static ApiMessage deleteRecords() {
        DeleteRecordsRequestData d = new DeleteRecordsRequestData().setTimeoutMs(1000);
        for (String t : List.of("hit", "spared")) {
            d.topics().add(new DeleteRecordsRequestData.DeleteRecordsTopic().setName(t)
                    .setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(1))));
        }
        return d;
    }

    private static ApiMessage offsetForLeaderEpoch() {
        OffsetForLeaderEpochRequestData d = new OffsetForLeaderEpochRequestData();
        for (String t : List.of("hit", "spared")) {
            OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(t);
            topic.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(1));
            d.topics().add(topic);
        }
        return d;
    }

    private static Uuid id(String topic) {
        return topic.equals("hit") ? HIT_ID : SPARED_ID;
    }
}
