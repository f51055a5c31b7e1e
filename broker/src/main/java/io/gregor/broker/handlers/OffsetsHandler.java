package io.gregor.broker.handlers;

import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.TimestampOffset;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Questions about offsets: ListOffsets (earliest, latest, by timestamp through the time index, max
 * timestamp), OffsetForLeaderEpoch (consumers validating their position, KIP-320) and DeleteRecords.
 */
public final class OffsetsHandler {
    static final long LATEST = -1L;
    static final long EARLIEST = -2L;
    static final long MAX_TIMESTAMP = -3L;
    static final long EARLIEST_LOCAL = -4L;
    static final long LATEST_TIERED = -5L;
    static final long EARLIEST_PENDING_UPLOAD = -6L;
    private static final byte READ_COMMITTED = 1;

    private final Topics topics;

    public OffsetsHandler(Topics topics) {
        this.topics = topics;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.LIST_OFFSETS, (short) 1, Short.MAX_VALUE, this::listOffsets);
        registry.register(ApiKeys.OFFSET_FOR_LEADER_EPOCH, (short) 2, Short.MAX_VALUE, this::offsetForLeaderEpoch);
        registry.register(ApiKeys.DELETE_RECORDS, (short) 0, Short.MAX_VALUE, this::deleteRecords);
    }

    private CompletionStage<ListOffsetsResponseData> listOffsets(KafkaRequest request) {
        ListOffsetsRequestData data = request.body();
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        for (ListOffsetsRequestData.ListOffsetsTopic topic : data.topics()) {
            ListOffsetsResponseData.ListOffsetsTopicResponse topicResponse =
                    new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(topic.name());
            response.topics().add(topicResponse);
            boolean refused = !request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name());
            for (ListOffsetsRequestData.ListOffsetsPartition p : topic.partitions()) {
                ListOffsetsPartitionResponse result = new ListOffsetsPartitionResponse()
                        .setPartitionIndex(p.partitionIndex()).setTimestamp(-1).setOffset(-1).setLeaderEpoch(-1);
                topicResponse.partitions().add(result);
                if (refused) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                    continue;
                }
                LeaderLookup leader = LeaderLookup.lookup(topics.partition(topic.name(), p.partitionIndex()),
                        p.currentLeaderEpoch(),
                        topics.notHostedError(topic.name(), p.partitionIndex(), Errors.UNKNOWN_TOPIC_OR_PARTITION));
                if (leader.error() != Errors.NONE) {
                    result.setErrorCode(leader.error().code());
                    continue;
                }
                lookup(leader.partition().log(), p.timestamp(), data.isolationLevel() == READ_COMMITTED,
                        data.replicaId() != ListOffsetsRequest.CONSUMER_REPLICA_ID, result);
                if (request.apiVersion() < 4) {
                    result.setLeaderEpoch(-1); // not in the schema before v4
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    /**
     * A read_committed client (isolation level 1) sees offsets below the last stable offset, others below the
     * high watermark, and any caller but a consumer (replica id -1) the whole log up to its end, as in Kafka.
     */
    private static void lookup(PartitionLog log, long timestamp, boolean readCommitted, boolean replica,
                               ListOffsetsPartitionResponse result) {
        long visibleEnd = replica ? log.logEndOffset()
                : readCommitted ? log.lastStableOffset() : log.highWatermark();
        if (timestamp == EARLIEST || timestamp == EARLIEST_LOCAL) {
            result.setOffset(log.logStartOffset()).setLeaderEpoch(log.latestEpoch());
        } else if (timestamp == LATEST) {
            result.setOffset(visibleEnd).setLeaderEpoch(log.latestEpoch());
        } else if (timestamp == LATEST_TIERED || timestamp == EARLIEST_PENDING_UPLOAD) {
            // No tiered storage: nothing was ever uploaded, so there is no such offset.
            result.setOffset(-1);
        } else {
            Optional<TimestampOffset> found = timestamp == MAX_TIMESTAMP
                    ? log.maxTimestamp() : log.offsetForTimestamp(timestamp);
            found.filter(t -> t.offset() < visibleEnd).ifPresent(t -> result
                    .setTimestamp(t.timestamp()).setOffset(t.offset()).setLeaderEpoch(t.leaderEpoch()));
        }
    }

    private CompletionStage<OffsetForLeaderEpochResponseData> offsetForLeaderEpoch(KafkaRequest request) {
        OffsetForLeaderEpochRequestData data = request.body();
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        // a follower's request (any replica id but the consumer's -1) needs CLUSTER_ACTION, a consumer's DESCRIBE on the topic
        boolean follower = request.apiVersion() >= 3 && data.replicaId() != -1;
        if (follower && !request.authorizeCluster(AclOperation.CLUSTER_ACTION)) {
            throw new org.apache.kafka.common.errors.ClusterAuthorizationException(
                    "Request " + request.apiKey() + " needs CLUSTER_ACTION on the cluster");
        }
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic : data.topics()) {
            OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult topicResult =
                    new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic(topic.topic());
            response.topics().add(topicResult);
            boolean refused = !follower && !request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, topic.topic());
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p : topic.partitions()) {
                EpochEndOffset result = new EpochEndOffset().setPartition(p.partition())
                        .setLeaderEpoch(-1).setEndOffset(-1);
                topicResult.partitions().add(result);
                if (refused) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                    continue;
                }
                LeaderLookup leader = LeaderLookup.lookup(topics.partition(topic.topic(), p.partition()),
                        p.currentLeaderEpoch(),
                        topics.notHostedError(topic.topic(), p.partition(), Errors.UNKNOWN_TOPIC_OR_PARTITION));
                if (leader.error() != Errors.NONE) {
                    result.setErrorCode(leader.error().code());
                    continue;
                }
                PartitionLog log = leader.partition().log();
                if (p.leaderEpoch() == leader.partition().leaderEpoch()) {
                    // the current epoch ends at the log end, even before its first batch
                    result.setLeaderEpoch(p.leaderEpoch()).setEndOffset(log.logEndOffset());
                } else {
                    PartitionLog.EpochEndOffset end = log.endOffsetForEpoch(p.leaderEpoch());
                    result.setLeaderEpoch(end.epoch()).setEndOffset(end.endOffset());
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private CompletionStage<DeleteRecordsResponseData> deleteRecords(KafkaRequest request) {
        DeleteRecordsRequestData data = request.body();
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        for (DeleteRecordsRequestData.DeleteRecordsTopic topic : data.topics()) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult topicResult =
                    new DeleteRecordsResponseData.DeleteRecordsTopicResult().setName(topic.name());
            response.topics().add(topicResult);
            boolean refused = !request.authorize(AclOperation.DELETE, ResourceType.TOPIC, topic.name());
            for (DeleteRecordsRequestData.DeleteRecordsPartition p : topic.partitions()) {
                DeleteRecordsResponseData.DeleteRecordsPartitionResult result =
                        new DeleteRecordsResponseData.DeleteRecordsPartitionResult()
                                .setPartitionIndex(p.partitionIndex()).setLowWatermark(-1);
                topicResult.partitions().add(result);
                if (refused) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                    continue;
                }
                Optional<Partition> partition = topics.partition(topic.name(), p.partitionIndex());
                if (partition.isEmpty() || !partition.get().isLeader()) {
                    result.setErrorCode((partition.isEmpty() ? topics.notHostedError(topic.name(), p.partitionIndex(),
                            Errors.UNKNOWN_TOPIC_OR_PARTITION) : Errors.NOT_LEADER_OR_FOLLOWER).code());
                    continue;
                }
                PartitionLog log = partition.get().log();
                if (!log.config().delete()) {
                    result.setErrorCode(Errors.POLICY_VIOLATION.code());
                    continue;
                }
                long offset = p.offset() == -1 ? log.highWatermark() : p.offset();
                try {
                    log.deleteRecordsBefore(offset);
                } catch (RuntimeException e) {
                    result.setErrorCode(StorageErrors.toKafka(e).code());
                    continue;
                }
                // as Kafka, the answer waits until every live replica's log start reached the offset
                waits.add(partition.get().awaitLowWatermark(offset, this::live, data.timeoutMs())
                        .thenAccept(r -> result.setErrorCode(r.error().code()).setLowWatermark(r.lowWatermark())));
            }
        }
        return CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).thenApply(done -> response);
    }

    /** Whether a broker is registered now (a follower on a dead broker does not hold DeleteRecords back). */
    private boolean live(int brokerId) {
        for (BrokerInfo b : topics.store().liveBrokers()) {
            if (b.id() == brokerId) {
                return true;
            }
        }
        return false;
    }
}
