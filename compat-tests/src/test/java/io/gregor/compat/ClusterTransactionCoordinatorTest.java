package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Transactions in a three-broker cluster: the coordinator sends markers to partitions led by other brokers
 * over the network, the leaders of those partitions add them to the (transactions v2) producer's transaction
 * with AddPartitionsToTxn to the coordinator's broker, and a transaction survives the SIGKILL of its coordinator (its state was replicated to
 * the __transaction_state replicas before it was acknowledged, and the new leader carries on).
 */
class ClusterTransactionCoordinatorTest {
    @RegisterExtension
    final ProcessCluster cluster = new ProcessCluster();

    private KafkaProducer<String, String> transactionalProducer(String id) {
        return Clients.producer(cluster.bootstrap(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000, ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000, ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000));
    }

    private List<String> committedValues(String topic, int partitions) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            List<TopicPartition> tps = Clients.partitions(topic, partitions);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            List<String> values = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                }
                return tps.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
            });
            return values;
        }
    }

    /**
     * commitTransaction returns once PrepareCommit is written; the markers reach the other leaders after that
     * (as in Kafka), so a read_committed reader sees the records once the last stable offsets move past them.
     */
    private void awaitCommitted(String topic, String... expected) {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(committedValues(topic, 3)).containsExactlyInAnyOrder(expected));
    }

    @Test
    void markersReachOtherLeadersAndATransactionOutlivesItsCoordinator() throws Exception {
        cluster.start("txns", 3, Map.of(
                "zookeeper.session.timeout.ms", "4000",
                "replica.lag.time.max.ms", "10000",
                "transaction.state.log.num.partitions", "5"));
        String topic = TestDirs.uniqueTopic("txn-cluster");
        String id = topic + "-producer";
        try (Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get();
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            Set<Integer> leaders = d.partitions().stream().map(TopicPartitionInfo::leader).map(n -> n.id())
                    .collect(Collectors.toSet());
            assertThat(leaders).as("partitions led by several brokers, so some markers go over the network").hasSizeGreaterThan(1);
        }

        try (KafkaProducer<String, String> producer = transactionalProducer(id)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int p = 0; p < 3; p++) {
                producer.send(new ProducerRecord<>(topic, p, "k", "first-" + p));
            }
            producer.commitTransaction();
            awaitCommitted(topic, "first-0", "first-1", "first-2");

            // the second transaction is open when its coordinator dies; the producer commits it through the next one
            producer.beginTransaction();
            for (int p = 0; p < 3; p++) {
                producer.send(new ProducerRecord<>(topic, p, "k", "second-" + p));
            }
            producer.flush();
            int coordinator;
            try (Admin admin = Clients.admin(cluster.bootstrap())) {
                coordinator = admin.describeTransactions(List.of(id)).description(id).get().coordinatorId();
                assertThat(admin.describeTransactions(List.of(id)).description(id).get().state())
                        .isEqualTo(TransactionState.ONGOING);
            }
            cluster.broker(coordinator).kill();
            producer.commitTransaction();
            try (Admin admin = Clients.admin(cluster.bootstrap())) {
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                    var description = admin.describeTransactions(List.of(id)).description(id).get();
                    assertThat(description.coordinatorId()).isNotEqualTo(coordinator);
                    assertThat(description.state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
                });
            }
        }
        awaitCommitted(topic, "first-0", "first-1", "first-2", "second-0", "second-1", "second-2");
    }

    /**
     * A transactions v2 producer learns its commit succeeded once PrepareCommit is written; when a marker cannot
     * be written yet (the partition's leader is frozen and about to lose its leadership) the producer may already
     * end its next transaction. Kafka answers that EndTxn CONCURRENT_TRANSACTIONS until the markers are written,
     * and the producer retries; an INVALID_TXN_STATE answer would be fatal to it (found by the chaos run).
     */
    @Test
    void endingTheNextTransactionWhileMarkersAreStillBeingWrittenIsRetriedNotFatal() throws Exception {
        cluster.start("txn-markers", 3, Map.of(
                "zookeeper.session.timeout.ms", "6000",
                "replica.lag.time.max.ms", "2000",
                "transaction.state.log.num.partitions", "3",
                "transaction.state.log.replication.factor", "3",
                "transaction.state.log.min.isr", "2",
                // a marker request in flight to the frozen broker is given up after this (then the marker goes to
                // the partition's new leader), as is a follower's fetch from it: Kafka's 30 s defaults only make
                // the window in which the next EndTxn is answered CONCURRENT_TRANSACTIONS longer
                "request.timeout.ms", "5000",
                "replica.socket.timeout.ms", "5000"));
        String topic = TestDirs.uniqueTopic("txn-markers");
        String id = topic + "-producer";
        try (KafkaProducer<String, String> producer = transactionalProducer(id);
             Admin admin = Clients.admin(cluster.bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            producer.initTransactions();
            int coordinator = admin.describeTransactions(List.of(id)).description(id).get().coordinatorId();
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) 3))).all().get();
            // a partition led by a broker that is not the coordinator (it will freeze), and one led by another broker
            List<TopicPartitionInfo> partitions = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions(),
                            ps -> ps.stream().allMatch(p -> p.leader() != null));
            TopicPartitionInfo toFreeze = partitions.stream().filter(p -> p.leader().id() != coordinator).findFirst()
                    .orElseThrow();
            int frozen = toFreeze.leader().id();
            TopicPartitionInfo stayingUp = partitions.stream().filter(p -> p.leader().id() != frozen).findFirst()
                    .orElseThrow();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, toFreeze.partition(), "k", "committed"));
            producer.flush();
            cluster.broker(frozen).pause();
            try {
                // PrepareCommit is written once the frozen broker leaves the ISR; its marker waits for a new leader
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, stayingUp.partition(), "k", "aborted"));
                producer.abortTransaction();
            } finally {
                cluster.broker(frozen).resume();
            }
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, stayingUp.partition(), "k", "committed-after"));
            producer.commitTransaction();
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(committedValues(topic, 6))
                .containsExactlyInAnyOrder("committed", "committed-after"));
    }
}
