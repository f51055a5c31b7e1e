package io.gregor.broker.reassign;

import io.gregor.broker.Topics;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.ReplicaAssignment;
import io.gregor.storage.TopicPartition;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * AlterPartitionReassignments (v0-1) and ListPartitionReassignments (v0), what {@code kafka-reassign-partitions}
 * and {@code Admin.alterPartitionReassignments} use. In a cluster the controller runs reassignments (the request
 * is answered NOT_CONTROLLER elsewhere, and clients retry at the controller); a single broker holds every
 * partition alone, so the only valid target is itself and there is never anything to move.
 */
public final class ReassignmentHandler {
    private static final Logger log = LoggerFactory.getLogger(ReassignmentHandler.class);

    private final Topics topics;
    private final int brokerId;
    /** The controller's ZooKeeper writes are waited for here rather than on a request thread. */
    private final Executor waiting;

    public ReassignmentHandler(Topics topics, int brokerId, Executor waiting) {
        this.topics = topics;
        this.brokerId = brokerId;
        this.waiting = waiting;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, (short) 0, (short) 1, this::alter);
        registry.register(ApiKeys.LIST_PARTITION_REASSIGNMENTS, (short) 0, (short) 0, this::list);
    }

    private CompletionStage<AlterPartitionReassignmentsResponseData> alter(KafkaRequest request) {
        AlterPartitionReassignmentsRequestData data = request.body();
        Map<TopicPartition, Optional<List<Integer>>> targets = new LinkedHashMap<>();
        for (AlterPartitionReassignmentsRequestData.ReassignableTopic t : data.topics()) {
            for (AlterPartitionReassignmentsRequestData.ReassignablePartition p : t.partitions()) {
                targets.put(new TopicPartition(t.name(), p.partitionIndex()), Optional.ofNullable(p.replicas()));
            }
        }
        boolean allowRfChange = request.apiVersion() < 1 || data.allowReplicationFactorChange();
        MetadataStore store = topics.store();
        if (!store.clustered()) {
            return CompletableFuture.completedFuture(response(alterAlone(targets, allowRfChange), allowRfChange));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return response(store.alterReassignments(targets, allowRfChange), allowRfChange);
            } catch (ApiException e) {
                Errors error = Errors.forException(e);
                if (error != Errors.NOT_CONTROLLER) {
                    log.info("AlterPartitionReassignments failed: {}", e.getMessage());
                }
                return new AlterPartitionReassignmentsResponseData().setErrorCode(error.code())
                        .setErrorMessage(e.getMessage()).setAllowReplicationFactorChange(allowRfChange);
            }
        }, waiting);
    }

    /** One broker: the checks a controller makes, against the one broker there is. */
    private Map<TopicPartition, ApiError> alterAlone(Map<TopicPartition, Optional<List<Integer>>> targets,
                                                     boolean allowRfChange) {
        Map<TopicPartition, ApiError> results = new LinkedHashMap<>();
        targets.forEach((tp, target) -> {
            boolean exists = topics.topic(tp.topic())
                    .map(t -> tp.partition() >= 0 && tp.partition() < t.partitionCount()).orElse(false);
            ReplicaAssignment current = ReplicaAssignment.of(exists ? List.of(brokerId) : List.of());
            ApiError error = target.map(t -> current.validateTarget(t, Set.of(brokerId))).orElse(null);
            if (error == null && target.isEmpty()) {
                error = new ApiError(Errors.NO_REASSIGNMENT_IN_PROGRESS, "No reassignment is in progress for " + tp);
            } else if (error == null && !exists) {
                error = new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.");
            } else if (error == null && !allowRfChange && target.get().size() != 1) {
                error = new ApiError(Errors.INVALID_REPLICATION_FACTOR,
                        "The replication factor is changed from 1 to " + target.get().size());
            }
            results.put(tp, error == null ? ApiError.NONE : error);
            if (error != null) {
                log.info("{}: reassignment refused: {} ({})", tp, error.error(), error.messageWithFallback());
            }
        });
        return results;
    }

    private static AlterPartitionReassignmentsResponseData response(Map<TopicPartition, ApiError> results,
                                                                    boolean allowRfChange) {
        Map<String, ReassignableTopicResponse> byTopic = new LinkedHashMap<>();
        results.forEach((tp, error) -> byTopic.computeIfAbsent(tp.topic(),
                t -> new ReassignableTopicResponse().setName(t)).partitions()
                .add(new ReassignablePartitionResponse().setPartitionIndex(tp.partition())
                        .setErrorCode(error.error().code())
                        .setErrorMessage(error.error() == Errors.NONE ? null : error.messageWithFallback())));
        return new AlterPartitionReassignmentsResponseData().setErrorCode(Errors.NONE.code())
                .setAllowReplicationFactorChange(allowRfChange)
                .setResponses(new ArrayList<>(byTopic.values()));
    }

    private CompletionStage<ListPartitionReassignmentsResponseData> list(KafkaRequest request) {
        ListPartitionReassignmentsRequestData data = request.body();
        List<TopicPartition> wanted = null;
        if (data.topics() != null) {
            wanted = new ArrayList<>();
            for (ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics t : data.topics()) {
                for (int p : t.partitionIndexes()) {
                    wanted.add(new TopicPartition(t.name(), p));
                }
            }
        }
        Map<String, OngoingTopicReassignment> byTopic = new LinkedHashMap<>();
        topics.store().reassignments(wanted).forEach((tp, r) -> byTopic.computeIfAbsent(tp.topic(),
                t -> new OngoingTopicReassignment().setName(t)).partitions()
                .add(new OngoingPartitionReassignment().setPartitionIndex(tp.partition())
                        .setReplicas(r.replicas()).setAddingReplicas(r.adding()).setRemovingReplicas(r.removing())));
        return CompletableFuture.completedFuture(new ListPartitionReassignmentsResponseData()
                .setErrorCode(Errors.NONE.code()).setTopics(new ArrayList<>(byTopic.values())));
    }
}
