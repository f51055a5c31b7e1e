package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.errors.LogDirNotFoundException;
import org.apache.kafka.common.errors.ReplicaNotAvailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Several log.dirs: partitions spread over them (the dir with the fewest first), {@code kafka-log-dirs
 * --describe} lists them, and AlterReplicaLogDirs moves a partition to another dir with its records.
 */
class LogDirsTest {
    private static final String LOG_DIRS_COMMAND = "org.apache.kafka.tools.LogDirsCommand";

    private Path root;
    private Broker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
        if (root != null) {
            TestDirs.deleteRecursively(root);
        }
    }

    private Broker start() {
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", "0");
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", root.resolve("a") + "," + root.resolve("b"));
        broker = Broker.start(props);
        return broker;
    }

    private static Map<String, LogDirDescription> describe(Admin admin) throws Exception {
        return admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
    }

    private static String dirOf(Map<String, LogDirDescription> dirs, TopicPartition tp) {
        return dirs.entrySet().stream().filter(e -> e.getValue().replicaInfos().containsKey(tp)).map(Map.Entry::getKey)
                .findFirst().orElseThrow();
    }

    @Test
    void partitionsSpreadOverTheDirsAndOneMovesWithItsRecords() throws Exception {
        root = TestDirs.newDataDir("logdirs");
        start();
        String topic = TestDirs.uniqueTopic("logdirs");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 4, Map.of());
            Map<String, LogDirDescription> dirs = describe(admin);
            assertThat(dirs).containsOnlyKeys(root.resolve("a").toAbsolutePath().toString(),
                    root.resolve("b").toAbsolutePath().toString());
            for (LogDirDescription dir : dirs.values()) {
                assertThat(dir.replicaInfos().keySet().stream().filter(p -> p.topic().equals(topic))).hasSize(2);
            }

            ToolRunner.Result tool = ToolRunner.runTool(LOG_DIRS_COMMAND, "--bootstrap-server", broker.bootstrapServers(),
                    "--describe", "--topic-list", topic);
            assertThat(tool.exitCode()).as(tool.describe()).isZero();
            assertThat(tool.stdout()).as(tool.describe()).contains("\"logDir\":\"" + root.resolve("a").toAbsolutePath(),
                    "\"logDir\":\"" + root.resolve("b").toAbsolutePath(), "\"partition\":\"" + topic + "-0\"");

            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i));
                }
                producer.flush();
            }
            String from = dirOf(dirs, tp);
            String to = from.equals(root.resolve("a").toAbsolutePath().toString())
                    ? root.resolve("b").toAbsolutePath().toString() : root.resolve("a").toAbsolutePath().toString();

            admin.alterReplicaLogDirs(Map.of(new TopicPartitionReplica(topic, 0, 0), to)).all().get();

            Map<String, LogDirDescription> after = describe(admin);
            assertThat(dirOf(after, tp)).isEqualTo(to);
            ReplicaInfo moved = after.get(to).replicaInfos().get(tp);
            assertThat(moved.size()).isPositive();
            assertThat(moved.isFuture()).isFalse();
            assertThat(Path.of(to).resolve(topic + "-0")).isDirectory();
            assertThat(Path.of(from).resolve(topic + "-0")).doesNotExist();
            assertThat(admin.describeReplicaLogDirs(List.of(new TopicPartitionReplica(topic, 0, 0))).all().get()
                    .values().iterator().next().getCurrentReplicaLogDir()).isEqualTo(to);

            // the moved log takes new records, keeps the old ones
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
                producer.send(new ProducerRecord<>(topic, 0, "k100", "v100")).get();
            }
            assertAllRecords(tp, 101);

            ExecutionException noSuchDir = assertThrows(ExecutionException.class, () -> admin.alterReplicaLogDirs(
                    Map.of(new TopicPartitionReplica(topic, 1, 0), root.resolve("c").toAbsolutePath().toString())).all().get());
            assertThat(noSuchDir.getCause()).isInstanceOf(LogDirNotFoundException.class);
            ExecutionException noSuchReplica = assertThrows(ExecutionException.class, () -> admin.alterReplicaLogDirs(
                    Map.of(new TopicPartitionReplica("no-such-topic", 0, 0), to)).all().get());
            assertThat(noSuchReplica.getCause()).isInstanceOf(ReplicaNotAvailableException.class);
        }

        // after a restart the partition is still in its new dir, records and all
        broker.close();
        start();
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            String dir = dirOf(describe(admin), tp);
            assertThat(Files.list(Path.of(dir)).anyMatch(p -> p.getFileName().toString().equals(topic + "-0"))).isTrue();
        }
        assertAllRecords(tp, 101);
    }

    private void assertAllRecords(TopicPartition tp, int count) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            List<String> values = Clients.readFromBeginning(consumer, List.of(tp), count).stream().map(r -> r.value()).toList();
            assertThat(values).hasSize(count);
            assertThat(values.get(0)).isEqualTo("v0");
            assertThat(values.get(count - 1)).isEqualTo("v" + (count - 1));
        }
    }
}
