package io.gregor.broker.handlers;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.gregor.broker.handlers.RealTopics.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** What the AdminClient cannot send or see: duplicates, malformed references, old versions' encodings. */
class TopicAdminHandlerTest {
    @TempDir
    Path dir;
    private RealTopics real;

    @AfterEach
    void close() {
        if (real != null) {
            real.close();
        }
    }

    private TopicAdminHandler handler(Map<String, String> config) {
        real = new RealTopics(dir, config);
        return new TopicAdminHandler(real.topics, real.config);
    }

    private static CreatableTopic topic(String name, int partitions) {
        return new CreatableTopic().setName(name).setNumPartitions(partitions).setReplicationFactor((short) -1);
    }

    private static CreateTopicsRequestData createRequest(CreatableTopic... topics) {
        CreateTopicsRequestData request = new CreateTopicsRequestData();
        for (CreatableTopic topic : topics) {
            request.topics().add(topic);
        }
        return request;
    }

    @Test
    void createAnswersEachTopicOnItsOwnAndDuplicatesOnce() {
        TopicAdminHandler handler = handler(Map.of("num.partitions", "3"));
        CreatableTopic manualWithCount = topic("manual-with-count", 2);
        manualWithCount.assignments().add(new CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(List.of(0)));
        CreatableTopic nullConfig = topic("null-config", 1);
        nullConfig.configs().add(new CreatableTopicConfig().setName("retention.ms").setValue(null));

        CreateTopicsResponseData response = handler.createTopics(createRequest(topic("twice", 1), topic("ok", -1),
                topic("twice", 2), manualWithCount, nullConfig), (short) 7);

        assertThat(response.topics()).extracting(CreatableTopicResult::name, CreatableTopicResult::errorCode,
                CreatableTopicResult::errorMessage).containsExactly(
                tuple("ok", Errors.NONE.code(), null),
                tuple("manual-with-count", Errors.INVALID_REQUEST.code(),
                        "A manual partition assignment was specified, but numPartitions was not set to -1."),
                tuple("null-config", Errors.INVALID_CONFIG.code(), "Null value not supported for topic configs: retention.ms"),
                tuple("twice", Errors.INVALID_REQUEST.code(), "Found multiple entries for this topic."));
        CreatableTopicResult ok = response.topics().find("ok");
        assertThat(ok.numPartitions()).isEqualTo(3);
        assertThat(ok.replicationFactor()).isEqualTo((short) 1);
        assertThat(real.topics.topic("ok")).get().satisfies(t -> assertThat(t.topicId()).isEqualTo(ok.topicId()));
        assertThat(real.topics.topic("twice")).isEmpty();
    }

    @Test
    void createResultEncodesAtEveryVersion() {
        TopicAdminHandler handler = handler(Map.of());
        for (short version = 2; version <= 7; version++) {
            CreatableTopic topic = topic("v" + version, 1);
            topic.configs().add(new CreatableTopicConfig().setName("cleanup.policy").setValue("compact"));
            CreateTopicsResponseData read = roundTrip(handler.createTopics(createRequest(topic), version), version,
                    CreateTopicsResponseData::new);

            CreatableTopicResult result = read.topics().find("v" + version);
            assertThat(result.errorCode()).isEqualTo(Errors.NONE.code());
            if (version >= 5) {
                assertThat(result.numPartitions()).isEqualTo(1);
                assertThat(result.configs()).anySatisfy(c -> {
                    assertThat(c.name()).isEqualTo("cleanup.policy");
                    assertThat(c.value()).isEqualTo("compact");
                    assertThat(c.configSource()).isEqualTo((byte) 1);
                });
            } else {
                assertThat(result.numPartitions()).isEqualTo(-1);
            }
            assertThat(result.topicId()).isEqualTo(version >= 7 ? real.topics.topic("v" + version).orElseThrow().topicId()
                    : Uuid.ZERO_UUID);
        }
    }

