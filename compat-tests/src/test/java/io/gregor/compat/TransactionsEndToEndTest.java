package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Transactions end to end with stock clients: what a transactional producer commits becomes visible to
 * read_committed consumers and what it aborts never does; zombies are fenced; a producer that dies inside
 * a transaction has it aborted after its transaction.timeout.ms; consume-transform-produce moves the
 * group's offsets only when its transaction commits.
 */
class TransactionsEndToEndTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of(
            "transaction.abort.timed.out.transaction.cleanup.interval.ms", "500"));

    private static Admin admin;

    @BeforeAll
    static void openAdmin() {
        admin = Clients.admin(BROKER.bootstrapServers());
    }

    @AfterAll
    static void closeAdmin() {
        admin.close();
    }

    private static KafkaProducer<String, String> transactionalProducer(String transactionalId, int timeoutMs) {
        return Clients.producer(BROKER.bootstrapServers(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, timeoutMs));
    }

    private static KafkaConsumer<String, String> readCommitted() {
        return Clients.consumer(BROKER.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
    }

    /** Everything a read_committed consumer sees up to the partitions' last stable offsets. */
    private static List<String> committedValues(String topic, int partitions) {
        try (KafkaConsumer<String, String> consumer = readCommitted()) {
            List<TopicPartition> tps = Clients.partitions(topic, partitions);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            List<String> values = new ArrayList<>();
            await().atMost(Clients.TIMEOUT).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                }
                return tps.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
            });
            return values;
        }
    }

    private static TransactionState state(String transactionalId) {
        return Clients.get(admin.describeTransactions(List.of(transactionalId)).description(transactionalId)).state();
    }

    @Test
    void committedRecordsAreVisibleAndAbortedOnesAreNot() {
        String topic = TestDirs.uniqueTopic("txn-e2e");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 2);
        String id = topic + "-producer";
        try (KafkaProducer<String, String> producer = transactionalProducer(id, 30_000)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "committed-1"));
            producer.send(new ProducerRecord<>(topic, 1, "k", "committed-2"));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "aborted-1"));
            producer.send(new ProducerRecord<>(topic, 1, "k", "aborted-2"));
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 1, "k", "committed-3"));
            producer.commitTransaction();
        }
        assertThat(committedValues(topic, 2)).containsExactlyInAnyOrder("committed-1", "committed-2", "committed-3");
        await().atMost(Clients.TIMEOUT).until(() -> state(id) == TransactionState.COMPLETE_COMMIT);
    }

    @Test
    void aNewProducerAbortsTheOngoingTransactionOfTheOldOneAndFencesIt() {
        String topic = TestDirs.uniqueTopic("txn-zombie");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        String id = topic + "-producer";
        try (KafkaProducer<String, String> zombie = transactionalProducer(id, 30_000)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, "k", "from-zombie"));
            zombie.flush();
            try (KafkaProducer<String, String> successor = transactionalProducer(id, 30_000)) {
                successor.initTransactions();
                assertThatThrownBy(zombie::commitTransaction).isInstanceOf(ProducerFencedException.class);
                successor.beginTransaction();
                successor.send(new ProducerRecord<>(topic, "k", "from-successor"));
                successor.commitTransaction();
            }
        }
        assertThat(committedValues(topic, 1)).containsExactly("from-successor");
    }

    @Test
    void aProducerThatDiesInsideATransactionHasItAbortedAfterItsTimeout() {
        String topic = TestDirs.uniqueTopic("txn-timeout");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        String id = topic + "-producer";
        KafkaProducer<String, String> abandoned = transactionalProducer(id, 2_000);
        try {
            abandoned.initTransactions();
            abandoned.beginTransaction();
            abandoned.send(new ProducerRecord<>(topic, "k", "never-committed"));
            abandoned.flush();
            assertThat(state(id)).isEqualTo(TransactionState.ONGOING);
            // the producer says nothing more: the coordinator aborts after 2 s (checked every 500 ms)
            await().atMost(Clients.TIMEOUT).until(() -> state(id) == TransactionState.COMPLETE_ABORT);
            assertThat(Clients.get(admin.describeTransactions(List.of(id)).description(id)).producerEpoch())
                    .as("the epoch is bumped to fence the producer, and again by the abort (transaction.version 2)")
                    .isEqualTo((short) 2);
            assertThat(committedValues(topic, 1)).isEmpty();
        } finally {
            abandoned.close(Duration.ZERO);
        }
    }

    @Test
    void consumeTransformProduceMovesTheGroupsOffsetOnlyOnCommit() {
        String input = TestDirs.uniqueTopic("txn-ctp-in");
        String output = TestDirs.uniqueTopic("txn-ctp-out");
        String group = input + "-group";
        Clients.createTopic(BROKER.bootstrapServers(), input, 1);
        Clients.createTopic(BROKER.bootstrapServers(), output, 1);
        try (KafkaProducer<String, String> plain = Clients.producer(BROKER.bootstrapServers())) {
            for (int i = 0; i < 4; i++) {
                Clients.get(plain.send(new ProducerRecord<>(input, "k", "in-" + i)));
            }
        }
        TopicPartition in = new TopicPartition(input, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers(), Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, group, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
             KafkaProducer<String, String> producer = transactionalProducer(output + "-producer", 30_000)) {
            consumer.subscribe(List.of(input));
            producer.initTransactions();
            List<ConsumerRecord<String, String>> batch = new ArrayList<>();
            await().atMost(Clients.TIMEOUT).until(() -> {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                records.forEach(batch::add);
                return batch.size() >= 4;
            });

            // round 1: aborted, the group's offset stays where it was (nothing committed)
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(output, "k", "out-aborted"));
            producer.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(2)), consumer.groupMetadata());
            producer.abortTransaction();
            assertThat(Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()))
                    .doesNotContainKey(in);

            // round 2: committed, the offset moves with the output
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(output, "k", "out-committed"));
            producer.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(4)), consumer.groupMetadata());
            producer.commitTransaction();
            await().atMost(Clients.TIMEOUT).untilAsserted(() -> assertThat(
                    Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()).get(in))
                    .isEqualTo(new OffsetAndMetadata(4, java.util.Optional.empty(), "")));
            assertThat(consumer.committed(Set.of(in)).get(in).offset()).isEqualTo(4);
        }
        assertThat(committedValues(output, 1)).containsExactly("out-committed");
    }
}
