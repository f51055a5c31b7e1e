package io.gregor.testkit;

import io.gregor.testkit.junit.GregorTest;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Faults and the wire trace through the public contract, met by stock clients. */
@GregorTest
class FaultsAndTraceTest {

    @AfterEach
    void cleanCluster(GregorCluster cluster) {
        cluster.reset();
    }

    @Test
    void idempotentProducerRetriesThroughNotLeaderErrorsAndEveryRecordLandsOnce(GregorCluster cluster) throws Exception {
        TestClients.createTopic(cluster.bootstrapServers(), "retried", 1, 1);
        cluster.faults().failNext(ApiKeys.PRODUCE, Errors.NOT_LEADER_OR_FOLLOWER, 3);
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of(
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.CLIENT_ID_CONFIG, "retrying-producer"))) {
            List<Future<?>> sends = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sends.add(producer.send(new ProducerRecord<>("retried", "k" + i, "v" + i)));
            }
            for (Future<?> send : sends) {
                send.get();
            }
        }
        List<String> read = TestClients.readValues(cluster.bootstrapServers(), "retried", 1, 20);
        assertThat(read).hasSize(20).doesNotHaveDuplicates();

        List<TraceEntry> produces = cluster.trace().entries().stream()
                .filter(e -> e.apiKey() == ApiKeys.PRODUCE && e.clientId().equals("retrying-producer")).toList();
        assertThat(produces.stream().filter(e -> e.errors().contains(Errors.NOT_LEADER_OR_FOLLOWER)))
                .hasSize(3).allMatch(TraceEntry::injected);
        assertThat(produces.get(produces.size() - 1).errors()).isEmpty();
        String dump = cluster.trace().dump();
        assertThat(dump).contains("NOT_LEADER_OR_FOLLOWER", "retrying-producer");
        produces.forEach(e -> assertThat(dump).contains(e.text()));
    }

    @Test
    void coordinatorNotAvailableDelaysTheGroupJoinButTheConsumerThenConsumes(GregorCluster cluster) throws Exception {
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
            producer.send(new ProducerRecord<>("grouped", "one")).get();
        }
        cluster.faults().failNext(ApiKeys.FIND_COORDINATOR, Errors.COORDINATOR_NOT_AVAILABLE, 5);
        try (KafkaConsumer<String, String> consumer = TestClients.consumer(cluster.bootstrapServers(),
                Map.of(ConsumerConfig.GROUP_ID_CONFIG, "patient"))) {
            consumer.subscribe(List.of("grouped"));
            List<String> values = new ArrayList<>();
            await().atMost(TestClients.TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
                return !values.isEmpty();
            });
            assertThat(values).containsExactly("one");
        }
        assertThat(cluster.trace().entries().stream().filter(e -> e.apiKey() == ApiKeys.FIND_COORDINATOR
                && e.errors().contains(Errors.COORDINATOR_NOT_AVAILABLE))).hasSize(5);
    }

    @Test
    void delayedFetchShowsUpAsConsumerLatency(GregorCluster cluster) throws Exception {
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
            producer.send(new ProducerRecord<>("slow", "late")).get();
        }
        cluster.faults().delay(ApiKeys.FETCH, Duration.ofSeconds(2));
        try (KafkaConsumer<String, String> consumer = TestClients.consumer(cluster.bootstrapServers(), Map.of())) {
            TopicPartition tp = new TopicPartition("slow", 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long began = System.nanoTime();
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await().atMost(TestClients.TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(got::add);
                return !got.isEmpty();
            });
            assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        }
        assertThat(cluster.trace().entries().stream().filter(e -> e.apiKey() == ApiKeys.FETCH))
                .isNotEmpty().allMatch(e -> e.latency().compareTo(Duration.ofSeconds(2)) >= 0 && e.injected());
    }

    @Test
    void producerSurvivesADisconnectedMetadataRequest(GregorCluster cluster) throws Exception {
        cluster.faults().disconnectNext(ApiKeys.METADATA, 1);
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of())) {
            producer.send(new ProducerRecord<>("survivor", "ok")).get();
        }
        assertThat(TestClients.readValues(cluster.bootstrapServers(), "survivor", 1, 1)).containsExactly("ok");
        assertThat(cluster.trace().entries().stream().filter(e -> e.apiKey() == ApiKeys.METADATA && e.disconnected()))
                .hasSize(1);
    }

    @Test
    void faultsForAClientIdLeaveOtherClientsAlone(GregorCluster cluster) throws Exception {
        TestClients.createTopic(cluster.bootstrapServers(), "shared", 1, 1);
        cluster.faults().forClientId("victim").failNext(ApiKeys.PRODUCE, Errors.NOT_ENOUGH_REPLICAS, 2);
        for (String client : List.of("bystander", "victim")) {
            try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of(
                    CommonClientConfigs.CLIENT_ID_CONFIG, client))) {
                producer.send(new ProducerRecord<>("shared", client)).get();
            }
        }
        List<TraceEntry> failed = cluster.trace().entries().stream()
                .filter(e -> e.errors().contains(Errors.NOT_ENOUGH_REPLICAS)).toList();
        assertThat(failed).hasSize(2).allMatch(e -> e.clientId().equals("victim"));
    }

    @Test
    void faultsForATopicHitOnlyThatTopicsEntries(GregorCluster cluster) throws Exception {
        TestClients.createTopic(cluster.bootstrapServers(), "victim", 1, 1);
        TestClients.createTopic(cluster.bootstrapServers(), "bystander", 1, 1);
        cluster.faults().forTopic("victim").failNext(ApiKeys.PRODUCE, Errors.TOPIC_AUTHORIZATION_FAILED, 1);
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of(
                ProducerConfig.LINGER_MS_CONFIG, 50))) {
            // one Produce request carrying both topics: only the victim's entry fails
            Future<?> victim = producer.send(new ProducerRecord<>("victim", "v"));
            Future<?> bystander = producer.send(new ProducerRecord<>("bystander", "b"));
            assertThatThrownBy(victim::get).hasCauseInstanceOf(
                    org.apache.kafka.common.errors.TopicAuthorizationException.class);
            bystander.get();
        }
        assertThat(TestClients.readValues(cluster.bootstrapServers(), "bystander", 1, 1)).containsExactly("b");
    }

    @Test
    void traceNamesBrokerClientApiAndCorrelation(GregorCluster cluster) throws Exception {
        try (KafkaProducer<String, String> producer = TestClients.producer(cluster.bootstrapServers(), Map.of(
                CommonClientConfigs.CLIENT_ID_CONFIG, "traced"))) {
            producer.send(new ProducerRecord<>("traced-topic", "x")).get();
        }
        List<TraceEntry> entries = cluster.trace().entries().stream().filter(e -> e.clientId().equals("traced")).toList();
        assertThat(entries).extracting(TraceEntry::apiKey).contains(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.PRODUCE);
        TraceEntry produce = entries.stream().filter(e -> e.apiKey() == ApiKeys.PRODUCE).findFirst().orElseThrow();
        assertThat(produce.brokerId()).isZero();
        assertThat(produce.apiVersion()).isPositive();
        assertThat(produce.correlationId()).isPositive();
        assertThat(produce.errors()).isEmpty();
        assertThat(produce.request()).contains("acks=");
        assertThat(entries.stream().filter(e -> e.apiKey() == ApiKeys.METADATA))
                .anyMatch(e -> e.request().contains("traced-topic"));
        assertThat(produce.latency()).isPositive();

        cluster.reset();
        assertThat(cluster.trace().entries()).isEmpty();
    }

    @Test
    void badUseOfFaultsGetsClearMessages(GregorCluster cluster) {
        assertThatThrownBy(() -> cluster.faults().failNext(ApiKeys.FETCH_SNAPSHOT, Errors.UNKNOWN_SERVER_ERROR, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FETCH_SNAPSHOT");
        assertThatThrownBy(() -> cluster.faults().failNext(ApiKeys.PRODUCE, Errors.NONE, 1))
                .isInstanceOf(IllegalArgumentException.class);
        cluster.broker(0).stop();
        try {
            assertThatThrownBy(() -> cluster.broker(0).faults().disconnectNext(ApiKeys.METADATA, 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("No running broker");
        } finally {
            cluster.broker(0).start();
        }
    }
}
