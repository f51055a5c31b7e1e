package io.gregor.coordinator.consumer;

import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When a consumer group writes its ConsumerGroupRegularExpression records (Kafka's rule, resolved in line): once
 * for a new regex, again when a matching topic comes or goes, again (same topics, same group epoch) once Kafka's
 * 10-minute group.consumer.regex.refresh.interval.ms passed, and a tombstone when its last member leaves; a
 * heartbeat in between writes none. Driven through the protocol with a clock the test moves.
 */
class RegexRefreshTest {
    private static final short VERSION = 1;
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    private final Map<String, TopicInfo> topicsByName = new ConcurrentHashMap<>();
    private final SettableTime time = new SettableTime();
    private final ConsumerGroupProtocol protocol = new ConsumerGroupProtocol(ConsumerGroupConfig.defaults(),
            new ConsumerTopics() {
                @Override
                public TopicInfo byName(String name) {
                    return topicsByName.get(name);
                }

                @Override
                public TopicInfo byId(Uuid id) {
                    return topicsByName.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
                }

                @Override
                public Collection<TopicInfo> all() {
                    return topicsByName.values();
                }
            }, scheduler, time, new ConsumerGroupProtocol.Listener() {
                @Override
                public void membersChanged(ConsumerGroup group) {
                }

                @Override
                public void write(ConsumerGroup group, List<CoordinatorRecord> records) {
                }

                @Override
                public void downgrade(ConsumerGroup group, Set<ConsumerGroupMember> leaving, List<CoordinatorRecord> records) {
                }
            });
    private final ConsumerGroup group = new ConsumerGroup("g", new Object());
    private final String memberId = Uuid.randomUuid().toString();
    private int epoch;

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void theRegexRecordIsWrittenWhenNewChangedOrDueAndTombstonedWhenTheLastMemberLeaves() {
        addTopic("orders-eu", 2);
        addTopic("payments", 1);
        List<CoordinatorRecord> joined = heartbeat(0);
        assertThat(regexRecords(joined)).hasSize(1);
        assertThat(group.resolvedRegex("orders-.*").topics()).containsExactly("orders-eu");

        time.ms += 1_000;
        assertThat(regexRecords(heartbeat(epoch))).isEmpty();

        addTopic("orders-us", 1);
        time.ms += 1_000;
        List<CoordinatorRecord> grown = heartbeat(epoch);
        assertThat(regexRecords(grown)).hasSize(1);
        assertThat(group.resolvedRegex("orders-.*").topics()).containsExactlyInAnyOrder("orders-eu", "orders-us");
        assertThat(group.resolvedRegex("orders-.*").timestampMs()).isEqualTo(time.ms);

        // the interval passed with nothing new: written again, the group epoch stays
        int groupEpoch = group.groupEpoch();
        time.ms += ConsumerGroupProtocol.REGEX_REFRESH_INTERVAL_MS - 1;
        assertThat(regexRecords(heartbeat(epoch))).isEmpty();
        time.ms += 1;
        List<CoordinatorRecord> due = heartbeat(epoch);
        assertThat(regexRecords(due)).hasSize(1);
        assertThat(group.resolvedRegex("orders-.*").timestampMs()).isEqualTo(time.ms);
        assertThat(group.groupEpoch()).isEqualTo(groupEpoch);

        List<CoordinatorRecord> left = heartbeat(ConsumerGroupMember.LEAVE_GROUP_MEMBER_EPOCH);
        assertThat(regexRecords(left)).singleElement().satisfies(r -> assertThat(r.value()).isNull());
        assertThat(group.resolvedRegex("orders-.*")).isNull();
        assertThat(group.groupEpoch()).isEqualTo(groupEpoch + 1);
    }

    private void addTopic(String name, int partitions) {
        topicsByName.put(name, new TopicInfo(name, Uuid.randomUuid(), partitions));
    }

    private List<CoordinatorRecord> heartbeat(int memberEpoch) {
        ConsumerGroupHeartbeatRequestData request = new ConsumerGroupHeartbeatRequestData().setGroupId(group.groupId())
                .setMemberId(memberId).setMemberEpoch(memberEpoch);
        if (memberEpoch == 0) {
            request.setRebalanceTimeoutMs(60_000).setSubscribedTopicRegex("orders-.*").setTopicPartitions(List.of());
        } else {
            List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned = new ArrayList<>();
            ConsumerGroupMember member = group.member(memberId);
            if (member != null) {
                member.assignedPartitions.forEach((topicId, ps) -> owned.add(new ConsumerGroupHeartbeatRequestData
                        .TopicPartitions().setTopicId(topicId).setPartitions(new ArrayList<>(ps))));
            }
            request.setTopicPartitions(owned);
        }
        List<CoordinatorRecord> records = new ArrayList<>();
        synchronized (group.lock()) {
            protocol.validate(request, VERSION);
            ConsumerGroupHeartbeatResponseData response = protocol.heartbeat(group, request, VERSION, "client", "/127.0.0.1",
                    records);
            epoch = response.memberEpoch();
        }
        return records;
    }

    private static List<CoordinatorRecord> regexRecords(List<CoordinatorRecord> records) {
        return records.stream().filter(r -> ByteBuffer.wrap(r.key()).getShort() == ConsumerGroupRecords.REGULAR_EXPRESSION)
                .toList();
    }

    /** A clock the test moves. */
    private static final class SettableTime implements Time {
        volatile long ms = 1_000_000;

        @Override
        public long milliseconds() {
            return ms;
        }

        @Override
        public long nanoseconds() {
            return ms * 1_000_000;
        }

        @Override
        public void sleep(long sleepMs) {
            ms += sleepMs;
        }

        @Override
        public void waitObject(Object obj, Supplier<Boolean> condition, long deadlineMs) {
            throw new UnsupportedOperationException();
        }
    }
}
