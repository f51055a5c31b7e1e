package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Client quotas in a ZooKeeper cluster: set through one broker, they are written where Kafka's ZooKeeper
 * mode wrote them (/config/clients/&lt;id&gt;, /config/users/&lt;user&gt;/clients/&lt;id&gt;, with
 * /config/changes notifications) and another broker describes and enforces them.
 */
class ClusterClientQuotaTest {
    private static final String CHROOT = "/gregor-quotas";
    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final List<Broker> brokers = new ArrayList<>();
    private Path dir;

    @AfterEach
    void stop() {
        for (Broker b : brokers) {
            b.close();
        }
        zookeeper.close();
        if (dir != null) {
            TestDirs.deleteRecursively(dir);
        }
    }

    private Broker startBroker(int id) {
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("log.dirs", dir.resolve("broker-" + id).toString());
        props.put("zookeeper.connect", zookeeper.connectString() + CHROOT);
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("offsets.topic.replication.factor", "1");
        Broker b = Broker.start(props);
        brokers.add(b);
        return b;
    }

    @Test
    void quotasSetThroughOneBrokerHoldOnAnother() throws Exception {
        dir = TestDirs.newDataDir("cluster-quotas");
        Broker first = startBroker(1);
        Broker second = startBroker(2);
        String topic = TestDirs.uniqueTopic("cluster-quota");
        Map<String, String> userDefault = new HashMap<>();
        userDefault.put(ClientQuotaEntity.USER, null);
        try (Admin admin = Clients.admin(first.bootstrapServers())) {
            Clients.createTopic(admin, topic, 2, Map.of());
            Clients.get(admin.alterClientQuotas(List.of(
                    new ClientQuotaAlteration(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "slow-app")),
                            List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1024.0))),
                    new ClientQuotaAlteration(new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "alice",
                            ClientQuotaEntity.CLIENT_ID, "app")), List.of(new ClientQuotaAlteration.Op("request_percentage", 25.0))),
                    new ClientQuotaAlteration(new ClientQuotaEntity(userDefault),
                            List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", 4096000.0))))).all());
        }
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            assertThat(new String(zk.getData("/config/clients/slow-app", false, null), StandardCharsets.UTF_8))
                    .contains("\"producer_byte_rate\":\"1024\"");
            assertThat(new String(zk.getData("/config/users/alice/clients/app", false, null), StandardCharsets.UTF_8))
                    .contains("\"request_percentage\":\"25.0\"");
            assertThat(new String(zk.getData("/config/users/<default>", false, null), StandardCharsets.UTF_8))
                    .contains("\"consumer_byte_rate\":\"4096000\"");
            List<String> paths = new ArrayList<>();
            for (String change : zk.getChildren("/config/changes", false)) {
                paths.add(new String(zk.getData("/config/changes/" + change, false, null), StandardCharsets.UTF_8));
            }
            assertThat(paths).anySatisfy(p -> assertThat(p).contains("\"entity_path\":\"clients/slow-app\""))
                    .anySatisfy(p -> assertThat(p).contains("\"entity_path\":\"users/alice/clients/app\""));
        }
        try (Admin admin = Clients.admin(second.bootstrapServers())) {
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                Map<ClientQuotaEntity, Map<String, Double>> described = admin.describeClientQuotas(ClientQuotaFilter.all())
                        .entities().get();
                assertThat(described.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "slow-app"))))
                        .isEqualTo(Map.of("producer_byte_rate", 1024.0));
                assertThat(described.get(new ClientQuotaEntity(userDefault))).isEqualTo(Map.of("consumer_byte_rate", 4096000.0));
            });
        }
        // 12 KiB at 1 KiB/s to the partition the second broker leads: over the 10 s allowance, so that broker
        // throttles the producer (about 2 s), which sees it in its own metrics
        Map<String, Object> props = new HashMap<>();
        props.put("client.id", "slow-app");
        try (KafkaProducer<String, String> producer = Clients.producer(second.bootstrapServers(), props)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.partitionsFor(topic).stream()
                    .allMatch(p -> p.leader() != null && p.leader().id() >= 0));
            int partition = producer.partitionsFor(topic).stream().filter(p -> p.leader().id() == 2)
                    .findFirst().orElseThrow().partition();
            String value = "x".repeat(1024);
            for (int i = 0; i < 12; i++) {
                Clients.get(producer.send(new ProducerRecord<>(topic, partition, null, value)));
            }
            double throttle = producer.metrics().entrySet().stream()
                    .filter(e -> e.getKey().name().equals("produce-throttle-time-max"))
                    .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                    .filter(v -> !Double.isNaN(v)).max().orElse(0);
            assertThat(throttle).as("produce-throttle-time-max").isPositive();
        }
    }
}
