package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.GroupTestSupport.produce;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A consumer-protocol (KIP-848) group lives in __consumer_offsets as Kafka's records: a restarted broker brings
 * it back with its members, epochs and assignment, its member carries on, and Kafka's record serde
 * (kafka-dump-log --offsets-decoder) reads the records. (Kafka 4.4's GroupMetadataMessageFormatter prints only
 * classic GroupMetadata records, so it shows none of these.)
 */
class ConsumerProtocolGroupRestartTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static ConsumerGroupDescription describe(String bootstrap, String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(bootstrap)) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        }
    }

    @Test
    void theGroupAndItsMemberComeBackAfterARestart() throws Exception {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        overrides.put("group.consumer.min.heartbeat.interval.ms", "500");
        overrides.put("group.consumer.heartbeat.interval.ms", "500");
        try (TestBroker broker = TestBroker.start("kip848-restart", overrides)) {
            String bootstrap = broker.bootstrapServers(); // restarts keep the port
            String group = "kip848-durable-group";
            GroupTestSupport.createTopic(bootstrap, "kip848-durable", 2);
            produce(bootstrap, "kip848-durable", 2, "a", 20);
            Properties props = consumerProps(bootstrap, group);
            try (ConsumerProtocolMember member = ConsumerProtocolMember.subscribed(props, List.of("kip848-durable"), "durable")) {
                await().atMost(TIMEOUT).until(() -> member.records.size() == 20);
                ConsumerGroupDescription before = describe(bootstrap, group);
                assertThat(before.members()).hasSize(1);
                String memberId = before.members().iterator().next().consumerId();
                int groupEpoch = before.groupEpoch().orElseThrow();

                broker.restart();

                await().atMost(TIMEOUT).untilAsserted(() -> {
                    ConsumerGroupDescription after = describe(bootstrap, group);
                    assertThat(after.type()).isEqualTo(GroupType.CONSUMER);
                    assertThat(after.groupState().toString()).isEqualToIgnoringCase("Stable");
                    assertThat(after.groupEpoch().orElseThrow()).isEqualTo(groupEpoch);
                    MemberDescription m = after.members().iterator().next();
                    assertThat(m.consumerId()).isEqualTo(memberId);
                    assertThat(m.assignment().topicPartitions()).isEqualTo(Set.of(
                            new TopicPartition("kip848-durable", 0), new TopicPartition("kip848-durable", 1)));
                });
                // the member keeps consuming (and committing) through the restart
                produce(bootstrap, "kip848-durable", 2, "b", 4);
                await().atMost(TIMEOUT).until(() -> member.records.size() == 24);
                assertThat(member.assignment()).hasSize(2);
            }

            // kafka-dump-log's offsets decoder (Kafka's own record serde) reads every record of the group
            int partition = Math.abs(group.hashCode()) % 50;
            ToolRunner.Result dump = SegmentDumps.dumpClean(broker.logDir().resolve("__consumer_offsets-" + partition)
                    .resolve("00000000000000000000.log"), "--offsets-decoder");
            assertThat(dump.stdout()).as(dump.describe())
                    .contains("\"groupId\":\"" + group + "\"")
                    .contains("\"subscribedTopicNames\":[\"kip848-durable\"]")
                    .contains("\"assignmentEpoch\":")
                    .contains("\"memberEpoch\":")
                    .contains("\"topicPartitions\":")
                    .doesNotContain("Unknown");
        }
    }
}
