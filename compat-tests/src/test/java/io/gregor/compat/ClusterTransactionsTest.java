package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A transactional producer writes to a 3-broker cluster while the broker that is its transaction coordinator
 * dies by SIGKILL: the new leader of its {@code __transaction_state} partition takes over, and a read_committed
 * consumer sees every transaction the producer committed exactly once and nothing of any other, whole or not.
 */
class ClusterTransactionsTest {
    private static final int RECORDS_PER_TXN = 20;
    private static final int TXNS = 30;
    private static final int KILL_AFTER = 10;

    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    @Test
    void committedTransactionsSurviveTheCoordinatorsSigkillExactlyOnce() throws Exception {
        cluster.start("txn", 3, Map.of(
                "zookeeper.session.timeout.ms", "4000",
                "replica.lag.time.max.ms", "10000",
                "transaction.state.log.num.partitions", "5",
                "transaction.state.log.replication.factor", "3",
                "transaction.state.log.min.isr", "2",
                "offsets.topic.num.partitions", "5"));
        String topic = TestDirs.uniqueTopic("txn-cluster");
        String transactionalId = TestDirs.uniqueTopic("txn-cluster-producer");
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get();
        }

        Set<Integer> committed = new HashSet<>();
        Set<Integer> unknownOutcome = new HashSet<>();
        KafkaProducer<String, String> producer = transactionalProducer(transactionalId);
        try {
            producer.initTransactions();
            for (int txn = 0; txn < TXNS; txn++) {
                if (txn == KILL_AFTER) {
                    killCoordinatorOf(transactionalId);
                }
                try {
                    producer.beginTransaction();
                    for (int i = 0; i < RECORDS_PER_TXN; i++) {
                        producer.send(new ProducerRecord<>(topic, i % 3, "t" + txn, "t" + txn + "-" + i));
                    }
                    producer.commitTransaction();
                    committed.add(txn);
                } catch (ProducerFencedException e) {
                    throw e;
                } catch (KafkaException e) {
                    // The outcome of a commit that failed across the failover is not known to the producer;
                    // a new producer with the same id completes or aborts it (KIP-360 recovery).
                    unknownOutcome.add(txn);
                    producer.close(Duration.ZERO);
                    producer = transactionalProducer(transactionalId);
                    producer.initTransactions();
                }
            }
        } finally {
            producer.close(Duration.ofSeconds(10));
        }
        assertThat(committed.size()).as("transactions committed across the failover")
                .isGreaterThanOrEqualTo(TXNS - 3);

        Map<Integer, List<String>> read = new TreeMap<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            for (ConsumerRecord<String, String> r : Clients.readAll(consumer, Clients.partitions(topic, 3))) {
                read.computeIfAbsent(Integer.parseInt(r.key().substring(1)), k -> new ArrayList<>()).add(r.value());
            }
        }
        for (int txn : committed) {
            assertThat(read.get(txn)).as("records of committed transaction %d", txn)
                    .hasSize(RECORDS_PER_TXN).doesNotHaveDuplicates();
        }
        Map<Integer, List<String>> others = new HashMap<>(read);
        others.keySet().removeAll(committed);
        assertThat(unknownOutcome).containsAll(others.keySet());
        others.forEach((txn, values) -> assertThat(values).as("transaction %d is all or nothing", txn)
                .hasSize(RECORDS_PER_TXN).doesNotHaveDuplicates());
    }

    private KafkaProducer<String, String> transactionalProducer(String transactionalId) {
        return Clients.producer(cluster.bootstrap(), Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000,
                ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500));
    }

    private void killCoordinatorOf(String transactionalId) throws Exception {
        int coordinator;
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            coordinator = admin.describeTransactions(List.of(transactionalId)).description(transactionalId).get()
                    .coordinatorId();
        }
        cluster.broker(coordinator).kill();
    }
}
