package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What a client that gets share groups wrong is told: Kafka's error codes, and the broker carries on. */
class ShareGroupErrorsTest {
    private static TestBroker broker;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("share-errors", GroupTestSupport.BROKER_OVERRIDES);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Uuid createTopic(String topic) throws Exception {
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).topicId();
        }
    }

    private static ShareGroupHeartbeatResponseData heartbeat(RawKafkaConnection raw, String group, String member,
                                                             int epoch, List<String> topics) throws Exception {
        return raw.roundTrip(ApiKeys.SHARE_GROUP_HEARTBEAT, (short) 1, new ShareGroupHeartbeatRequestData()
                .setGroupId(group).setMemberId(member).setMemberEpoch(epoch).setSubscribedTopicNames(topics),
                ShareGroupHeartbeatResponseData::new);
    }

    @Test
    void aStaleOrFutureMemberEpochIsFencedAndAnUnknownMemberIsRefused() throws Exception {
        String topic = TestDirs.uniqueTopic("epochs");
        Uuid topicId = createTopic(topic);
        String member = Uuid.randomUuid().toString();
        try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(20))) {
            ShareGroupHeartbeatResponseData first = heartbeat(raw, "epochs", member, 0, List.of(topic));
            assertThat(first.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(first.memberEpoch()).isPositive();
            // as Kafka: nothing assigned until the group coordinator initialized the partition's state, then the
            // partition comes with a new epoch
            assertThat(first.assignment().topicPartitions()).isEmpty();
            ShareGroupHeartbeatResponseData[] last = {first};
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                last[0] = heartbeat(raw, "epochs", member, last[0].memberEpoch(), null);
                return last[0].assignment() != null && !last[0].assignment().topicPartitions().isEmpty();
            });
            ShareGroupHeartbeatResponseData joined = last[0];
            assertThat(joined.memberEpoch()).isGreaterThan(first.memberEpoch());
            assertThat(joined.assignment().topicPartitions()).singleElement()
                    .satisfies(tp -> {
                        assertThat(tp.topicId()).isEqualTo(topicId);
                        assertThat(tp.partitions()).containsExactly(0);
                    });
            int epoch = joined.memberEpoch();

            assertThat(heartbeat(raw, "epochs", member, epoch + 1, null).errorCode())
                    .isEqualTo(Errors.FENCED_MEMBER_EPOCH.code());
            // a second member joins: the group epoch moves on, the first member's epoch stays until it heartbeats
            String second = Uuid.randomUuid().toString();
            ShareGroupHeartbeatResponseData secondJoined = heartbeat(raw, "epochs", second, 0, List.of(topic));
            assertThat(secondJoined.memberEpoch()).isGreaterThan(epoch);
            assertThat(heartbeat(raw, "epochs", second, epoch, null).errorCode())
                    .as("a stale epoch").isEqualTo(Errors.FENCED_MEMBER_EPOCH.code());
            assertThat(heartbeat(raw, "epochs", "nobody", 3, null).errorCode())
                    .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
            assertThat(heartbeat(raw, "epochs", member, 0, null).errorCode())
                    .as("joining without a subscription").isEqualTo(Errors.INVALID_REQUEST.code());
            ShareGroupHeartbeatResponseData ok = heartbeat(raw, "epochs", member, epoch, null);
            assertThat(ok.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(heartbeat(raw, "epochs", member, -1, null).memberEpoch()).isEqualTo(-1);
        }
    }

    @Test
    void unknownSessionsWrongEpochsAndRecordsNotAcquiredGetKafkasErrors() throws Exception {
        String topic = TestDirs.uniqueTopic("sessions");
        Uuid topicId = createTopic(topic);
        String member = Uuid.randomUuid().toString();
        try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(20))) {
            // as a share consumer does, fetch once the partition is assigned (Kafka assigns it once initialized)
            ShareGroupHeartbeatResponseData[] last = {heartbeat(raw, "sessions", member, 0, List.of(topic))};
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                last[0] = heartbeat(raw, "sessions", member, last[0].memberEpoch(), null);
                return last[0].assignment() != null && !last[0].assignment().topicPartitions().isEmpty();
            });

            ShareFetchResponseData unknown = raw.roundTrip(ApiKeys.SHARE_FETCH, (short) 1,
                    fetch("sessions", member, 3, topicId), ShareFetchResponseData::new);
            assertThat(unknown.errorCode()).isEqualTo(Errors.SHARE_SESSION_NOT_FOUND.code());

            // epoch 0 opens the session (the topic is empty: nothing is acquired)
            ShareFetchResponseData opened = raw.roundTrip(ApiKeys.SHARE_FETCH, (short) 1,
                    fetch("sessions", member, 0, topicId).setMaxWaitMs(0), ShareFetchResponseData::new);
            assertThat(opened.errorCode()).isEqualTo(Errors.NONE.code());

            ShareFetchResponseData wrongEpoch = raw.roundTrip(ApiKeys.SHARE_FETCH, (short) 1,
                    fetch("sessions", member, 5, topicId), ShareFetchResponseData::new);
            assertThat(wrongEpoch.errorCode()).isEqualTo(Errors.INVALID_SHARE_SESSION_EPOCH.code());

            GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "x", 1);
            ShareAcknowledgeRequestData.AcknowledgeTopicCollection topics = new ShareAcknowledgeRequestData.AcknowledgeTopicCollection();
            ShareAcknowledgeRequestData.AcknowledgePartitionCollection partitions =
                    new ShareAcknowledgeRequestData.AcknowledgePartitionCollection();
            partitions.add(new ShareAcknowledgeRequestData.AcknowledgePartition().setPartitionIndex(0)
                    .setAcknowledgementBatches(List.of(new ShareAcknowledgeRequestData.AcknowledgementBatch()
                            .setFirstOffset(0).setLastOffset(0).setAcknowledgeTypes(List.of((byte) 1)))));
            topics.add(new ShareAcknowledgeRequestData.AcknowledgeTopic().setTopicId(topicId).setPartitions(partitions));
            ShareAcknowledgeResponseData notAcquired = raw.roundTrip(ApiKeys.SHARE_ACKNOWLEDGE, (short) 1,
                    new ShareAcknowledgeRequestData().setGroupId("sessions").setMemberId(member).setShareSessionEpoch(1)
                            .setTopics(topics), ShareAcknowledgeResponseData::new);
            assertThat(notAcquired.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(notAcquired.responses().find(topicId).partitions().get(0).errorCode())
                    .isEqualTo(Errors.INVALID_RECORD_STATE.code());

            // the session goes on at the next epoch: the record is acquired now, and then it may be acknowledged
            ShareFetchResponseData fetched = raw.roundTrip(ApiKeys.SHARE_FETCH, (short) 1,
                    fetch("sessions", member, 2, topicId).setMaxWaitMs(5000), ShareFetchResponseData::new);
            assertThat(fetched.errorCode()).isEqualTo(Errors.NONE.code());
            ShareFetchResponseData.PartitionData pd = fetched.responses().find(topicId).partitions().get(0);
            assertThat(pd.acquiredRecords()).singleElement().satisfies(a -> {
                assertThat(a.firstOffset()).isZero();
                assertThat(a.lastOffset()).isZero();
                assertThat(a.deliveryCount()).isEqualTo((short) 1);
            });
            assertThat(fetched.acquisitionLockTimeoutMs()).isEqualTo(30000);
            ShareAcknowledgeResponseData accepted = raw.roundTrip(ApiKeys.SHARE_ACKNOWLEDGE, (short) 1,
                    new ShareAcknowledgeRequestData().setGroupId("sessions").setMemberId(member).setShareSessionEpoch(3)
                            .setTopics(topics.duplicate()), ShareAcknowledgeResponseData::new);
            assertThat(accepted.responses().find(topicId).partitions().get(0).errorCode()).isEqualTo(Errors.NONE.code());

            ShareAcknowledgeResponseData noSession = raw.roundTrip(ApiKeys.SHARE_ACKNOWLEDGE, (short) 1,
                    new ShareAcknowledgeRequestData().setGroupId("sessions").setMemberId("someone-else")
                            .setShareSessionEpoch(1).setTopics(topics.duplicate()), ShareAcknowledgeResponseData::new);
            assertThat(noSession.errorCode()).isEqualTo(Errors.SHARE_SESSION_NOT_FOUND.code());
        }
    }

    private static ShareFetchRequestData fetch(String group, String member, int epoch, Uuid topicId) {
        ShareFetchRequestData.FetchTopicCollection topics = new ShareFetchRequestData.FetchTopicCollection();
        ShareFetchRequestData.FetchPartitionCollection partitions = new ShareFetchRequestData.FetchPartitionCollection();
        partitions.add(new ShareFetchRequestData.FetchPartition().setPartitionIndex(0));
        topics.add(new ShareFetchRequestData.FetchTopic().setTopicId(topicId).setPartitions(partitions));
        return new ShareFetchRequestData().setGroupId(group).setMemberId(member).setShareSessionEpoch(epoch)
                .setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20).setMaxRecords(100).setBatchSize(100)
                .setTopics(topics);
    }
}
