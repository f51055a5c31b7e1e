package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code kafka-reassign-partitions --execute} with a reassignment JSON naming {@code log_dirs}, in a ZooKeeper
 * cluster whose brokers each have two {@code log.dirs}: the partition moves to its new brokers and into the
 * named dir of each (a new replica as it is created, a kept one by a move between its dirs), and
 * {@code --verify} reports the partition and every replica's dir move as completed.
 */
class ReassignLogDirsTest {
    private static final String TOOL = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";

    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final Map<Integer, Broker> brokers = new TreeMap<>();
    private final List<Path> dirs = new ArrayList<>();

    @AfterEach
    void stop() {
        brokers.values().forEach(Broker::close);
        zookeeper.close();
        dirs.forEach(TestDirs::deleteRecursively);
    }

    private Path logDir(int broker, String name) {
        return dirs.get(broker - 1).resolve(name).toAbsolutePath();
    }

    private void startBroker(int id) {
        Path dir = TestDirs.newDataDir("reassign-logdirs-" + id);
        dirs.add(dir);
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.resolve("a").toAbsolutePath() + "," + dir.resolve("b").toAbsolutePath());
        props.put("zookeeper.connect", zookeeper.connectString() + "/gregor-reassign-logdirs");
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("offsets.topic.replication.factor", "1");
        props.put("controlled.shutdown.max.retries", "1");
        brokers.put(id, Broker.start(props));
    }

    private String bootstrap() {
        return brokers.values().stream().map(Broker::bootstrapServers).collect(Collectors.joining(","));
    }

    private ToolRunner.Result tool(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = bootstrap();
        System.arraycopy(args, 0, all, 2, args.length);
        return ToolRunner.runTool(TOOL, all);
    }

    private static String dirOf(Admin admin, int broker, TopicPartition tp) throws Exception {
        Map<String, LogDirDescription> described = admin.describeLogDirs(List.of(broker)).allDescriptions().get()
                .get(broker);
        return described.entrySet().stream()
                .filter(e -> e.getValue().replicaInfos().containsKey(tp) && !e.getValue().replicaInfos().get(tp).isFuture())
                .map(Map.Entry::getKey).findFirst().orElse(null);
    }

    @Test
    void toolMovesAPartitionToNamedLogDirsOfItsNewBrokersAndVerifies() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String topic = TestDirs.uniqueTopic("reassign-logdirs");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(bootstrap())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(1, 2))))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> dirOf(admin, 2, tp) != null);
            try (KafkaProducer<String, String> producer = Clients.producer(bootstrap(),
                    Map.<String, Object>of("acks", "all"))) {
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i));
                }
                producer.flush();
            }
            // broker 2 keeps its replica but in its other dir; broker 3 gets a new one in its dir b
            String keptFrom = dirOf(admin, 2, tp);
            String keptTo = keptFrom.equals(logDir(2, "a").toString()) ? logDir(2, "b").toString()
                    : logDir(2, "a").toString();
            String newDir = logDir(3, "b").toString();
            Path json = dirs.get(0).resolve("reassignment.json");
            Files.writeString(json, "{\"version\":1,\"partitions\":[{\"topic\":\"" + topic + "\",\"partition\":0,"
                    + "\"replicas\":[2,3],\"log_dirs\":[\"" + keptTo + "\",\"" + newDir + "\"]}]}");

            ToolRunner.Result execute = tool("--reassignment-json-file", json.toString(), "--execute");
            assertThat(execute.exitCode()).as(execute.describe()).isZero();
            assertThat(execute.stdout()).as(execute.describe()).contains("Successfully started partition reassignment");

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                ToolRunner.Result verify = tool("--reassignment-json-file", json.toString(), "--verify");
                assertThat(verify.exitCode()).as(verify.describe()).isZero();
                assertThat(verify.stdout()).as(verify.describe()).contains(
                        "Reassignment of partition " + topic + "-0 is completed.",
                        "Reassignment of replica " + new org.apache.kafka.common.TopicPartitionReplica(topic, 0, 2)
                                + " completed successfully.",
                        "Reassignment of replica " + new org.apache.kafka.common.TopicPartitionReplica(topic, 0, 3)
                                + " completed successfully.");
            });
            assertThat(dirOf(admin, 2, tp)).isEqualTo(keptTo);
            assertThat(dirOf(admin, 3, tp)).isEqualTo(newDir);
            assertThat(Path.of(newDir).resolve(topic + "-0")).isDirectory();
            assertThat(Path.of(keptFrom).resolve(topic + "-0")).doesNotExist();
        }
        // every record is still there, read from the new replicas
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap())) {
            List<ConsumerRecord<String, String>> all = Clients.readAll(consumer, List.of(tp));
            assertThat(all).hasSize(50);
        }
    }
}
