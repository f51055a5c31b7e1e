package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A committed and an open transaction across SIGKILL of a single broker process and its restart: the committed
 * records stay visible to read_committed, the open transaction (recovered from the partition log's producer
 * state and __transaction_state) holds the last stable offset until the coordinator aborts it after its
 * timeout, and its records never reach a read_committed consumer.
 */
class TransactionsSigkillRestartTest {
    /**
     * Long enough for the kill, the restart and the LSO check to happen while the transaction is still open (a
     * restart takes 2-5 s on a loaded CI machine), short enough not to dominate the test's time.
     */
    private static final int TRANSACTION_TIMEOUT_MS = 15_000;

    private static KafkaConsumer<String, String> consumer(BrokerProcess broker, String isolation) {
        return Clients.consumer(broker.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation));
    }

    @Test
    void theCommittedTransactionSurvivesAndTheOpenOneIsAbortedAfterItsTimeout() {
        try (BrokerProcess broker = new BrokerProcess("txn-sigkill",
                Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000")).start()) {
            String topic = TestDirs.uniqueTopic("txn-sigkill");
            Clients.createTopic(broker.bootstrapServers(), topic, 1);
            TopicPartition tp = new TopicPartition(topic, 0);
            try (KafkaProducer<String, String> committer = Clients.producer(broker.bootstrapServers(),
                    Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sigkill-committer"))) {
                committer.initTransactions();
                committer.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    committer.send(new ProducerRecord<>(topic, 0, "k" + i, "committed-" + i));
                }
                committer.commitTransaction();
            }
            KafkaProducer<String, String> open = Clients.producer(broker.bootstrapServers(), Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sigkill-open",
                    ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS));
            long openStart;
            try {
                open.initTransactions();
                open.beginTransaction();
                openStart = Clients.get(open.send(new ProducerRecord<>(topic, 0, "x", "open-0"))).offset();
                Clients.get(open.send(new ProducerRecord<>(topic, 0, "y", "open-1")));

                broker.kill();
            } finally {
                open.close(Duration.ZERO); // no graceful close: that would abort the transaction
            }
            broker.start();

            try (KafkaConsumer<String, String> committed = consumer(broker, "read_committed");
                 KafkaConsumer<String, String> uncommitted = consumer(broker, "read_uncommitted")) {
                assertThat(committed.endOffsets(List.of(tp))).as("the open transaction holds the LSO")
                        .containsEntry(tp, openStart);
                assertThat(Clients.readAll(committed, List.of(tp))).extracting(ConsumerRecord::value)
                        .containsExactly("committed-0", "committed-1", "committed-2", "committed-3", "committed-4");

                // the coordinator, reloaded from __transaction_state, aborts it once it timed out
                await("the open transaction aborted").atMost(Duration.ofSeconds(TRANSACTION_TIMEOUT_MS / 1000 + 60))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> committed.endOffsets(List.of(tp)).get(tp) > openStart + 2);
                assertThat(committed.endOffsets(List.of(tp))).as("past the abort marker")
                        .isEqualTo(uncommitted.endOffsets(List.of(tp)));
                assertThat(Clients.readAll(committed, List.of(tp))).extracting(ConsumerRecord::value)
                        .containsExactly("committed-0", "committed-1", "committed-2", "committed-3", "committed-4");
                assertThat(Clients.readAll(uncommitted, List.of(tp))).extracting(ConsumerRecord::value)
                        .contains("open-0", "open-1");
            }
        }
    }
}