    @Test
    void deleteByIdRefusesMalformedAndDuplicateReferences() {
        TopicAdminHandler handler = handler(Map.of());
        handler.createTopics(createRequest(topic("a", 1), topic("b", 1), topic("c", 1)), (short) 7);
        Uuid a = real.topics.topic("a").orElseThrow().topicId();
        Uuid b = real.topics.topic("b").orElseThrow().topicId();
        Uuid unknown = Uuid.randomUuid();
        DeleteTopicsRequestData request = new DeleteTopicsRequestData().setTopics(List.of(
                new DeleteTopicState().setName(null).setTopicId(Uuid.ZERO_UUID),
                new DeleteTopicState().setName("a").setTopicId(a),
                new DeleteTopicState().setName(null).setTopicId(b),
                new DeleteTopicState().setName("b").setTopicId(Uuid.ZERO_UUID),
                new DeleteTopicState().setName("c").setTopicId(Uuid.ZERO_UUID),
                new DeleteTopicState().setName("c").setTopicId(Uuid.ZERO_UUID),
                new DeleteTopicState().setName(null).setTopicId(unknown)));

        DeleteTopicsResponseData response = roundTrip(handler.deleteTopics(request, (short) 6), (short) 6,
                DeleteTopicsResponseData::new);

        assertThat(response.responses()).extracting(DeletableTopicResult::name, DeletableTopicResult::topicId,
                DeletableTopicResult::errorCode, DeletableTopicResult::errorMessage).containsExactlyInAnyOrder(
                tuple(null, Uuid.ZERO_UUID, Errors.INVALID_REQUEST.code(), "Neither topic name nor id were specified."),
                tuple("a", a, Errors.INVALID_REQUEST.code(), "You may not specify both topic name and topic id."),
                tuple("b", b, Errors.INVALID_REQUEST.code(), "The provided topic name maps to an ID that was already supplied."),
                tuple("b", b, Errors.INVALID_REQUEST.code(), "The provided topic name maps to an ID that was already supplied."),
                tuple("c", Uuid.ZERO_UUID, Errors.INVALID_REQUEST.code(), "Duplicate topic name."),
                tuple(null, unknown, Errors.UNKNOWN_TOPIC_ID.code(), null));
        assertThat(real.topics.all()).hasSize(3);
    }

    @Test
    void deleteByNameAtOldVersionsAndDisabledDeletion() {
        TopicAdminHandler handler = handler(Map.of());
        handler.createTopics(createRequest(topic("gone", 1)), (short) 7);

        DeleteTopicsResponseData response = roundTrip(handler.deleteTopics(
                new DeleteTopicsRequestData().setTopicNames(List.of("gone", "never")), (short) 1), (short) 1,
                DeleteTopicsResponseData::new);

        assertThat(response.responses()).extracting(DeletableTopicResult::name, DeletableTopicResult::errorCode)
                .containsExactly(tuple("gone", Errors.NONE.code()), tuple("never", Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
        assertThat(real.topics.topic("gone")).isEmpty();
    }

    @Test
    void disabledDeletionIsInvalidRequestBeforeV3() {
        TopicAdminHandler handler = handler(Map.of("delete.topic.enable", "false"));
        handler.createTopics(createRequest(topic("kept", 1)), (short) 7);
        DeleteTopicsRequestData request = new DeleteTopicsRequestData().setTopicNames(List.of("kept"));

        assertThat(handler.deleteTopics(request, (short) 2).responses().find("kept").errorCode())
                .isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(handler.deleteTopics(request, (short) 3).responses().find("kept").errorCode())
                .isEqualTo(Errors.TOPIC_DELETION_DISABLED.code());
        assertThat(real.topics.topic("kept")).isPresent();
    }

    @Test
    void createPartitionsRefusesDuplicateNames() {
        TopicAdminHandler handler = handler(Map.of());
        handler.createTopics(createRequest(topic("grow", 1), topic("other", 1)), (short) 7);
        CreatePartitionsRequestData request = new CreatePartitionsRequestData();
        request.topics().add(new CreatePartitionsTopic().setName("grow").setCount(2).setAssignments(null));
        request.topics().add(new CreatePartitionsTopic().setName("grow").setCount(3).setAssignments(null));
        request.topics().add(new CreatePartitionsTopic().setName("other").setCount(4).setAssignments(null));

        CreatePartitionsResponseData response = roundTrip(handler.createPartitions(request), (short) 0,
                CreatePartitionsResponseData::new);

        assertThat(response.results()).extracting(r -> r.name(), r -> r.errorCode(), r -> r.errorMessage())
                .containsExactly(tuple("other", Errors.NONE.code(), null),
                        tuple("grow", Errors.INVALID_REQUEST.code(), "Duplicate topic name."));
        assertThat(real.topics.topic("grow").orElseThrow().partitionCount()).isEqualTo(1);
        assertThat(real.topics.topic("other").orElseThrow().partitionCount()).isEqualTo(4);
    }
}
