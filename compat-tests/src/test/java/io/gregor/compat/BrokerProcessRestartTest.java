package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A broker process stopped (SIGTERM) or killed (SIGKILL) while an idempotent producer writes, then
 * restarted on the same port and data dir: every acknowledged record is there exactly once, at the offset
 * the broker acknowledged, and new records continue after the old ones.
 */
class BrokerProcessRestartTest {
    private static final int PARTITIONS = 3;
    private static final int ACKS_BEFORE = 3000;
    private static final int ACKS_AFTER = 2000;

    @Test
    void sigtermRestartUnderLoad() {
        restartUnderLoad(false);
    }

    @Test
    void sigkillRestartUnderLoad() {
        restartUnderLoad(true);
    }

    /**
     * SIGKILL leaves the high-watermark checkpoint behind the log (here it is never written): the restarted
     * broker must still serve every acknowledged record at once, before anyone writes again. Otherwise
     * consumers stop short and a producer's retried acks=all batch waits for a high watermark that never moves.
     */
    @Test
    void sigkillRestartServesEveryAcknowledgedRecordBeforeNewWrites() {
        Map<String, String> staleCheckpoints = Map.of("replica.high.watermark.checkpoint.interval.ms", "3600000");
        try (BrokerProcess broker = new BrokerProcess("sigkill-hw", staleCheckpoints).start()) {
            String topic = TestDirs.uniqueTopic("sigkill-hw");
            Clients.createTopic(broker.bootstrapServers(), topic, 1);
            int count = 500;
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(),
                    Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
                for (int i = 0; i < count; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
                }
                producer.flush();
            }

            broker.kill();
            broker.start();

            try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
                TopicPartition tp = new TopicPartition(topic, 0);
                assertThat(consumer.endOffsets(List.of(tp))).as("log end visible to consumers").containsEntry(tp, (long) count);
                List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, List.of(tp));
                assertThat(records).extracting(ConsumerRecord::value).hasSize(count).startsWith("v0").endsWith("v" + (count - 1));
            }
        }
    }

    private void restartUnderLoad(boolean kill) {
        try (BrokerProcess broker = new BrokerProcess(kill ? "sigkill" : "sigterm", Map.of()).start()) {
            String topic = TestDirs.uniqueTopic(kill ? "sigkill" : "sigterm");
            Clients.createTopic(broker.bootstrapServers(), topic, PARTITIONS);

            Map<String, AckedLoad.Ack> acked;
            Map<String, String> failed;
            try (AckedLoad load = new AckedLoad(broker.bootstrapServers(), topic, PARTITIONS)) {
                await("acks before the restart").atMost(Duration.ofSeconds(60))
                        .until(() -> load.ackedIn(1) >= ACKS_BEFORE);

                if (kill) {
                    broker.kill();
                } else {
                    broker.stop();
                    assertThat(broker.logDir().resolve(".kafka_cleanshutdown"))
                            .as("clean-shutdown marker after SIGTERM").exists();
                }
                broker.start();
                load.enterPhase(2);

                try {
                    await("acks after the restart").atMost(Duration.ofSeconds(90))
                            .until(() -> load.ackedIn(2) >= ACKS_AFTER);
                } catch (ConditionTimeoutException e) {
                    throw new AssertionError(load.ackedIn(2) + " acks after the restart, " + load.failed().size()
                            + " sends failed" + (load.failed().isEmpty() ? "" : " e.g. " + load.failed().values().iterator().next())
                            + "; broker output in " + broker.outputFile(), e);
                }
                load.finish();
                acked = Map.copyOf(load.acked());
                failed = Map.copyOf(load.failed());
            }

            String diagnosis = "acked " + acked.size() + ", failed " + failed.size()
                    + (failed.isEmpty() ? "" : " e.g. " + failed.entrySet().iterator().next())
                    + "; broker output in " + broker.outputFile();

            List<ConsumerRecord<String, String>> records;
            try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
                records = Clients.readAll(consumer, Clients.partitions(topic, PARTITIONS));
            }

            Map<String, Long> copies = records.stream()
                    .collect(Collectors.groupingBy(ConsumerRecord::value, Collectors.counting()));
            Map<String, Long> duplicated = copies.entrySet().stream().filter(e -> e.getValue() > 1)
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            assertThat(duplicated).as("records stored more than once (idempotence); %s", diagnosis).isEmpty();

            List<String> missing = acked.keySet().stream().filter(v -> !copies.containsKey(v)).sorted().toList();
            assertThat(missing).as("acknowledged records missing after restart; %s", diagnosis).isEmpty();

            Map<String, ConsumerRecord<String, String>> byValue = records.stream()
                    .collect(Collectors.toMap(ConsumerRecord::value, r -> r, (a, b) -> a));
            for (Map.Entry<String, AckedLoad.Ack> e : acked.entrySet()) {
                ConsumerRecord<String, String> r = byValue.get(e.getKey());
                assertThat(r.partition() + "@" + r.offset()).as("where %s was acknowledged; %s", e.getKey(), diagnosis)
                        .isEqualTo(e.getValue().partition() + "@" + e.getValue().offset());
            }

            Map<Integer, Long> lastBefore = new HashMap<>();
            Map<Integer, Long> firstAfter = new HashMap<>();
            for (AckedLoad.Ack a : acked.values()) {
                if (a.phase() == 1) {
                    lastBefore.merge(a.partition(), a.offset(), Math::max);
                } else {
                    firstAfter.merge(a.partition(), a.offset(), Math::min);
                }
            }
            for (int p = 0; p < PARTITIONS; p++) {
                assertThat(firstAfter.get(p)).as("partition %d: first offset acked after the restart; %s", p, diagnosis)
                        .isGreaterThan(lastBefore.get(p));
            }
            Map<Integer, Long> lastOffsetRead = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                Long previous = lastOffsetRead.put(r.partition(), r.offset());
                assertThat(previous == null || r.offset() > previous).as("offsets increase in partition %d", r.partition())
                        .isTrue();
            }

            // Whatever recovery did to the files, Kafka's own tool must find them consistent.
            broker.stop();
            for (int p = 0; p < PARTITIONS; p++) {
                SegmentDumps.dumpPartitionClean(broker.logDir().resolve(topic + "-" + p));
            }
        }
    }
}
