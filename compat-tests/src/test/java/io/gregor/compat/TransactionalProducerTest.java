package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Transactions end to end with stock clients: a transactional KafkaProducer commits and aborts, the
 * coordinator's markers land on the partition leaders, and a read_committed KafkaConsumer sees exactly the
 * committed records, holds at an open transaction and answers its LSO to ListOffsets. (TransactionsEndToEndTest
 * covers fencing, timeouts and offsets sent to a transaction.)
 */
class TransactionalProducerTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static KafkaProducer<String, String> transactional(String id) {
        return Clients.producer(BROKER.bootstrapServers(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id));
    }

    private static List<String> readCommitted(TopicPartition tp, int expected) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            return Clients.readFromBeginning(consumer, List.of(tp), expected).stream()
                    .map(ConsumerRecord::value).toList();
        }
    }

    @Test
    void readCommittedSeesCommittedTransactionsOnlyAcrossPartitions() {
        String topic = TestDirs.uniqueTopic("txn-producer");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 2);
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        try (KafkaProducer<String, String> producer = transactional("tx-" + topic)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, null, "c0"));
            producer.send(new ProducerRecord<>(topic, 1, null, "c1"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, null, "a0"));
            producer.send(new ProducerRecord<>(topic, 1, null, "a1"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, null, "d0"));
            producer.commitTransaction();
        }
        assertThat(readCommitted(p0, 2)).containsExactly("c0", "d0");
        assertThat(readCommitted(p1, 1)).containsExactly("c1");
        try (KafkaConsumer<String, String> uncommitted = Clients.consumer(BROKER.bootstrapServers())) {
            assertThat(Clients.readFromBeginning(uncommitted, List.of(p0), 3).stream().map(ConsumerRecord::value))
                    .containsExactly("c0", "a0", "d0");
        }
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            // three data records and three markers: the LSO is the log end once every transaction ended
            await().atMost(Clients.TIMEOUT).untilAsserted(() -> assertThat(Clients.get(admin.listOffsets(
                    Map.of(p0, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                    .partitionResult(p0)).offset()).isEqualTo(6));
        }
    }

    @Test
    void anOpenTransactionHoldsReadCommittedConsumersBackUntilItCommits() {
        String topic = TestDirs.uniqueTopic("txn-open");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = transactional("tx-" + topic);
             KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(),
                     Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            producer.initTransactions();
            producer.beginTransaction();
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, null, "open")));
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            assertThat(consumer.poll(Duration.ofMillis(1500)).isEmpty()).isTrue();
            assertThat(consumer.position(tp)).isZero();
            producer.commitTransaction();
            assertThat(Clients.pollUntil(consumer, 1).get(0).value()).isEqualTo("open");
        }
    }

    @Test
    void kafkaTransactionsDescribeProducersShowsTheOpenTransaction() {
        String topic = TestDirs.uniqueTopic("txn-describe");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = transactional("tx-" + topic)) {
            producer.initTransactions();
            producer.beginTransaction();
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, null, "v0")));
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, null, "v1")));
            ToolRunner.Result describe = ToolRunner.runTool("org.apache.kafka.tools.TransactionsCommand",
                    "--bootstrap-server", BROKER.bootstrapServers(), "describe-producers", "--topic", topic,
                    "--partition", "0");
            assertThat(describe.exitCode()).as(describe.describe()).isZero();
            assertThat(describe.stdout()).as(describe.describe()).contains("CurrentTransactionStartOffset");
            // one producer: epoch 0, no marker yet (coordinator epoch -1), last sequence 1, transaction from 0
            assertThat(describe.stdoutLines()).as(describe.describe())
                    .anyMatch(l -> l.trim().matches("\\d+\\s+0\\s+-1\\s+1\\s+\\d+\\s+0"));
            producer.commitTransaction();
        }
    }
}
