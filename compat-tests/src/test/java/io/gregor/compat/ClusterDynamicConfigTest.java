package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Dynamic broker configs in a ZooKeeper cluster with the stock {@code kafka-configs} tool: Kafka's
 * {@code /config/brokers/<default>} and {@code /config/brokers/<id>} znodes with {@code /config/changes}
 * notifications; a cluster default reaches every broker, a per-broker value only its broker, and both
 * survive a restart.
 */
class ClusterDynamicConfigTest {
    private static final String CHROOT = "/gregor-dynconfig";
    private static final String BIG_VALUE = "x".repeat(5_000);
    private static final int PARTITIONS = 4;
    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final Map<Integer, Broker> brokers = new TreeMap<>();
    private final List<Path> dirs = new ArrayList<>();

    @AfterEach
    void stop() {
        brokers.values().forEach(Broker::close);
        zookeeper.close();
        dirs.forEach(TestDirs::deleteRecursively);
    }

    private Broker startBroker(int id, Path dir) {
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("zookeeper.connect", zookeeper.connectString() + CHROOT);
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("offsets.topic.replication.factor", "2");
        props.put("controlled.shutdown.max.retries", "1");
        Broker b = Broker.start(props);
        brokers.put(id, b);
        return b;
    }

    private String bootstrap() {
        return brokers.values().stream().map(Broker::bootstrapServers).collect(Collectors.joining(","));
    }

    private ToolRunner.Result configs(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = bootstrap();
        System.arraycopy(args, 0, all, 2, args.length);
        ToolRunner.Result result = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, all);
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    private static String read(ZooKeeper zk, String path) throws Exception {
        return new String(zk.getData(path, false, null), StandardCharsets.UTF_8);
    }

    @Test
    void clusterDefaultReachesEveryBrokerPerBrokerValuesOnlyTheirsAndBothSurviveARestart() throws Exception {
        for (int id = 1; id <= 2; id++) {
            Path dir = TestDirs.newDataDir("dynconfig-cluster-" + id);
            dirs.add(dir);
            startBroker(id, dir);
        }
        String topic = TestDirs.uniqueTopic("dyn-cluster");
        try (Admin admin = Clients.admin(bootstrap())) {
            // every broker sees both (the one answering CreateTopics checks the assignment against its view)
            await().atMost(Duration.ofSeconds(30)).until(() -> brokers.values().stream()
                    .allMatch(b -> b.liveBrokerIds().size() == 2));
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
            // the partitions are spread: each broker leads some, so each broker's limit is tried
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(admin.describeTopics(List.of(topic))
                    .allTopicNames().get().get(topic).partitions().stream().map(p -> p.leader() == null ? -1 : p.leader().id())
                    .collect(Collectors.toSet())).containsExactlyInAnyOrder(1, 2));
        }

        configs("--entity-type", "brokers", "--entity-default", "--alter", "--add-config", "message.max.bytes=2000");
        configs("--entity-type", "brokers", "--entity-name", "2", "--alter", "--add-config", "log.cleaner.threads=2");

        assertBigRecordsRefusedOnEveryPartition(topic);
        await().atMost(Duration.ofSeconds(30)).until(() -> brokers.get(2).logCleanerThreads() == 2);
        assertThat(brokers.get(1).logCleanerThreads()).isEqualTo(1);

        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            assertThat(read(zk, "/config/brokers/<default>"))
                    .isEqualTo("{\"version\":1,\"config\":{\"message.max.bytes\":\"2000\"}}");
            assertThat(read(zk, "/config/brokers/2")).isEqualTo("{\"version\":1,\"config\":{\"log.cleaner.threads\":\"2\"}}");
            List<String> changes = new ArrayList<>();
            for (String change : zk.getChildren("/config/changes", false)) {
                changes.add(read(zk, "/config/changes/" + change));
            }
            assertThat(changes).contains("{\"version\":2,\"entity_path\":\"brokers/<default>\"}",
                    "{\"version\":2,\"entity_path\":\"brokers/2\"}");
        }

        ToolRunner.Result describe2 = configs("--entity-type", "brokers", "--entity-name", "2", "--describe", "--all");
        assertThat(describe2.stdout()).as(describe2.describe()).contains(
                "message.max.bytes=2000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:message.max.bytes=2000, "
                        + "DEFAULT_CONFIG:message.max.bytes=1048588}",
                "log.cleaner.threads=2 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.cleaner.threads=2, "
                        + "DEFAULT_CONFIG:log.cleaner.threads=1}");

        // both brokers restarted on their data: the znodes still apply
        for (int id = 1; id <= 2; id++) {
            brokers.remove(id).close();
            startBroker(id, dirs.get(id - 1));
        }
        // until the partitions have their leaders back, a send may fail for that reason instead
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertBigRecordsRefusedOnEveryPartition(topic));
        assertThat(brokers.get(2).logCleanerThreads()).isEqualTo(2);
        assertThat(brokers.get(1).logCleanerThreads()).isEqualTo(1);
    }

    private void assertBigRecordsRefusedOnEveryPartition(String topic) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap(), Map.of(
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 10_000_000, ProducerConfig.RETRIES_CONFIG, 0))) {
            for (int partition = 0; partition < PARTITIONS; partition++) {
                int p = partition;
                assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topic, p, null, BIG_VALUE)).get())
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(RecordTooLargeException.class);
                producer.send(new ProducerRecord<>(topic, p, null, "small")).get();
            }
        }
    }
}
