package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Groups committing over and over: __consumer_offsets keeps only each group's latest commit once the
 * cleaner has run, so its size stays bounded however long the groups live, and nothing is lost.
 */
class OffsetsTopicCompactionTest {
    private static final TopicPartition OFFSETS_0 = new TopicPartition("__consumer_offsets", 0);
    private static final String METADATA = "m".repeat(300);

    @Test
    void repeatedCommitsAreCompactedAwayAndTheLatestOnesSurviveARestart() throws Exception {
        TestBroker broker = TestBroker.start("offsets-compaction", Map.of(
                "offsets.topic.num.partitions", "1",
                "offsets.topic.segment.bytes", Integer.toString(1024 * 1024),
                "log.cleaner.backoff.ms", "100",
                "log.cleaner.min.cleanable.ratio", "0.1"));
        try {
            Clients.createTopic(broker.bootstrapServers(), "committed", 3);
            int groups = 100;
            int rounds = 150; // 15,000 commits: several 1 MiB segments of mostly stale offsets
            try (Admin admin = Clients.admin(broker.bootstrapServers())) {
                for (int round = 0; round < rounds; round++) {
                    List<KafkaFuture<Void>> commits = new ArrayList<>();
                    for (int g = 0; g < groups; g++) {
                        commits.add(admin.alterConsumerGroupOffsets("cg-" + g, Map.of(
                                new TopicPartition("committed", 0), new OffsetAndMetadata(round, METADATA),
                                new TopicPartition("committed", 1), new OffsetAndMetadata(round * 2L, METADATA),
                                new TopicPartition("committed", 2), new OffsetAndMetadata(round * 3L, METADATA))).all());
                    }
                    KafkaFuture.allOf(commits.toArray(KafkaFuture[]::new)).get(60, TimeUnit.SECONDS);
                }
                long records = admin.listOffsets(Map.of(OFFSETS_0, OffsetSpec.latest())).all()
                        .get(30, TimeUnit.SECONDS).get(OFFSETS_0).offset();
                assertThat(records).as("every commit was written").isGreaterThanOrEqualTo(3L * groups * rounds);
                // Uncompacted, those records take several MiB. Compacted, what is left is the groups' latest
                // commits (about 100 KiB) and the active segment (at most offsets.topic.segment.bytes, 1 MiB).
                await("the cleaner compacts __consumer_offsets").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> sizeOf(admin) < 3L * 1024 * 1024 / 2);
            }

            broker.restart();
            try (Admin admin = Clients.admin(broker.bootstrapServers())) {
                for (int g = 0; g < groups; g += 33) {
                    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("cg-" + g)
                            .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                    assertThat(offsets.get(new TopicPartition("committed", 0)).offset()).isEqualTo(rounds - 1);
                    assertThat(offsets.get(new TopicPartition("committed", 0)).metadata()).isEqualTo(METADATA);
                    assertThat(offsets.get(new TopicPartition("committed", 2)).offset()).isEqualTo((rounds - 1) * 3L);
                }
            }
        } finally {
            broker.close();
        }
    }

    private static long sizeOf(Admin admin) throws Exception {
        long size = 0;
        Map<Integer, Map<String, LogDirDescription>> dirs = admin.describeLogDirs(List.of(0))
                .allDescriptions().get(30, TimeUnit.SECONDS);
        for (LogDirDescription dir : dirs.get(0).values()) {
            ReplicaInfo info = dir.replicaInfos().get(OFFSETS_0);
            if (info != null) {
                size += info.size();
            }
        }
        return size;
    }
}
