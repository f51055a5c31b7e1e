package io.gregor.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import static io.gregor.storage.TestSupport.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class LogManagerTest {
    @TempDir
    Path root;

    private StorageSettings settings(Path... dirs) {
        return new StorageSettings(List.of(dirs), 3, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    @Test
    void clusterIdIsGeneratedOnceAndReadBack() throws Exception {
        Path d = root.resolve("logs");
        String id;
        try (FileLogManager m = FileLogManager.open(settings(d), t -> null)) {
            id = m.clusterId();
        }
        assertThat(id).hasSize(22).doesNotStartWith("-");
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(d.resolve("meta.properties"))) {
            p.load(r);
        }
        assertThat(p.getProperty("cluster.id")).isEqualTo(id);
        assertThat(p.getProperty("node.id")).isEqualTo("3");
        try (FileLogManager m = FileLogManager.open(settings(d), t -> null)) {
            assertThat(m.clusterId()).isEqualTo(id);
        }
    }

    @Test
    void logsAreSpreadOverDirsAndLoadedBackWithTheirTopicIdsAndConfigs() throws Exception {
        Path a = root.resolve("a");
        Path b = root.resolve("b");
        LogConfig custom = TestSupport.config(4096, 128);
        String topicId = Uuids.random();
        try (FileLogManager m = FileLogManager.open(settings(a, b), t -> null)) {
            for (int p = 0; p < 4; p++) {
                PartitionLog log = m.getOrCreate(new TopicPartition("events", p), topicId, custom);
                log.append(batch(1, 0, p + 1), 0, 1);
                log.updateHighWatermark(log.logEndOffset());
            }
            assertThat(m.logDirOf(new TopicPartition("events", 0))).isNotEqualTo(
                    m.logDirOf(new TopicPartition("events", 1)));
        }
        Files.createDirectories(a.resolve("gregor-metadata"));
        Files.createDirectories(a.resolve("events-9.0123456789abcdef-delete"));
        assertThat(Files.readString(a.resolve("events-0/partition.metadata")))
                .isEqualTo("version: 0\ntopic_id: " + topicId + "\n");
        String hw = Files.readString(a.resolve("replication-offset-checkpoint"));
        assertThat(hw).startsWith("0\n2\n").contains("events 0 1\n", "events 2 3\n");
        assertThat(Files.readString(a.resolve("recovery-point-offset-checkpoint"))).contains("events 0 1\n");

        try (FileLogManager m = FileLogManager.open(settings(a, b), t -> t.equals("events") ? custom : null)) {
            assertThat(m.loadedLogs()).hasSize(4);
            PartitionLog log = m.get(new TopicPartition("events", 3)).orElseThrow();
            assertThat(log.topicId()).isEqualTo(topicId);
            assertThat(log.config()).isEqualTo(custom);
            assertThat(log.logEndOffset()).isEqualTo(4);
            assertThat(log.highWatermark()).isEqualTo(4);
            assertThat(a.resolve("gregor-metadata")).exists();
            assertThat(a.resolve("events-9.0123456789abcdef-delete")).doesNotExist();
        }
    }

    @Test
    void deleteRenamesTheDirAndRemovesItLater() throws Exception {
        Path d = root.resolve("logs");
        try (FileLogManager m = FileLogManager.open(settings(d), t -> null)) {
            TopicPartition tp = new TopicPartition("gone", 0);
            m.getOrCreate(tp, Uuids.random(), TestSupport.config(4096, 128)).append(batch(1, 0, 1), 0, 1);
            m.delete(tp);
            assertThat(m.get(tp)).isEmpty();
            assertThat(d.resolve("gone-0")).doesNotExist();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (var s = Files.list(d)) {
                    return s.noneMatch(p -> p.getFileName().toString().startsWith("gone-0"));
                }
            });
        }
    }

    @Test
    void dirNamesParseAsKafkaDoes() {
        assertThat(FileLogManager.parseDirName("my-topic-12")).isEqualTo(new TopicPartition("my-topic", 12));
        assertThat(FileLogManager.parseDirName("gregor-metadata")).isNull();
        assertThat(FileLogManager.parseDirName("nodash")).isNull();
        assertThat(FileLogManager.parseDirName("t-")).isNull();
    }

    @Test
    void flushMessagesAdvancesTheRecoveryPoint() {
        try (FileLogManager m = FileLogManager.open(settings(root.resolve("logs")), t -> null)) {
            LogConfig everyTwo = new LogConfig(1 << 20, Long.MAX_VALUE, -1, -1, 4096, 1 << 20, 2, Long.MAX_VALUE,
                    1 << 20, false, 0, false, true);
            FileLog log = (FileLog) m.getOrCreate(new TopicPartition("f", 0), Uuids.random(), everyTwo);
            log.append(batch(1, 0, 1), 0, 1);
            assertThat(log.recoveryPoint()).isZero();
            log.append(batch(1, 1, 1), 0, 1);
            assertThat(log.recoveryPoint()).isEqualTo(2);
        }
    }
}
