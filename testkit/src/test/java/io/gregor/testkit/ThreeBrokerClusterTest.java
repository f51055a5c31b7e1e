package io.gregor.testkit;

import io.gregor.testkit.junit.GregorTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Three brokers on one in-process ZooKeeper, through the public contract and stock clients only. */
@GregorTest(brokers = 3)
class ThreeBrokerClusterTest {

    @AfterEach
    void cleanCluster(GregorCluster cluster) {
        cluster.reset();
    }

    @Test
    void brokersHaveIdsZeroToTwoAndFormOneCluster(GregorCluster cluster) throws Exception {
        assertThat(cluster.brokers()).extracting(GregorNode::id).containsExactly(0, 1, 2);
        assertThat(cluster.bootstrapServers().split(",")).hasSize(3);
        try (Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            assertThat(admin.describeCluster().nodes().get()).extracting(n -> n.id()).containsExactlyInAnyOrder(0, 1, 2);
        }
    }

    @Test
    void killingBrokerOneMovesLeadershipAndAnAcksAllIdempotentProducerLosesNothing(GregorCluster cluster)
            throws Exception {
        String topic = "payments";
        try (Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                    .all().get();
            await().atMost(TestClients.TIMEOUT).until(() -> !leaders(admin, topic).contains(-1)
                    && isrSizes(admin, topic).stream().allMatch(s -> s == 3));
            assertThat(leaders(admin, topic)).as("three partitions over three brokers: broker 1 leads one").contains(1);

            List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> sends = new ArrayList<>();
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of(
                    ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                    ProducerConfig.LINGER_MS_CONFIG, 5))) {
                for (int i = 0; i < 3000; i++) {
                    if (i == 1000) {
                        producer.flush();
                        cluster.broker(1).kill();
                        assertThat(cluster.broker(1).isRunning()).isFalse();
                    }
                    String value = "payment-" + i;
                    CompletableFuture<Void> sent = new CompletableFuture<>();
                    producer.send(new ProducerRecord<>(topic, Integer.toString(i), value), (metadata, error) -> {
                        if (error == null) {
                            acknowledged.add(value);
                            sent.complete(null);
                        } else {
                            sent.completeExceptionally(error);
                        }
                    });
                    sends.add(sent);
                }
                producer.flush();
            }
            for (Future<?> f : sends) {
                f.get(); // every send was acknowledged: retries through the failover, no give-up
            }
            await().atMost(TestClients.TIMEOUT).untilAsserted(() ->
                    assertThat(leaders(admin, topic)).doesNotContain(1, -1));

            List<String> read = TestClients.readValues(cluster.bootstrapServers(), topic, 3, acknowledged.size());
            assertThat(new HashSet<>(read)).containsAll(acknowledged);
            assertThat(read).as("idempotence: no record twice").doesNotHaveDuplicates().hasSize(3000);
        } finally {
            if (!cluster.broker(1).isRunning()) {
                cluster.broker(1).start();
            }
        }
    }

    @Test
    void stoppedBrokerComesBackOnItsPortAndRejoins(GregorCluster cluster) throws Exception {
        GregorNode node = cluster.broker(2);
        String address = node.bootstrapServers();
        node.stop();
        assertThat(node.isRunning()).isFalse();
        try (Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            await().atMost(TestClients.TIMEOUT).until(() -> admin.describeCluster().nodes().get().size() == 2);
            node.start();
            assertThat(node.bootstrapServers()).isEqualTo(address);
            await().atMost(TestClients.TIMEOUT).until(() -> admin.describeCluster().nodes().get().size() == 3);
        }
    }

    /** The leader of each partition, -1 where there is none. */
    @Test
    void resetDeletesTopicsAcrossTheClusterAndFreesTheirNames(GregorCluster cluster) throws Exception {
        TestClients.createTopic(cluster.bootstrapServers(), "replicated", 3, 3);
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(),
                Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            producer.send(new ProducerRecord<>("replicated", "old")).get();
        }
        cluster.reset();
        try (Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            assertThat(admin.listTopics().names().get()).isEmpty();
        }
        TestClients.createTopic(cluster.bootstrapServers(), "replicated", 1, 3);
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(),
                Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            producer.send(new ProducerRecord<>("replicated", "new")).get();
        }
        assertThat(TestClients.readValues(cluster.bootstrapServers(), "replicated", 1, 1)).containsExactly("new");
    }

    @Test
    void faultsOfOneNodeHitOnlyThatBroker(GregorCluster cluster) throws Exception {
        cluster.broker(1).faults().delay(ApiKeys.METADATA, java.time.Duration.ofMillis(50));
        for (GregorNode node : cluster.brokers()) {
            try (Admin admin = TestClients.admin(node.bootstrapServers())) {
                admin.describeCluster().nodes().get();
            }
        }
        List<TraceEntry> injected = cluster.trace().entries().stream().filter(TraceEntry::injected).toList();
        assertThat(injected).isNotEmpty().allMatch(e -> e.brokerId() == 1);
        assertThat(cluster.trace().entries()).anyMatch(e -> e.brokerId() == 0).anyMatch(e -> e.brokerId() == 2);
    }

    @Test
    void aClusterFaultCountsItsTimesOverAllBrokers(GregorCluster cluster) throws Exception {
        cluster.faults().failNext(ApiKeys.DESCRIBE_CONFIGS, Errors.CLUSTER_AUTHORIZATION_FAILED, 2);
        int failed = 0;
        try (Admin admin = TestClients.admin(cluster.bootstrapServers())) {
            // a broker's own configs are asked of that broker: one request to each of the three
            for (GregorNode node : cluster.brokers()) {
                ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(node.id()));
                try {
                    admin.describeConfigs(List.of(broker)).all().get();
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(ClusterAuthorizationException.class);
                    failed++;
                }
            }
        }
        assertThat(failed).as("failNext(..., 2) on the cluster: two requests in all, not two per broker").isEqualTo(2);
        assertThat(cluster.trace().entries().stream().filter(e -> e.apiKey() == ApiKeys.DESCRIBE_CONFIGS))
                .hasSize(3).filteredOn(TraceEntry::injected).hasSize(2);
    }

    private static List<Integer> leaders(Admin admin, String topic) throws Exception {
        List<Integer> leaders = new ArrayList<>();
        for (TopicPartitionInfo p : describe(admin, topic).partitions()) {
            leaders.add(p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
        }
        return leaders;
    }

    private static List<Integer> isrSizes(Admin admin, String topic) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        for (TopicPartitionInfo p : describe(admin, topic).partitions()) {
            sizes.add(p.isr().size());
        }
        return sizes;
    }

    private static TopicDescription describe(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    }
}
