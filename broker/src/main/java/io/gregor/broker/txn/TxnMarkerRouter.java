package io.gregor.broker.txn;

import io.gregor.broker.interbroker.InterBrokerClient;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.coordinator.txn.MarkerSender;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarkerTopic;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Routes transaction markers to the leaders of their partitions: those this broker leads go in-process to
 * the local marker writer, the others over the network (WriteTxnMarkers) to their leader. A partition
 * without a reachable leader is answered NOT_LEADER_OR_FOLLOWER, which the coordinator retries.
 */
public final class TxnMarkerRouter implements MarkerSender {
    private static final Logger log = LoggerFactory.getLogger(TxnMarkerRouter.class);

    private final int brokerId;
    private final MetadataStore store;
    private final MarkerSender local;
    private final InterBrokerClient network;

    /** @param network for the markers of partitions led elsewhere; null when the store is not clustered */
    public TxnMarkerRouter(int brokerId, MetadataStore store, MarkerSender local, InterBrokerClient network) {
        this.brokerId = brokerId;
        this.store = store;
        this.local = local;
        this.network = network;
    }

    @Override
    public CompletionStage<WriteTxnMarkersResponseData> send(WriteTxnMarkersRequestData request) {
        Map<Integer, WriteTxnMarkersRequestData> byLeader = new HashMap<>();
        WriteTxnMarkersResponseData leaderless = new WriteTxnMarkersResponseData();
        for (WritableTxnMarker marker : request.markers()) {
            for (WritableTxnMarkerTopic topic : marker.topics()) {
                for (int p : topic.partitionIndexes()) {
                    int leader = store.clustered()
                            ? store.partitionState(topic.name(), p).map(PartitionState::leader).orElse(-1)
                            : brokerId;
                    if (leader < 0) {
                        addResult(leaderless, marker, topic.name(), p, Errors.NOT_LEADER_OR_FOLLOWER);
                    } else {
                        WriteTxnMarkersRequestData forLeader = byLeader.computeIfAbsent(leader, l -> new WriteTxnMarkersRequestData());
                        addPartition(forLeader, marker, topic.name(), p);
                    }
                }
            }
        }
        List<CompletableFuture<WriteTxnMarkersResponseData>> answers = new ArrayList<>();
        answers.add(CompletableFuture.completedFuture(leaderless));
        byLeader.forEach((leader, part) -> answers.add(sendTo(leader, part)));
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            WriteTxnMarkersResponseData merged = new WriteTxnMarkersResponseData();
            for (CompletableFuture<WriteTxnMarkersResponseData> a : answers) {
                merged.markers().addAll(a.join().markers());
            }
            return merged;
        });
    }

    private CompletableFuture<WriteTxnMarkersResponseData> sendTo(int leader, WriteTxnMarkersRequestData request) {
        CompletableFuture<WriteTxnMarkersResponseData> sent;
        if (leader == brokerId) {
            sent = local.send(request).toCompletableFuture();
        } else {
            BrokerInfo b = store.liveBrokers().stream().filter(i -> i.id() == leader).findFirst()
                .map(i -> i.on(network.listenerName())).orElse(null);
            if (b == null) {
                return CompletableFuture.completedFuture(allFailed(request, Errors.NOT_LEADER_OR_FOLLOWER));
            }
            sent = network.send(new Node(b.id(), b.host(), b.port(), b.rack()), new WriteTxnMarkersRequest.Builder(request))
                    .thenApply(r -> (WriteTxnMarkersResponseData) r);
        }
        return sent.exceptionally(e -> {
            log.debug("Writing markers through broker {} failed: {}", leader, e.toString());
            return allFailed(request, Errors.NOT_LEADER_OR_FOLLOWER);
        });
    }

    private static WriteTxnMarkersResponseData allFailed(WriteTxnMarkersRequestData request, Errors error) {
        WriteTxnMarkersResponseData response = new WriteTxnMarkersResponseData();
        for (WritableTxnMarker marker : request.markers()) {
            for (WritableTxnMarkerTopic topic : marker.topics()) {
                for (int p : topic.partitionIndexes()) {
                    addResult(response, marker, topic.name(), p, error);
                }
            }
        }
        return response;
    }

    private static void addPartition(WriteTxnMarkersRequestData request, WritableTxnMarker marker, String topic, int p) {
        WritableTxnMarker m = request.markers().stream().filter(x -> x.producerId() == marker.producerId()).findFirst()
                .orElseGet(() -> {
                    WritableTxnMarker copy = new WritableTxnMarker().setProducerId(marker.producerId())
                            .setProducerEpoch(marker.producerEpoch()).setTransactionResult(marker.transactionResult())
                            .setCoordinatorEpoch(marker.coordinatorEpoch())
                            .setTransactionVersion(marker.transactionVersion());
                    request.markers().add(copy);
                    return copy;
                });
        WritableTxnMarkerTopic t = m.topics().stream().filter(x -> x.name().equals(topic)).findFirst().orElseGet(() -> {
            WritableTxnMarkerTopic copy = new WritableTxnMarkerTopic().setName(topic);
            m.topics().add(copy);
            return copy;
        });
        t.partitionIndexes().add(p);
    }

    private static void addResult(WriteTxnMarkersResponseData response, WritableTxnMarker marker, String topic, int p,
                                  Errors error) {
        WritableTxnMarkerResult m = response.markers().stream().filter(x -> x.producerId() == marker.producerId())
                .findFirst().orElseGet(() -> {
                    WritableTxnMarkerResult r = new WritableTxnMarkerResult().setProducerId(marker.producerId());
                    response.markers().add(r);
                    return r;
                });
        WritableTxnMarkerTopicResult t = m.topics().stream().filter(x -> x.name().equals(topic)).findFirst().orElseGet(() -> {
            WritableTxnMarkerTopicResult r = new WritableTxnMarkerTopicResult().setName(topic);
            m.topics().add(r);
            return r;
        });
        t.partitions().add(new WritableTxnMarkerPartitionResult().setPartitionIndex(p).setErrorCode(error.code()));
    }
}
