package io.gregor.broker.handlers;

import io.gregor.broker.Topics;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.storage.TopicPartition;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * ElectLeaders (v0-2, KIP-183 and KIP-460): preferred or unclean leader election, as
 * {@code kafka-leader-election} and {@code Admin.electLeaders} ask for it. The controller runs the elections;
 * the answer waits (up to the request's timeout) until the metadata shows their outcome.
 */
public final class LeaderElectionHandler {
    private final Topics topics;
    /** Elections wait for the controller; they do it here rather than on a request thread. */
    private final Executor waiting;

    public LeaderElectionHandler(Topics topics, Executor waiting) {
        this.topics = topics;
        this.waiting = waiting;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.ELECT_LEADERS, (short) 0, (short) 2, this::electLeaders);
    }

    private CompletionStage<ElectLeadersResponseData> electLeaders(KafkaRequest request) {
        ElectLeadersRequestData data = request.body();
        short version = request.apiVersion();
        request.requireCluster(org.apache.kafka.common.acl.AclOperation.ALTER);
        if (version > 0 && data.electionType() != ElectionType.PREFERRED.value
                && data.electionType() != ElectionType.UNCLEAN.value) {
            throw new InvalidRequestException("Unknown election type " + data.electionType()
                    + "; the types are 0 (preferred) and 1 (unclean)");
        }
        ElectionType type = version == 0 ? ElectionType.PREFERRED : ElectionType.valueOf(data.electionType());
        List<TopicPartition> partitions = new ArrayList<>();
        if (data.topicPartitions() == null) {
            // null asks for every partition
            for (TopicMetadata t : topics.all()) {
                for (int p = 0; p < t.partitionCount(); p++) {
                    partitions.add(new TopicPartition(t.name(), p));
                }
            }
        } else {
            for (ElectLeadersRequestData.TopicPartitions t : data.topicPartitions()) {
                for (int p : t.partitions()) {
                    partitions.add(new TopicPartition(t.topic(), p));
                }
            }
        }
        return CompletableFuture.supplyAsync(() -> topics.store().electLeaders(type == ElectionType.UNCLEAN,
                partitions, Math.max(0, data.timeoutMs())), waiting).thenApply(results -> {
                    Map<String, ReplicaElectionResult> byTopic = new LinkedHashMap<>();
                    results.forEach((tp, error) -> byTopic.computeIfAbsent(tp.topic(),
                                    t -> new ReplicaElectionResult().setTopic(t)).partitionResult()
                            .add(new PartitionResult().setPartitionId(tp.partition()).setErrorCode(error.code())
                                    .setErrorMessage(error == Errors.NONE ? null : message(error, type))));
                    return new ElectLeadersResponseData().setErrorCode(Errors.NONE.code())
                            .setReplicaElectionResults(new ArrayList<>(byTopic.values()));
                });
    }

    private static String message(Errors error, ElectionType type) {
        return switch (error) {
            case ELECTION_NOT_NEEDED -> type == ElectionType.PREFERRED
                    ? "Leader is already the preferred replica." : "The partition has a leader.";
            case PREFERRED_LEADER_NOT_AVAILABLE -> "The preferred replica is not alive or not in sync.";
            case ELIGIBLE_LEADERS_NOT_AVAILABLE -> "No live replica can lead the partition.";
            default -> error.message();
        };
    }
}
