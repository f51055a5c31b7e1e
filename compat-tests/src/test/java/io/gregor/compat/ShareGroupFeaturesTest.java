package io.gregor.compat;

import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Share-group features with Kafka 4.4's stock {@link KafkaShareConsumer}: a group with
 * {@code share.isolation.level=read_committed} stops at the last stable offset and never gets aborted records,
 * {@link AcknowledgeType#RENEW} keeps a record's acquisition lock past its duration, and
 * {@code share.acquire.mode=record_limit} acquires no more records than a poll may return.
 */
class ShareGroupFeaturesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static TestBroker broker;

    @BeforeAll
    static void start() {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        // so a group may lower its lock duration to seconds (Kafka's bound is 15 s by default)
        overrides.put("group.share.min.record.lock.duration.ms", "1000");
        overrides.put("transaction.state.log.replication.factor", "1");
        overrides.put("transaction.state.log.min.isr", "1");
        broker = TestBroker.start("share-features", overrides);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static KafkaShareConsumer<String, String> consumer(String group, boolean explicit, int maxPollRecords,
                                                               Map<String, String> extra) {
        Properties p = ShareConsumerTest.shareProps(broker.bootstrapServers(), group, explicit, maxPollRecords);
        p.putAll(extra);
        return new KafkaShareConsumer<>(p);
    }

    private static KafkaProducer<String, String> transactional(String id) {
        KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(),
                Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id));
        producer.initTransactions();
        return producer;
    }

    @Test
    void readCommittedGroupGetsCommittedRecordsNeverAbortedOnesAndStopsAtAnOpenTransaction() throws Exception {
        String topic = TestDirs.uniqueTopic("share-rc");
        String group = "rc-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        ShareConsumerTest.setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest",
                "share.isolation.level", "read_committed"));
        // a read_uncommitted group on the same log, to show the aborted records are there to be had
        String dirtyGroup = "ru-" + topic;
        ShareConsumerTest.setGroupConfigs(broker.bootstrapServers(), dirtyGroup, Map.of("share.auto.offset.reset",
                "earliest"));

        try (KafkaProducer<String, String> tx = transactional("share-rc-" + topic);
             KafkaProducer<String, String> plain = Clients.producer(broker.bootstrapServers())) {
            tx.beginTransaction();
            for (int i = 0; i < 3; i++) {
                tx.send(new ProducerRecord<>(topic, "aborted-" + i));
            }
            tx.flush();
            tx.abortTransaction();
            tx.beginTransaction();
            for (int i = 0; i < 3; i++) {
                tx.send(new ProducerRecord<>(topic, "committed-" + i));
            }
            tx.commitTransaction();
            plain.send(new ProducerRecord<>(topic, "plain-0")).get();

            List<String> seen = new ArrayList<>();
            try (KafkaShareConsumer<String, String> c = consumer(group, false, 100, Map.of())) {
                c.subscribe(List.of(topic));
                await().atMost(TIMEOUT).until(() -> {
                    c.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
                    return seen.size() >= 4;
                });
                assertThat(seen).containsExactly("committed-0", "committed-1", "committed-2", "plain-0");

                // an open transaction holds back everything after its first record, plain records too
                tx.beginTransaction();
                tx.send(new ProducerRecord<>(topic, "pending-0"));
                tx.flush();
                plain.send(new ProducerRecord<>(topic, "plain-1")).get();
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> {
                    c.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
                    return seen.size() == 4;
                });
                tx.commitTransaction();
                await().atMost(TIMEOUT).until(() -> {
                    c.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
                    return seen.size() >= 6;
                });
                assertThat(seen).containsExactly("committed-0", "committed-1", "committed-2", "plain-0", "pending-0",
                        "plain-1");
                c.commitSync();
            }
        }

        List<String> dirty = new ArrayList<>();
        try (KafkaShareConsumer<String, String> c = consumer(dirtyGroup, false, 100, Map.of())) {
            c.subscribe(List.of(topic));
            await().atMost(TIMEOUT).until(() -> {
                c.poll(Duration.ofMillis(200)).forEach(r -> dirty.add(r.value()));
                return dirty.size() >= 9;
            });
        }
        assertThat(dirty).containsExactlyInAnyOrder("aborted-0", "aborted-1", "aborted-2", "committed-0", "committed-1",
                "committed-2", "plain-0", "pending-0", "plain-1");
    }

    @Test
    void renewKeepsARecordAcquiredPastItsLockDuration() throws Exception {
        String topic = TestDirs.uniqueTopic("share-renew");
        String group = "renew-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        int lockMs = 2000;
        ShareConsumerTest.setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest",
                "share.record.lock.duration.ms", Integer.toString(lockMs)));
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "job", 1);

        try (KafkaShareConsumer<String, String> holder = consumer(group, true, 10, Map.of());
             KafkaShareConsumer<String, String> other = consumer(group, true, 10, Map.of())) {
            holder.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = ShareConsumerTest.pollSome(holder);
            assertThat(got).hasSize(1);
            ConsumerRecord<String, String> record = got.get(0);
            assertThat(record.deliveryCount()).hasValue((short) 1);
            other.subscribe(List.of(topic));

            long start = System.nanoTime();
            int renewals = 0;
            // three lock durations: without renewals the record would have gone to the other consumer
            while (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 3L * lockMs) {
                holder.acknowledge(record, AcknowledgeType.RENEW);
                List<ConsumerRecord<String, String>> again = new ArrayList<>();
                // the renewed record comes back from poll once the broker extended its lock
                await().atMost(TIMEOUT).until(() -> {
                    holder.poll(Duration.ofMillis(100)).forEach(again::add);
                    return !again.isEmpty();
                });
                assertThat(again).extracting(ConsumerRecord::offset).containsExactly(record.offset());
                assertThat(again.get(0).deliveryCount()).hasValue((short) 1);
                renewals++;
                assertThat(other.poll(Duration.ofMillis(lockMs / 4))).as("the other consumer's poll").isEmpty();
            }
            assertThat(renewals).isGreaterThanOrEqualTo(2);
            holder.acknowledge(record, AcknowledgeType.ACCEPT);
            holder.commitSync();
            await().during(Duration.ofMillis(lockMs + 500L)).atMost(Duration.ofSeconds(10))
                    .until(() -> other.poll(Duration.ofMillis(200)).isEmpty());
        }
    }

    @Test
    void renewIsRefusedWhenTheGroupDisablesIt() throws Exception {
        String topic = TestDirs.uniqueTopic("share-norenew");
        String group = "norenew-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        ShareConsumerTest.setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest",
                "share.renew.acknowledge.enable", "false"));
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "job", 1);
        try (KafkaShareConsumer<String, String> holder = consumer(group, true, 10, Map.of())) {
            holder.subscribe(List.of(topic));
            ConsumerRecord<String, String> record = ShareConsumerTest.pollSome(holder).get(0);
            holder.acknowledge(record, AcknowledgeType.RENEW);
            Map<org.apache.kafka.common.TopicIdPartition, java.util.Optional<org.apache.kafka.common.KafkaException>> result =
                    holder.commitSync();
            assertThat(result.values()).singleElement().satisfies(error -> assertThat(error)
                    .containsInstanceOf(org.apache.kafka.common.errors.InvalidRecordStateException.class));
        }
    }

    @Test
    void recordLimitModeAcquiresNoMoreThanAPollReturnsFromOneBatch() throws Exception {
        String topic = TestDirs.uniqueTopic("share-limit");
        String group = "limit-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        ShareConsumerTest.setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest"));
        // ten records in one batch
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 5_000, ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20))) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "r-" + i));
            }
            producer.flush();
        }

        try (KafkaShareConsumer<String, String> limited = consumer(group, true, 3,
                Map.of("share.acquire.mode", "record_limit"))) {
            limited.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> first = ShareConsumerTest.pollSome(limited);
            assertThat(first).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L);

            // the rest of the batch was not acquired: another member gets it while the first holds its three
            Set<Long> othersGot = new java.util.TreeSet<>();
            try (KafkaShareConsumer<String, String> other = consumer(group, false, 100, Map.of())) {
                other.subscribe(List.of(topic));
                await().atMost(TIMEOUT).until(() -> {
                    other.poll(Duration.ofMillis(200)).forEach(r -> othersGot.add(r.offset()));
                    return othersGot.contains(9L);
                });
                other.commitSync();
            }
            assertThat(othersGot).doesNotContainAnyElementsOf(Set.of(0L, 1L, 2L));
            first.forEach(r -> limited.acknowledge(r, AcknowledgeType.ACCEPT));
            limited.commitSync();
        }
    }
}
