package io.gregor.broker.handlers;

import io.gregor.broker.Topics;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.AppendResult;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarkerTopic;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The partition leader's side of WriteTxnMarkers: for each marker and partition, writes the control batch
 * that commits or aborts the producer's transaction there, and answers once it is replicated to the ISR (Kafka
 * appends markers with required acks -1). Errors are per partition, as Kafka answers them. The transaction
 * coordinator calls {@link #writeMarkers} in-process for partitions this broker leads; other brokers'
 * coordinators send the request.
 */
public final class TxnMarkersHandler {
    private static final Logger log = LoggerFactory.getLogger(TxnMarkersHandler.class);

    /** Told of every marker written, so the group coordinator can complete transactional offset commits. */
    public interface TxnMarkerListener {
        void markerWritten(String topic, int partition, long producerId, short producerEpoch, boolean committed);
    }

    private final Topics topics;
    private final Time time;
    private final long replicationTimeoutMs;
    private final TxnMarkerListener listener;

    public TxnMarkersHandler(Topics topics, Time time, long replicationTimeoutMs, TxnMarkerListener listener) {
        this.topics = topics;
        this.time = time;
        this.replicationTimeoutMs = replicationTimeoutMs;
        this.listener = listener;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.WRITE_TXN_MARKERS, (short) 1, Short.MAX_VALUE, this::handle);
    }

    private CompletableFuture<WriteTxnMarkersResponseData> handle(KafkaRequest request) {
        // only brokers (transaction coordinators) write markers
        request.requireCluster(org.apache.kafka.common.acl.AclOperation.CLUSTER_ACTION);
        return writeMarkers(request.body());
    }

    public CompletableFuture<WriteTxnMarkersResponseData> writeMarkers(WriteTxnMarkersRequestData request) {
        WriteTxnMarkersResponseData response = new WriteTxnMarkersResponseData();
        List<CompletableFuture<Void>> replication = new ArrayList<>();
        long now = time.milliseconds();
        for (WritableTxnMarker marker : request.markers()) {
            WritableTxnMarkerResult markerResult = new WritableTxnMarkerResult().setProducerId(marker.producerId());
            response.markers().add(markerResult);
            for (WritableTxnMarkerTopic topic : marker.topics()) {
                WritableTxnMarkerTopicResult topicResult = new WritableTxnMarkerTopicResult().setName(topic.name());
                markerResult.topics().add(topicResult);
                for (int index : topic.partitionIndexes()) {
                    WritableTxnMarkerPartitionResult result = new WritableTxnMarkerPartitionResult()
                            .setPartitionIndex(index);
                    topicResult.partitions().add(result);
                    CompletableFuture<Errors> written = write(marker, topic.name(), index, now);
                    replication.add(written.thenAccept(error -> result.setErrorCode(error.code())));
                }
            }
        }
        return CompletableFuture.allOf(replication.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    /** One marker on one partition: appended, then replicated (or the error Kafka would give). */
    private CompletableFuture<Errors> write(WritableTxnMarker marker, String topic, int index, long now) {
        if (marker.producerId() < 0 || marker.producerEpoch() < 0) {
            // no batch can carry it (Kafka's record builder refuses it): a malformed request, not a broker fault
            log.warn("Marker for producer {} epoch {} on {}-{} refused: INVALID_REQUEST (no valid producer id and epoch)",
                    marker.producerId(), marker.producerEpoch(), topic, index);
            return CompletableFuture.completedFuture(Errors.INVALID_REQUEST);
        }
        Partition partition = topics.partition(topic, index).orElse(null);
        if (partition == null) {
            return CompletableFuture.completedFuture(
                    topics.notHostedError(topic, index, Errors.UNKNOWN_TOPIC_OR_PARTITION));
        }
        if (!partition.isLeader()) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        }
        int minIsr = topics.minInsyncReplicas(partition);
        if (partition.inSyncReplicaCount() < minIsr) {
            return CompletableFuture.completedFuture(Errors.NOT_ENOUGH_REPLICAS);
        }
        AppendResult appended;
        try {
            appended = partition.appendTxnMarker(marker.producerId(), marker.producerEpoch(),
                    marker.coordinatorEpoch(), marker.transactionResult(), marker.transactionVersion(), now);
        } catch (RuntimeException e) {
            Errors error = StorageErrors.toKafka(e);
            if (error == Errors.UNKNOWN_SERVER_ERROR) {
                log.error("Marker for producer {} on {}-{} failed", marker.producerId(), topic, index, e);
            } else {
                log.debug("Marker for producer {} on {}-{} refused: {}", marker.producerId(), topic, index,
                        e.toString());
            }
            return CompletableFuture.completedFuture(error);
        }
        return partition.awaitReplication(appended.lastOffset() + 1, minIsr, replicationTimeoutMs)
                .thenApply(error -> {
                    if (error == Errors.NONE) {
                        listener.markerWritten(topic, index, marker.producerId(), marker.producerEpoch(),
                                marker.transactionResult());
                    }
                    return error;
                });
    }
}
