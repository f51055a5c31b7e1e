package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A member whose heartbeats stop is removed after its session timeout, and the records it held go to the
 * others at once rather than after their 30 s lock.
 */
class ShareSessionTimeoutTest {
    @Test
    void recordsOfAMemberWhoseHeartbeatsStopGoToOthersAfterItsSessionTimeout() throws Exception {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        overrides.put("group.share.min.session.timeout.ms", "1000");
        overrides.put("group.share.session.timeout.ms", "2000");
        overrides.put("group.share.min.heartbeat.interval.ms", "100");
        overrides.put("group.share.heartbeat.interval.ms", "500");
        try (TestBroker broker = TestBroker.start("share-session-timeout", overrides)) {
            String bootstrap = broker.bootstrapServers();
            String topic = "silent";
            String group = "silent-group";
            GroupTestSupport.createTopic(bootstrap, topic, 1);
            Uuid topicId;
            try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                topicId = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).topicId();
                // FindCoordinator (as a share consumer starts) makes __consumer_offsets exist before the raw heartbeat,
                // whose group write would otherwise create it and answer late
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            }
            ShareConsumerTest.setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
            GroupTestSupport.produce(bootstrap, topic, 1, "s", 3);
            String member = Uuid.randomUuid().toString();
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(20))) {
                ShareGroupHeartbeatResponseData joined = raw.roundTrip(ApiKeys.SHARE_GROUP_HEARTBEAT, (short) 1,
                        new ShareGroupHeartbeatRequestData().setGroupId(group).setMemberId(member).setMemberEpoch(0)
                                .setSubscribedTopicNames(List.of(topic)), ShareGroupHeartbeatResponseData::new);
                assertThat(joined.errorCode()).isEqualTo(Errors.NONE.code());
                assertThat(joined.heartbeatIntervalMs()).isEqualTo(500);
                // as Kafka, the partition is assigned once the group coordinator initialized its state: heartbeats
                // until then
                int[] epoch = {joined.memberEpoch()};
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    ShareGroupHeartbeatResponseData beat = raw.roundTrip(ApiKeys.SHARE_GROUP_HEARTBEAT, (short) 1,
                            new ShareGroupHeartbeatRequestData().setGroupId(group).setMemberId(member)
                                    .setMemberEpoch(epoch[0]), ShareGroupHeartbeatResponseData::new);
                    assertThat(beat.errorCode()).isEqualTo(Errors.NONE.code());
                    epoch[0] = beat.memberEpoch();
                    return beat.assignment() != null && !beat.assignment().topicPartitions().isEmpty();
                });
                long joinedAt = System.nanoTime(); // its session ends 2 s after this heartbeat
                ShareFetchRequestData.FetchTopicCollection topics = new ShareFetchRequestData.FetchTopicCollection();
                ShareFetchRequestData.FetchPartitionCollection partitions = new ShareFetchRequestData.FetchPartitionCollection();
                partitions.add(new ShareFetchRequestData.FetchPartition().setPartitionIndex(0));
                topics.add(new ShareFetchRequestData.FetchTopic().setTopicId(topicId).setPartitions(partitions));
                ShareFetchResponseData fetched = raw.roundTrip(ApiKeys.SHARE_FETCH, (short) 1, new ShareFetchRequestData()
                        .setGroupId(group).setMemberId(member).setShareSessionEpoch(0).setMaxWaitMs(0).setMinBytes(1)
                        .setMaxBytes(1 << 20).setMaxRecords(10).setBatchSize(10).setTopics(topics),
                        ShareFetchResponseData::new);
                // three batches, one range: offsets 0..2 at their first delivery
                assertThat(fetched.responses().find(topicId).partitions().get(0).acquiredRecords()).singleElement()
                        .satisfies(a -> {
                            assertThat(a.firstOffset()).isZero();
                            assertThat(a.lastOffset()).isEqualTo(2L);
                            assertThat(a.deliveryCount()).isEqualTo((short) 1);
                        });
                // no more heartbeats from this member; its connection stays open
                try (KafkaShareConsumer<String, String> other = new KafkaShareConsumer<>(
                        ShareConsumerTest.shareProps(bootstrap, group, true, 10))) {
                    other.subscribe(List.of(topic));
                    List<ConsumerRecord<String, String>> taken = new ArrayList<>();
                    await().atMost(Duration.ofSeconds(20)).until(() -> {
                        for (ConsumerRecord<String, String> r : other.poll(Duration.ofMillis(200))) {
                            taken.add(r);
                            other.acknowledge(r, AcknowledgeType.ACCEPT);
                        }
                        return taken.size() >= 3;
                    });
                    other.commitSync();
                    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joinedAt);
                    assertThat(waited).as("released at the session timeout, not the 30 s lock").isBetween(1800L, 20000L);
                    assertThat(taken).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L);
                    assertThat(taken).allSatisfy(r -> assertThat(r.deliveryCount()).contains((short) 2));
                }
            }
        }
    }
}
