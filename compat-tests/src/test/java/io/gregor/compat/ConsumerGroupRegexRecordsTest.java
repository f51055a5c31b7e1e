package io.gregor.compat;

import io.gregor.coordinator.consumer.ConsumerGroup;
import io.gregor.coordinator.consumer.ConsumerGroupRecords;
import io.gregor.coordinator.consumer.ResolvedRegex;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.coordinator.common.runtime.CoordinatorRecord;
import org.apache.kafka.coordinator.group.GroupCoordinatorRecordHelpers;
import org.apache.kafka.coordinator.group.GroupCoordinatorRecordSerde;
import org.apache.kafka.coordinator.group.modern.consumer.ResolvedRegularExpression;
import org.apache.kafka.tools.consumer.GroupMetadataMessageFormatter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.gregor.compat.GroupTestSupport.consumerProps;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A stock KafkaConsumer subscribed by regex (group.protocol=consumer, subscribe(SubscriptionPattern)): as on Kafka
 * 4.4, the coordinator keeps the regex's resolution in {@code __consumer_offsets} as a ConsumerGroupRegularExpression
 * record (type 16), read here with Kafka's own GroupMetadataMessageFormatter (its serde and JSON), widened to that
 * type since Kafka's lets only classic GroupMetadata records through. The record names the matching topics, is
 * written again when a matching topic is created or deleted, is loaded back by a restarted broker (the group keeps
 * its epoch and its member its regex subscription), and gets a tombstone once its last member left. Records
 * written by Kafka's own serde load too.
 */
class ConsumerGroupRegexRecordsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int OFFSETS_PARTITIONS = 50;

    /** Kafka's formatter of group records, letting the regex records through too. */
    static final class RegexRecordFormatter extends GroupMetadataMessageFormatter {
        @Override
        protected boolean isRecordTypeAllowed(short type) {
            return type == 16;
        }
    }

    @Test
    void theRegexResolutionIsWrittenUpdatedLoadedAndTombstoned() throws Exception {
        Map<String, String> overrides = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        overrides.put("group.consumer.min.heartbeat.interval.ms", "500");
        overrides.put("group.consumer.heartbeat.interval.ms", "500");
        try (TestBroker broker = TestBroker.start("kip848-regex-records", overrides)) {
            String bootstrap = broker.bootstrapServers(); // restarts keep the port
            String group = "kip848-regex-records-group";
            String regex = "rxrec-.*";
            String key = "{\"type\":16,\"data\":{\"groupId\":\"" + group + "\",\"regularExpression\":\"" + regex + "\"}}";
            GroupTestSupport.createTopic(bootstrap, "rxrec-one", 2);
            GroupTestSupport.createTopic(bootstrap, "other-topic", 1);
            Properties props = consumerProps(bootstrap, group);
            try (ConsumerProtocolMember member = new ConsumerProtocolMember(props,
                    (c, listener) -> c.subscribe(new SubscriptionPattern(regex), listener), "regex-records")) {
                await().atMost(WAIT).untilAsserted(() ->
                        assertThat(member.assignment()).isEqualTo(partitions(Map.of("rxrec-one", 2))));
                await().atMost(WAIT).untilAsserted(() -> assertThat(last(regexRecords(bootstrap, group), key))
                        .contains("\"value\":{\"version\":0,\"data\":{\"topics\":[\"rxrec-one\"],\"version\":")
                        .contains("\"timestamp\":"));

                // a matching topic created: the resolution is written again with it
                GroupTestSupport.createTopic(bootstrap, "rxrec-two", 3);
                await().atMost(WAIT).untilAsserted(() ->
                        assertThat(member.assignment()).isEqualTo(partitions(Map.of("rxrec-one", 2, "rxrec-two", 3))));
                List<String> written = regexRecords(bootstrap, group);
                assertThat(last(written, key)).contains("\"topics\":[\"rxrec-one\",\"rxrec-two\"]");
                assertThat(written).as("only regex records of the group").allSatisfy(l -> assertThat(l).contains(key));

                // a restarted broker loads the resolution: the group keeps its epoch (a lost resolution would be
                // resolved and written again at the member's next heartbeat, moving the epoch)
                ConsumerGroupDescription before = describe(bootstrap, group);
                int epochBefore = before.groupEpoch().orElseThrow();
                broker.restart();
                await().atMost(WAIT).untilAsserted(() -> {
                    ConsumerGroupDescription after = describe(bootstrap, group);
                    assertThat(after.type()).isEqualTo(GroupType.CONSUMER);
                    assertThat(after.groupState().toString()).isEqualToIgnoringCase("Stable");
                    assertThat(after.members()).hasSize(1);
                    assertThat(after.members().iterator().next().consumerId())
                            .isEqualTo(before.members().iterator().next().consumerId());
                });
                // several 500 ms heartbeats of the member after the restart leave the epoch and the records as they were
                await().during(Duration.ofSeconds(2)).atMost(WAIT)
                        .until(() -> describe(bootstrap, group).groupEpoch().orElseThrow() == epochBefore);
                assertThat(regexRecords(bootstrap, group)).hasSameSizeAs(written);

                // and the member's regex subscription carries on: a third matching topic reaches it
                GroupTestSupport.createTopic(bootstrap, "rxrec-three", 1);
                await().atMost(WAIT).untilAsserted(() -> assertThat(member.assignment())
                        .isEqualTo(partitions(Map.of("rxrec-one", 2, "rxrec-two", 3, "rxrec-three", 1))));
                assertThat(last(regexRecords(bootstrap, group), key))
                        .contains("\"topics\":[\"rxrec-one\",\"rxrec-three\",\"rxrec-two\"]");

                // a matching topic deleted: the resolution is written again without it
                try (Admin admin = GroupTestSupport.admin(bootstrap)) {
                    admin.deleteTopics(List.of("rxrec-two")).all().get(30, TimeUnit.SECONDS);
                }
                await().atMost(WAIT).untilAsserted(() -> assertThat(member.assignment())
                        .isEqualTo(partitions(Map.of("rxrec-one", 2, "rxrec-three", 1))));
                assertThat(last(regexRecords(bootstrap, group), key))
                        .contains("\"topics\":[\"rxrec-one\",\"rxrec-three\"]");
            }

            // the last member subscribing with the regex left: its resolution goes
            await().atMost(WAIT).untilAsserted(() ->
                    assertThat(last(regexRecords(bootstrap, group), key)).isEqualTo("{\"key\":" + key + ",\"value\":null}"));
        }
    }

    /**
     * A log written by Kafka 4.4 loads: its group coordinator's own serde writes a consumer group's epoch and two
     * regex records, one tombstoned; Gregor's loader rebuilds the live one, and the tombstones Gregor writes when
     * the group goes read back, through Kafka's serde, as Kafka's own.
     */
    @Test
    void regexRecordsWrittenByKafkasSerdeLoadAndGregorsTombstonesReadAsKafkas() {
        GroupCoordinatorRecordSerde serde = new GroupCoordinatorRecordSerde();
        String group = "kafka-written-regex-group";
        List<CoordinatorRecord> kafkaWritten = List.of(
                GroupCoordinatorRecordHelpers.newConsumerGroupEpochRecord(group, 7, 0L),
                GroupCoordinatorRecordHelpers.newConsumerGroupRegularExpressionRecord(group, "orders-.*",
                        new ResolvedRegularExpression(Set.of("orders-eu", "orders-us"), 4242L, 1_700_000_000_000L)),
                GroupCoordinatorRecordHelpers.newConsumerGroupRegularExpressionRecord(group, "gone-.*",
                        new ResolvedRegularExpression(Set.of("gone-1"), 4000L, 1_600_000_000_000L)),
                GroupCoordinatorRecordHelpers.newConsumerGroupRegularExpressionTombstone(group, "gone-.*"));
        ConsumerGroupRecords.Loader loader = new ConsumerGroupRecords.Loader();
        for (CoordinatorRecord record : kafkaWritten) {
            ByteBuffer key = ByteBuffer.wrap(serde.serializeKey(record));
            byte[] value = serde.serializeValue(record);
            short type = key.getShort();
            assertThat(ConsumerGroupRecords.isConsumerGroupRecord(type)).isTrue();
            loader.replay(type, key.slice(), value == null ? null : ByteBuffer.wrap(value));
        }
        assertThat(loader.groupIds()).containsExactly(group);
        ConsumerGroup loaded = loader.build(group, new Object());
        assertThat(loaded.groupEpoch()).isEqualTo(7);
        assertThat(loaded.resolvedRegex("orders-.*"))
                .isEqualTo(new ResolvedRegex(Set.of("orders-eu", "orders-us"), 4242L, 1_700_000_000_000L));
        assertThat(loaded.resolvedRegex("gone-.*")).isNull();

        List<CoordinatorRecord> tombstones = new ArrayList<>();
        for (io.gregor.coordinator.CoordinatorRecord r : ConsumerGroupRecords.groupTombstones(loaded)) {
            tombstones.add(serde.deserialize(ByteBuffer.wrap(r.key()), r.value() == null ? null : ByteBuffer.wrap(r.value())));
        }
        assertThat(tombstones).containsExactly(
                GroupCoordinatorRecordHelpers.newConsumerGroupTargetAssignmentMetadataTombstoneRecord(group),
                GroupCoordinatorRecordHelpers.newConsumerGroupRegularExpressionTombstone(group, "orders-.*"),
                GroupCoordinatorRecordHelpers.newConsumerGroupSubscriptionMetadataTombstoneRecord(group),
                GroupCoordinatorRecordHelpers.newConsumerGroupEpochTombstoneRecord(group));
    }

    private static Set<TopicPartition> partitions(Map<String, Integer> topics) {
        Set<TopicPartition> out = new HashSet<>();
        topics.forEach((topic, count) -> {
            for (int p = 0; p < count; p++) {
                out.add(new TopicPartition(topic, p));
            }
        });
        return out;
    }

    private static String last(List<String> lines, String key) {
        String out = null;
        for (String line : lines) {
            if (line.startsWith("{\"key\":" + key + ",")) {
                out = line;
            }
        }
        assertThat(out).as("a record of key %s in %s", key, lines).isNotNull();
        return out;
    }

    /** The group's regex records in its {@code __consumer_offsets} partition, as Kafka's formatter prints them. */
    private static List<String> regexRecords(String bootstrap, String group) {
        TopicPartition partition = new TopicPartition("__consumer_offsets", Utils.abs(group.hashCode()) % OFFSETS_PARTITIONS);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        RegexRecordFormatter formatter = new RegexRecordFormatter();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
             PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(partition) < end) {
                assertThat(System.nanoTime()).as("read %s up to %d", partition, end).isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    formatter.writeTo(record, out);
                    out.println(); // the console consumer separates records; the formatter does not
                }
            }
        }
        List<String> lines = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        return lines;
    }

    private static ConsumerGroupDescription describe(String bootstrap, String group) throws Exception {
        try (Admin admin = GroupTestSupport.admin(bootstrap)) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
        }
    }
}
