package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Client quotas as Kafka has them, seen by stock clients and tools: a producer and a consumer limited to
 * 1 MiB/s get that rate within 10% over the quota window from their first request (Kafka's measure, with its
 * defaults: quota.window.num=11 windows of 1 s, a rate over at least 10 s plus the current window's part, so a
 * client may use its 10 s allowance at once and then waits), throttle times reach the clients' own metrics,
 * kafka-configs alters and describes quotas of users, client ids and both, and bad quotas get Kafka's
 * INVALID_REQUEST.
 */
class ClientQuotaTest {
    private static final long QUOTA = 1024 * 1024;
    /** How long the rate is measured over, from the client's first request: within the first quota window. */
    private static final long MEASURE_MS = 10_500;

    private static TestBroker broker;

    @BeforeAll
    static void start() {
        broker = TestBroker.start("client-quotas", Map.of());
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static void setQuota(Admin admin, Map<String, String> entity, String key, Double value) {
        Clients.get(admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(entity),
                List.of(new ClientQuotaAlteration.Op(key, value))))).all());
    }

    @Test
    void producerIsThrottledToItsByteRate() {
        String topic = TestDirs.uniqueTopic("quota-produce");
        String clientId = "quota-producer";
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of());
            setQuota(admin, Map.of(ClientQuotaEntity.CLIENT_ID, clientId), "producer_byte_rate", (double) QUOTA);
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        props.put("client.id", clientId);
        props.put("acks", "1");
        props.put("linger.ms", "5");
        // little waits in the producer: what it sends is what the broker let through, not a queue
        props.put("buffer.memory", Long.toString(1024 * 1024));
        byte[] value = new byte[1024];
        AtomicLong ackedBytes = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.partitionsFor(topic); // metadata first: the clock starts with the first produce
            long start = System.nanoTime();
            long deadline = start + MEASURE_MS * 1_000_000;
            while (System.nanoTime() < deadline) {
                producer.send(new ProducerRecord<>(topic, value), (metadata, error) -> {
                    if (System.nanoTime() > deadline) {
                        return; // after the measurement (closing drops what is still queued)
                    }
                    if (error != null) {
                        failures.incrementAndGet();
                    } else {
                        ackedBytes.addAndGet(value.length);
                    }
                });
            }
            double rate = ackedBytes.get() * 1000.0 / MEASURE_MS;
            double throttleMax = metric(producer.metrics(), "produce-throttle-time-max");
            producer.close(Duration.ZERO);
            System.out.printf("producer limited to %d B/s: %.0f B/s acknowledged over %d ms, produce-throttle-time-max %.0f ms%n",
                    QUOTA, rate, MEASURE_MS, throttleMax);
            assertThat(failures.get()).isZero();
            assertThat(throttleMax).as("the producer's produce-throttle-time-max").isPositive();
            assertThat(rate).as("bytes/s acknowledged over %d ms", MEASURE_MS).isBetween(QUOTA * 0.9, QUOTA * 1.1);
        }
    }

    @Test
    void consumerIsThrottledToItsByteRate() {
        String topic = TestDirs.uniqueTopic("quota-fetch");
        String clientId = "quota-consumer";
        byte[] value = new byte[1024];
        int records = 16 * 1024; // 16 MiB: more than 10 s at the quota
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of());
            Properties props = new Properties();
            props.put("bootstrap.servers", broker.bootstrapServers());
            props.put("linger.ms", "20");
            props.put("batch.size", Integer.toString(256 * 1024));
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                for (int i = 0; i < records; i++) {
                    producer.send(new ProducerRecord<>(topic, value));
                }
                producer.flush();
            }
            // a user-and-client-id quota for the anonymous user of the PLAINTEXT listener
            setQuota(admin, Map.of(ClientQuotaEntity.USER, "ANONYMOUS", ClientQuotaEntity.CLIENT_ID, clientId),
                    "consumer_byte_rate", (double) QUOTA);
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        props.put("client.id", clientId);
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        long consumed = 0;
        double throttleMax;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            consumer.position(tp); // offsets first: the clock starts with the first fetch
            long start = System.nanoTime();
            long deadline = start + MEASURE_MS * 1_000_000;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    consumed += r.value().length;
                }
            }
            throttleMax = metric(consumer.metrics(), "fetch-throttle-time-max");
        }
        double rate = consumed * 1000.0 / MEASURE_MS;
        System.out.printf("consumer limited to %d B/s: %.0f B/s consumed over %d ms, fetch-throttle-time-max %.0f ms%n",
                QUOTA, rate, MEASURE_MS, throttleMax);
        assertThat(throttleMax).as("the consumer's fetch-throttle-time-max").isPositive();
        assertThat(rate).as("bytes/s consumed over %d ms", MEASURE_MS).isBetween(QUOTA * 0.9, QUOTA * 1.1);
    }

    @Test
    void requestPercentageThrottlesForAtMostOneQuotaWindow() {
        String topic = TestDirs.uniqueTopic("quota-request");
        String clientId = "quota-busy";
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of());
            // a hundredth of a percent of one request thread: a few produce requests use more than that
            setQuota(admin, Map.of(ClientQuotaEntity.CLIENT_ID, clientId), "request_percentage", 0.01);
        }
        Map<String, Object> props = new HashMap<>();
        props.put("client.id", clientId);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), props)) {
            for (int i = 0; i < 20; i++) {
                Clients.get(producer.send(new ProducerRecord<>(topic, "k", "v" + i)));
            }
            double throttleMax = metric(producer.metrics(), "produce-throttle-time-max");
            // Kafka bounds a request quota's throttle time by one quota window (quota.window.size.seconds)
            assertThat(throttleMax).as("produce-throttle-time-max").isPositive().isLessThanOrEqualTo(1000);
        }
    }

    @Test
    void aThrottledConnectionIsNotReadUntilItsThrottleTimeHasPassed() throws Exception {
        String topic = TestDirs.uniqueTopic("quota-mute");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 1, Map.of());
            setQuota(admin, Map.of(ClientQuotaEntity.CLIENT_ID, RawKafkaConnection.CLIENT_ID), "producer_byte_rate", 1024.0);
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(30))) {
            // 12 KiB at 1 KiB/s: over the 10 s allowance, the answer comes at once and tells the throttle time
            ProduceResponseData first = produce(raw, topic, new byte[12 * 1024]);
            long answered = System.nanoTime();
            assertThat(first.responses().iterator().next().partitionResponses().get(0).errorCode()).isZero();
            assertThat(first.throttleTimeMs()).isPositive();
            // a client that ignores it: the broker reads its next request only once the time has passed (KIP-219)
            ProduceResponseData second = produce(raw, topic, new byte[16]);
            long waitedMs = (System.nanoTime() - answered) / 1_000_000;
            assertThat(second.responses().iterator().next().partitionResponses().get(0).errorCode()).isZero();
            assertThat(waitedMs).as("ms until the next answer, throttled for %d ms", first.throttleTimeMs())
                    .isGreaterThanOrEqualTo(first.throttleTimeMs() - 200L);
        }
    }

    private static ProduceResponseData produce(RawKafkaConnection raw, String topic, byte[] value) throws java.io.IOException {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(value));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))));
        return raw.roundTrip(ApiKeys.PRODUCE, (short) 11,
                new ProduceRequestData().setAcks((short) 1).setTimeoutMs(10_000).setTopicData(topics),
                ProduceResponseData::new);
    }

    private static double metric(Map<org.apache.kafka.common.MetricName, ? extends Metric> metrics, String name) {
        return metrics.entrySet().stream().filter(e -> e.getKey().name().equals(name))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                .filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    @Test
    void kafkaConfigsAltersAndDescribesQuotas() {
        String bootstrap = broker.bootstrapServers();
        // four alterations of four different entities, independent of each other: side by side
        List<ToolRunner.Result> alters = ToolRunner.concurrently(
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "clients", "--entity-name", "configs-app", "--alter",
                        "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152"),
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "users", "--entity-name", "configs-alice", "--alter",
                        "--add-config", "request_percentage=50"),
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "users", "--entity-name", "configs-alice", "--entity-type", "clients",
                        "--entity-name", "configs-app", "--alter", "--add-config", "producer_byte_rate=4096"),
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "users", "--entity-default", "--alter", "--add-config",
                        "consumer_byte_rate=8192000"));
        for (ToolRunner.Result alter : alters) {
            assertThat(alter.exitCode()).as(alter.describe()).isZero();
        }

        // then the four descriptions, read-only: side by side too
        List<ToolRunner.Result> describes = ToolRunner.concurrently(
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "clients", "--entity-name", "configs-app", "--describe"),
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "users", "--entity-name", "configs-alice", "--describe"),
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "users", "--entity-name", "configs-alice", "--entity-type", "clients",
                        "--entity-name", "configs-app", "--describe"),
                () -> ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                        "--entity-type", "users", "--entity-default", "--describe"));
        ToolRunner.Result clients = describes.get(0);
        assertThat(clients.exitCode()).as(clients.toString()).isZero();
        assertThat(clients.stdout()).contains("configs-app").contains("producer_byte_rate=1048576")
                .contains("consumer_byte_rate=2097152");
        ToolRunner.Result users = describes.get(1);
        assertThat(users.exitCode()).as(users.toString()).isZero();
        assertThat(users.stdout()).contains("request_percentage=50");
        ToolRunner.Result pair = describes.get(2);
        assertThat(pair.stdout()).as(pair.toString()).contains("producer_byte_rate=4096");
        ToolRunner.Result userDefault = describes.get(3);
        assertThat(userDefault.stdout()).as(userDefault.toString()).contains("consumer_byte_rate=8192000");

        ToolRunner.Result delete = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap,
                "--entity-type", "clients", "--entity-name", "configs-app", "--alter", "--delete-config", "producer_byte_rate");
        assertThat(delete.exitCode()).as(delete.toString()).isZero();
        try (Admin admin = Clients.admin(bootstrap)) {
            Map<ClientQuotaEntity, Map<String, Double>> described = Clients.get(admin.describeClientQuotas(
                    ClientQuotaFilter.all()).entities());
            assertThat(described.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "configs-app"))))
                    .isEqualTo(Map.of("consumer_byte_rate", 2097152.0));
            assertThat(described.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "configs-alice",
                    ClientQuotaEntity.CLIENT_ID, "configs-app")))).isEqualTo(Map.of("producer_byte_rate", 4096.0));
            Map<String, String> defaultUser = new HashMap<>();
            defaultUser.put(ClientQuotaEntity.USER, null);
            assertThat(described.get(new ClientQuotaEntity(defaultUser))).isEqualTo(Map.of("consumer_byte_rate", 8192000.0));
        }
        // kept across a restart (the metadata store's file)
        broker.restart();
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Map<ClientQuotaEntity, Map<String, Double>> described = Clients.get(admin.describeClientQuotas(
                    ClientQuotaFilter.all()).entities());
            assertThat(described.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "configs-alice"))))
                    .isEqualTo(Map.of("request_percentage", 50.0));
        }
    }

    @Test
    void badQuotasGetInvalidRequest() {
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Map<String, String> entity = Map.of(ClientQuotaEntity.CLIENT_ID, "bad-quota-app");
            assertThatThrownBy(() -> admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(entity),
                    List.of(new ClientQuotaAlteration.Op("bogus_byte_rate", 100.0))))).all().get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("Invalid configuration key bogus_byte_rate");
            assertThatThrownBy(() -> admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(entity),
                    List.of(new ClientQuotaAlteration.Op("producer_byte_rate", -5.0))))).all().get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("must be greater than 0");
            assertThatThrownBy(() -> admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(entity),
                    List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 10.5))))).all().get())
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("cannot be a fractional value");
            // nothing of it was stored
            Map<ClientQuotaEntity, Map<String, Double>> described = Clients.get(admin.describeClientQuotas(
                    ClientQuotaFilter.all()).entities());
            assertThat(described).doesNotContainKey(new ClientQuotaEntity(entity));
        }
    }
}
