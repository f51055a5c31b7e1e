package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Share groups (KIP-932) with Kafka 4.4's stock {@link KafkaShareConsumer}: records of one partition divided
 * among consumers, acknowledged one by one, redelivered after a release or a lock timeout, archived at the
 * delivery-count limit, and remembered across a broker restart.
 */
class ShareConsumerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static TestBroker broker;

    @BeforeAll
    static void start() {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        // so a group may lower its lock duration to seconds (Kafka's bound is 15 s by default)
        overrides.put("group.share.min.record.lock.duration.ms", "1000");
        broker = TestBroker.start("share-consumer", overrides);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /**
     * Polls, accepts every record delivered and commits the acknowledgements, until {@code done} holds for the records
     * accepted so far; returns them in delivery order.
     */
    static List<ConsumerRecord<String, String>> acceptUntil(KafkaShareConsumer<String, String> c, Duration timeout,
                                                            Predicate<List<ConsumerRecord<String, String>>> done) {
        List<ConsumerRecord<String, String>> accepted = new ArrayList<>();
        await().atMost(timeout).until(() -> {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                accepted.add(r);
                c.acknowledge(r, AcknowledgeType.ACCEPT);
            }
            c.commitSync();
            return done.test(accepted);
        });
        return accepted;
    }

    /** The offsets of {@code records}, in order. */
    static List<Long> offsets(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::offset).toList();
    }

    static Properties shareProps(String bootstrap, String group, boolean explicit, int maxPollRecords) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPollRecords));
        p.put("share.acknowledgement.mode", explicit ? "explicit" : "implicit");
        return p;
    }

    static KafkaShareConsumer<String, String> shareConsumer(String group, boolean explicit, int maxPollRecords) {
        return new KafkaShareConsumer<>(shareProps(broker.bootstrapServers(), group, explicit, maxPollRecords));
    }

    /** The group's own configs (share.auto.offset.reset, share.record.lock.duration.ms, ...). */
    static void setGroupConfigs(String bootstrap, String group, Map<String, String> configs) throws Exception {
        List<AlterConfigOp> ops = new ArrayList<>();
        configs.forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
        try (Admin admin = GroupTestSupport.admin(bootstrap)) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), ops))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Polls until records arrive; fails after the timeout. */
    static List<ConsumerRecord<String, String>> pollSome(KafkaShareConsumer<String, String> c) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        await().atMost(TIMEOUT).until(() -> {
            c.poll(Duration.ofMillis(200)).forEach(out::add);
            return !out.isEmpty();
        });
        return out;
    }

    static short deliveries(ConsumerRecord<?, ?> r) {
        return r.deliveryCount().orElseThrow();
    }

    @Test
    void threeConsumersShareOnePartitionAndGetEveryRecordExactlyOnce() throws Exception {
        String topic = TestDirs.uniqueTopic("queue");
        String group = "three-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest"));
        int count = 600;
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "job", count);

        Map<Long, AtomicInteger> deliveriesByOffset = new ConcurrentHashMap<>();
        Map<Integer, AtomicInteger> perConsumer = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int id = i;
            Thread t = new Thread(() -> {
                try (KafkaShareConsumer<String, String> c = shareConsumer(group, false, 20)) {
                    c.subscribe(List.of(topic));
                    while (running.get()) {
                        ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(100));
                        for (ConsumerRecord<String, String> r : records) {
                            deliveriesByOffset.computeIfAbsent(r.offset(), o -> new AtomicInteger()).incrementAndGet();
                            perConsumer.computeIfAbsent(id, x -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    c.commitSync(); // implicit mode: the last poll's records are accepted here
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "share-consumer-" + i);
            t.start();
            threads.add(t);
        }
        try {
            await().atMost(TIMEOUT).until(() -> deliveriesByOffset.size() == count || !failures.isEmpty());
        } finally {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
        assertThat(failures).isEmpty();
        assertThat(deliveriesByOffset).hasSize(count);
        assertThat(deliveriesByOffset.values()).allSatisfy(n -> assertThat(n.get()).as("deliveries of a record").isEqualTo(1));
        assertThat(perConsumer.values().stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(count);
        // nothing is left for a fourth consumer: every record was accepted
        try (KafkaShareConsumer<String, String> late = shareConsumer(group, false, 20)) {
            late.subscribe(List.of(topic));
            GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "marker", 1);
            List<ConsumerRecord<String, String>> got = pollSome(late);
            assertThat(got).extracting(ConsumerRecord::offset).containsExactly((long) count);
        }
    }

    @Test
    void releasedRecordComesBackWithAHigherDeliveryCountAndRejectedNever() throws Exception {
        String topic = TestDirs.uniqueTopic("release");
        String group = "release-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest"));
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "r", 3);
        try (KafkaShareConsumer<String, String> c = shareConsumer(group, true, 10)) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> first = new ArrayList<>();
            await().atMost(TIMEOUT).until(() -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    first.add(r);
                    // offset 0 is released, 1 rejected, 2 accepted
                    c.acknowledge(r, r.offset() == 0 ? AcknowledgeType.RELEASE
                            : r.offset() == 1 ? AcknowledgeType.REJECT : AcknowledgeType.ACCEPT);
                }
                return first.size() >= 3;
            });
            assertThat(first).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L);
            assertThat(first).allSatisfy(r -> assertThat(deliveries(r)).isEqualTo((short) 1));
            c.commitSync();

            GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "later", 1);
            List<ConsumerRecord<String, String>> again = acceptUntil(c, TIMEOUT,
                    got -> got.stream().anyMatch(r -> r.offset() == 3));
            ConsumerRecord<String, String> redelivered = again.stream().filter(r -> r.offset() == 0).findFirst()
                    .orElseThrow(() -> new AssertionError("offset 0 was not redelivered: " + again));
            assertThat(deliveries(redelivered)).isEqualTo((short) 2);
            assertThat(again).extracting(ConsumerRecord::offset).doesNotContain(1L, 2L);
        }
    }

    @Test
    void recordsOfAConsumerThatStopsGoToAnotherAfterTheLockDuration() throws Exception {
        String topic = TestDirs.uniqueTopic("locks");
        String group = "locks-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest",
                "share.record.lock.duration.ms", "2000"));
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "held", 5);
        try (KafkaShareConsumer<String, String> stuck = shareConsumer(group, true, 10);
             KafkaShareConsumer<String, String> other = shareConsumer(group, true, 10)) {
            stuck.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> held = new ArrayList<>();
            await().atMost(TIMEOUT).until(() -> {
                stuck.poll(Duration.ofMillis(200)).forEach(held::add);
                return held.size() == 5;
            });
            // "stuck" neither acknowledges nor polls again, but stays in the group (its heartbeats go on)
            long acquiredAt = System.nanoTime();
            other.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> taken = new ArrayList<>();
            await().atMost(TIMEOUT).until(() -> {
                for (ConsumerRecord<String, String> r : other.poll(Duration.ofMillis(200))) {
                    taken.add(r);
                    other.acknowledge(r, AcknowledgeType.ACCEPT);
                }
                return taken.size() == 5;
            });
            other.commitSync();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acquiredAt)).isGreaterThanOrEqualTo(1500);
            assertThat(taken).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L, 3L, 4L);
            assertThat(taken).allSatisfy(r -> assertThat(deliveries(r)).isEqualTo((short) 2));
        }
    }

    @Test
    void recordsOfAConsumerClosedWithoutAcknowledgingGoToAnother() throws Exception {
        String topic = TestDirs.uniqueTopic("closed");
        String group = "closed-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest"));
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "dropped", 4);
        try (KafkaShareConsumer<String, String> other = shareConsumer(group, true, 10)) {
            try (KafkaShareConsumer<String, String> leaving = shareConsumer(group, true, 10)) {
                leaving.subscribe(List.of(topic));
                List<ConsumerRecord<String, String>> held = new ArrayList<>();
                await().atMost(TIMEOUT).until(() -> {
                    leaving.poll(Duration.ofMillis(200)).forEach(held::add);
                    return held.size() == 4;
                });
                leaving.acknowledge(held.get(0), AcknowledgeType.ACCEPT);
            } // closed with offsets 1..3 unacknowledged: released long before the 30 s lock would expire
            other.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> taken = new ArrayList<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                for (ConsumerRecord<String, String> r : other.poll(Duration.ofMillis(200))) {
                    taken.add(r);
                    other.acknowledge(r, AcknowledgeType.ACCEPT);
                }
                return taken.size() >= 3;
            });
            assertThat(taken).extracting(ConsumerRecord::offset).containsExactly(1L, 2L, 3L);
            assertThat(taken).allSatisfy(r -> assertThat(deliveries(r)).isEqualTo((short) 2));
        }
    }

    @Test
    void aPoisonRecordIsArchivedAtTheDeliveryCountLimit() throws Exception {
        String topic = TestDirs.uniqueTopic("poison");
        String group = "poison-" + topic;
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 1);
        setGroupConfigs(broker.bootstrapServers(), group, Map.of("share.auto.offset.reset", "earliest",
                "share.delivery.count.limit", "3"));
        GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "poison", 1);
        List<Short> attempts = Collections.synchronizedList(new ArrayList<>());
        try (KafkaShareConsumer<String, String> c = shareConsumer(group, true, 10)) {
            c.subscribe(List.of(topic));
            await().atMost(TIMEOUT).until(() -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    if (r.offset() == 0) {
                        attempts.add(deliveries(r));
                        c.acknowledge(r, AcknowledgeType.RELEASE); // the consumer fails on it every time
                    } else {
                        c.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                }
                return attempts.size() == 3;
            });
            c.commitSync();
            GroupTestSupport.produce(broker.bootstrapServers(), topic, 1, "healthy", 1);
            List<Long> later = offsets(acceptUntil(c, TIMEOUT, got -> offsets(got).contains(1L)));
            assertThat(attempts).containsExactly((short) 1, (short) 2, (short) 3);
            assertThat(later).containsExactly(1L);
        }
    }

    @Test
    void acknowledgedRecordsAreNotRedeliveredAfterARestart() throws Exception {
        try (TestBroker restarting = TestBroker.start("share-restart", GroupTestSupport.BROKER_OVERRIDES)) {
            String bootstrap = restarting.bootstrapServers();
            String topic = "durable-queue";
            String group = "durable-share";
            GroupTestSupport.createTopic(bootstrap, topic, 1);
            setGroupConfigs(bootstrap, group, Map.of("share.auto.offset.reset", "earliest"));
            GroupTestSupport.produce(bootstrap, topic, 1, "d", 10);
            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(shareProps(bootstrap, group, true, 10))) {
                c.subscribe(List.of(topic));
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                await().atMost(TIMEOUT).until(() -> {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        got.add(r);
                        // 0..5 accepted, 6 rejected, 7..9 released
                        c.acknowledge(r, r.offset() <= 5 ? AcknowledgeType.ACCEPT
                                : r.offset() == 6 ? AcknowledgeType.REJECT : AcknowledgeType.RELEASE);
                    }
                    return got.size() >= 10;
                });
                c.commitSync();
            }
            restarting.restart();
            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(shareProps(bootstrap, group, true, 10))) {
                c.subscribe(List.of(topic));
                List<ConsumerRecord<String, String>> got = acceptUntil(c, TIMEOUT, accepted -> accepted.size() >= 3);
                assertThat(got).extracting(ConsumerRecord::offset).containsExactly(7L, 8L, 9L);
                assertThat(got).allSatisfy(r -> assertThat(deliveries(r)).isEqualTo((short) 2));
            }
        }
    }
}
