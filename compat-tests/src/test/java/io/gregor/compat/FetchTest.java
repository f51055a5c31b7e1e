package io.gregor.compat;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** Fetch semantics a consumer depends on: long polling, out-of-range errors, size limits. */
class FetchTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final int LONG_WAIT_MS = 10_000;

    private static void produce(String topic, int partition, int count, String valuePrefix) {
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 20))) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, partition, null, valuePrefix + i));
            }
            producer.flush();
        }
    }

    @Test
    void longPollReturnsAsSoonAsDataArrives() {
        String topic = TestDirs.uniqueTopic("long-poll");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(), Map.of(
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, LONG_WAIT_MS,
                ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1,
                ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 40_000));
             KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            consumer.assign(List.of(tp));
            assertThat(consumer.position(tp)).isZero();
            // This poll sends a fetch for an empty partition, which the broker parks for up to fetch.max.wait.ms.
            assertThat(consumer.poll(Duration.ofMillis(500)).isEmpty()).isTrue();

            long sentAt = System.nanoTime();
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, null, "wake up")));
            List<ConsumerRecord<String, String>> records = Clients.pollUntil(consumer, 1);
            long latencyMs = (System.nanoTime() - sentAt) / 1_000_000;

            assertThat(records.get(0).value()).isEqualTo("wake up");
            assertThat(latencyMs).as("ms from produce to consume while a fetch was parked (max wait %d ms)",
                    LONG_WAIT_MS).isLessThan(LONG_WAIT_MS / 3);
            // The next fetch is parked again; don't let close() wait it out.
            consumer.close(CloseOptions.timeout(Duration.ofMillis(500)));
        }
    }

    /** The other half of long polling: with no data the broker holds the fetch instead of answering at once. */
    @Test
    void emptyFetchWaitsForMaxWait() throws Exception {
        String topic = TestDirs.uniqueTopic("parked");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        short version = 12; // the last Fetch version that names topics instead of ids
        FetchRequestData request = new FetchRequestData()
                .setReplicaId(-1).setMaxWaitMs(1000).setMinBytes(1).setMaxBytes(1 << 20)
                .setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
                .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(topic).setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                .setCurrentLeaderEpoch(-1).setLastFetchedEpoch(-1).setLogStartOffset(-1)
                                .setPartitionMaxBytes(1 << 20)))));

        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(20))) {
            // Right after CreateTopics the partition may not be led yet (Kafka answers NOT_LEADER_OR_FOLLOWER
            // at once then); the first error-free answer is the one that must have waited.
            long[] tookMs = new long[1];
            FetchResponseData.PartitionData[] partition = new FetchResponseData.PartitionData[1];
            await("an error-free fetch").atMost(Clients.TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
                long start = System.nanoTime();
                FetchResponseData response = raw.roundTrip(ApiKeys.FETCH, version, request, FetchResponseData::new);
                tookMs[0] = (System.nanoTime() - start) / 1_000_000;
                assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.NONE);
                partition[0] = response.responses().get(0).partitions().get(0);
                return partition[0].errorCode() != Errors.NOT_LEADER_OR_FOLLOWER.code();
            });
            assertThat(Errors.forCode(partition[0].errorCode())).isEqualTo(Errors.NONE);
            assertThat(partition[0].highWatermark()).isZero();
            assertThat(tookMs[0]).as("ms the broker held an empty fetch with max wait 1000 ms").isBetween(800L, 5000L);
        }
    }

    @Test
    void seekPastTheEndWithResetNoneThrowsOffsetOutOfRange() {
        String topic = TestDirs.uniqueTopic("out-of-range");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        produce(topic, 0, 5, "v");

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none"))) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 100);
            Throwable thrown = await("poll throws").atMost(Clients.TIMEOUT).pollInterval(Duration.ZERO)
                    .until(() -> catchThrowable(() -> consumer.poll(Duration.ofMillis(200))), Objects::nonNull);
            assertThat(thrown).isInstanceOf(OffsetOutOfRangeException.class);
            assertThat(((OffsetOutOfRangeException) thrown).offsetOutOfRangePartitions()).containsEntry(tp, 100L);
        }
    }

    @Test
    void seekPastTheEndWithResetEarliestStartsOver() {
        String topic = TestDirs.uniqueTopic("reset-earliest");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        produce(topic, 0, 5, "v");

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 100);
            List<ConsumerRecord<String, String>> records = Clients.pollUntil(consumer, 5);
            assertThat(records).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L, 3L, 4L);
        }
    }

    @Test
    void seekIntoTheMiddleOfABatchStartsAtThatOffset() {
        String topic = TestDirs.uniqueTopic("mid-batch");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        produce(topic, 0, 10, "v"); // one linger window: one batch

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 6);
            List<ConsumerRecord<String, String>> records = Clients.pollUntil(consumer, 4);
            assertThat(records).extracting(ConsumerRecord::value).containsExactly("v6", "v7", "v8", "v9");
        }
    }

    @Test
    void tinyFetchLimitsStillMakeProgress() {
        String topic = TestDirs.uniqueTopic("tiny-fetch");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 3);
        String big = "y".repeat(2000);
        for (int p = 0; p < 3; p++) {
            produce(topic, p, 10, p + ":" + big + ":");
        }

        // Limits below one batch: the broker must still return the first batch whole, or consumers stall.
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(), Map.of(
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 512))) {
            List<ConsumerRecord<String, String>> records =
                    Clients.readFromBeginning(consumer, Clients.partitions(topic, 3), 30);
            assertThat(records).hasSize(30);
            for (int p = 0; p < 3; p++) {
                int partition = p;
                assertThat(records.stream().filter(r -> r.partition() == partition).map(ConsumerRecord::offset))
                        .as("partition %d", p).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
            }
        }
    }
}
