package io.gregor.broker.handlers;

import io.gregor.broker.Topics;
import io.gregor.storage.LogManager;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.AlterReplicaLogDirsRequestData;
import org.apache.kafka.common.message.AlterReplicaLogDirsRequestData.AlterReplicaLogDir;
import org.apache.kafka.common.message.AlterReplicaLogDirsRequestData.AlterReplicaLogDirTopic;
import org.apache.kafka.common.message.AlterReplicaLogDirsResponseData;
import org.apache.kafka.common.message.AlterReplicaLogDirsResponseData.AlterReplicaLogDirPartitionResult;
import org.apache.kafka.common.message.AlterReplicaLogDirsResponseData.AlterReplicaLogDirTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * AlterReplicaLogDirs (v1-2): moves partitions between this broker's log dirs, as
 * {@code kafka-reassign-partitions} with {@code log_dirs} and {@code Admin.alterReplicaLogDirs} ask. Each move
 * copies the log, so it runs off the request threads and the answer comes once the partitions are moved.
 */
public final class AlterReplicaLogDirsHandler {
    private static final Logger log = LoggerFactory.getLogger(AlterReplicaLogDirsHandler.class);

    private final Topics topics;
    private final LogManager logs;
    private final Executor moving;

    public AlterReplicaLogDirsHandler(Topics topics, LogManager logs, Executor moving) {
        this.topics = topics;
        this.logs = logs;
        this.moving = moving;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.ALTER_REPLICA_LOG_DIRS, (short) 1, (short) 2, this::alterReplicaLogDirs);
    }

    private CompletionStage<AlterReplicaLogDirsResponseData> alterReplicaLogDirs(KafkaRequest request) {
        AlterReplicaLogDirsRequestData data = request.body();
        return CompletableFuture.supplyAsync(() -> move(data), moving);
    }

    private AlterReplicaLogDirsResponseData move(AlterReplicaLogDirsRequestData data) {
        Map<String, AlterReplicaLogDirTopicResult> results = new LinkedHashMap<>();
        for (AlterReplicaLogDir dir : data.dirs()) {
            Path target = configuredDir(dir.path());
            for (AlterReplicaLogDirTopic topic : dir.topics()) {
                AlterReplicaLogDirTopicResult result = results.computeIfAbsent(topic.name(),
                        name -> new AlterReplicaLogDirTopicResult().setTopicName(name));
                for (int partition : topic.partitions()) {
                    result.partitions().add(new AlterReplicaLogDirPartitionResult().setPartitionIndex(partition)
                            .setErrorCode(moveOne(topic.name(), partition, dir.path(), target).code()));
                }
            }
        }
        return new AlterReplicaLogDirsResponseData().setResults(new java.util.ArrayList<>(results.values()));
    }

    private Errors moveOne(String topic, int partition, String path, Path target) {
        if (target == null) {
            log.info("Refused to move {}-{} to {}: not one of the log dirs {}", topic, partition, path, logs.logDirs());
            return Errors.LOG_DIR_NOT_FOUND;
        }
        try {
            topics.moveReplicaLogDir(topic, partition, target);
            return Errors.NONE;
        } catch (RuntimeException e) {
            return TopicAdminHandler.errorOf(e, "move " + topic + "-" + partition + " to " + target);
        }
    }

    /** The configured log dir the request names (Kafka compares absolute paths), or null. */
    private Path configuredDir(String path) {
        Path wanted;
        try {
            wanted = Path.of(path).toAbsolutePath().normalize();
        } catch (RuntimeException e) {
            return null;
        }
        for (Path dir : logs.logDirs()) {
            if (dir.toAbsolutePath().normalize().equals(wanted)) {
                return dir;
            }
        }
        return null;
    }
}
