package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static io.gregor.compat.GroupTestSupport.pollRecords;
import static io.gregor.compat.GroupTestSupport.produce;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Groups and offsets live in __consumer_offsets: a restarted broker rebuilds them, and consumers carry on. */
class ConsumerGroupRestartTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void offsetsAndGroupStateComeBackAndConsumersResume() throws Exception {
        try (TestBroker broker = TestBroker.start("group-restart-durable", GroupTestSupport.BROKER_OVERRIDES)) {
            String bootstrap = broker.bootstrapServers(); // restarts keep the port
            GroupTestSupport.createTopic(bootstrap, "durable", 3);
            produce(bootstrap, "durable", 3, "a", 30);
            try (KafkaConsumer<String, String> c = GroupTestSupport.consumer(bootstrap, "durable-group")) {
                c.subscribe(List.of("durable"));
                pollRecords(c, 30, TIMEOUT);
                c.commitSync(Map.of(new TopicPartition("durable", 0), new OffsetAndMetadata(6, "six")));
            }
            // A member that stays connected across the restart: its group is Stable when the broker stops.
            Properties props = consumerProps(bootstrap, "live-group");
            try (PollingConsumer live = new PollingConsumer(props, "durable", "live")) {
                await().atMost(TIMEOUT).until(() -> live.records.size() == 30);

                broker.restart();

                try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                    Map<TopicPartition, OffsetAndMetadata> offsets =
                            admin.listConsumerGroupOffsets("durable-group").partitionsToOffsetAndMetadata().get();
                    assertThat(offsets.get(new TopicPartition("durable", 0)).offset()).isEqualTo(6L);
                    assertThat(offsets.get(new TopicPartition("durable", 0)).metadata()).isEqualTo("six");
                    ConsumerGroupDescription durable = admin.describeConsumerGroups(List.of("durable-group"))
                            .all().get().get("durable-group");
                    assertThat(durable.groupState()).isEqualTo(GroupState.EMPTY);
                    ConsumerGroupDescription liveGroup = admin.describeConsumerGroups(List.of("live-group"))
                            .all().get().get("live-group");
                    assertThat(liveGroup.groupState()).isEqualTo(GroupState.STABLE);
                    assertThat(liveGroup.members()).hasSize(1);
                    assertThat(liveGroup.members().iterator().next().assignment().topicPartitions()).hasSize(3);
                }
                // The live member keeps consuming through the restart.
                produce(bootstrap, "durable", 3, "b", 3);
                await().atMost(TIMEOUT).until(() -> live.records.size() == 33);
            }

            try (KafkaConsumer<String, String> c = GroupTestSupport.consumer(bootstrap, "durable-group")) {
                c.assign(List.of(new TopicPartition("durable", 0)));
                List<ConsumerRecord<String, String>> resumed = pollRecords(c, 1, TIMEOUT);
                assertThat(resumed.get(0).offset()).isEqualTo(6L);
            }
        }
    }

    @Test
    void aThousandGroupsCommitConcurrentlyAndSurviveARestart() throws Exception {
        try (TestBroker broker = TestBroker.start("group-restart-many", GroupTestSupport.BROKER_OVERRIDES)) {
            String bootstrap = broker.bootstrapServers(); // restarts keep the port
            GroupTestSupport.createTopic(bootstrap, "many", 3);
            TopicPartition tp = new TopicPartition("many", 1);
            int groups = 1000;
            try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                // Three rounds of a thousand concurrent commits; each round overwrites the previous one.
                for (int round = 0; round < 3; round++) {
                    List<KafkaFuture<Void>> commits = new ArrayList<>();
                    for (int g = 0; g < groups; g++) {
                        commits.add(admin.alterConsumerGroupOffsets("g-" + g,
                                Map.of(tp, new OffsetAndMetadata(g + round * 10_000L))).all());
                    }
                    KafkaFuture.allOf(commits.toArray(KafkaFuture[]::new)).get(120, TimeUnit.SECONDS);
                }
            }
            broker.restart();
            try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                Set<String> listed = admin.listGroups().all().get().stream()
                        .map(GroupListing::groupId).filter(id -> id.startsWith("g-")).collect(Collectors.toSet());
                assertThat(listed).hasSize(groups);
                for (int g : new int[]{0, 1, 499, 999}) {
                    OffsetAndMetadata o = admin.listConsumerGroupOffsets("g-" + g).partitionsToOffsetAndMetadata()
                            .get().get(tp);
                    // Replay keeps the last commit of each group.
                    assertThat(o.offset()).isEqualTo(g + 20_000L);
                }
            }
        }
    }
}
