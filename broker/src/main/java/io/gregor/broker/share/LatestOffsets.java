package io.gregor.broker.share;

import io.gregor.broker.Topics;
import io.gregor.broker.interbroker.InterBrokerClient;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.replica.Partition;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ListOffsetsRequest;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A partition's latest offset (its high watermark) wherever its leader is, as Kafka's group coordinator gets it
 * for the lag of a share group (its PartitionMetadataClient): read locally when this broker leads the
 * partition, else a ListOffsets (LATEST, read_uncommitted) to the leader through the inter-broker client.
 */
public final class LatestOffsets {
    private final Topics topics;
    /** null when this broker is alone (it leads every partition). */
    private final InterBrokerClient network;

    public LatestOffsets(Topics topics, InterBrokerClient network) {
        this.topics = topics;
        this.network = network;
    }

    /** The latest offset of the partition, or a failure with the partition's Kafka error. */
    public CompletableFuture<Long> of(String topic, int partition) {
        Optional<Partition> local = topics.partition(topic, partition).filter(Partition::isLeader);
        if (local.isPresent()) {
            return CompletableFuture.completedFuture(local.get().log().highWatermark());
        }
        int leader = topics.store().partitionState(topic, partition).map(PartitionState::leader).orElse(-1);
        Node node = leader < 0 || network == null ? null : node(leader);
        if (node == null) {
            return CompletableFuture.failedFuture(Errors.LEADER_NOT_AVAILABLE.exception(
                    topic + "-" + partition + " has no leader now"));
        }
        ListOffsetsRequestData.ListOffsetsTopic t = new ListOffsetsRequestData.ListOffsetsTopic().setName(topic);
        t.partitions().add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(partition)
                .setTimestamp(ListOffsetsRequest.LATEST_TIMESTAMP).setCurrentLeaderEpoch(-1));
        return network.send(node, ListOffsetsRequest.Builder.forConsumer(false, IsolationLevel.READ_UNCOMMITTED)
                .setTargetTimes(List.of(t))).thenApply(r -> {
                    for (ListOffsetsResponseData.ListOffsetsTopicResponse tr : ((ListOffsetsResponseData) r).topics()) {
                        for (ListOffsetsResponseData.ListOffsetsPartitionResponse pr : tr.partitions()) {
                            if (pr.partitionIndex() == partition && tr.name().equals(topic)) {
                                if (pr.errorCode() != Errors.NONE.code()) {
                                    throw Errors.forCode(pr.errorCode()).exception();
                                }
                                return pr.offset();
                            }
                        }
                    }
                    throw (ApiException) Errors.UNKNOWN_TOPIC_OR_PARTITION.exception();
                });
    }

    private Node node(int brokerId) {
        for (BrokerInfo b : topics.store().liveBrokers()) {
            if (b.id() == brokerId) {
                BrokerInfo on = b.on(network.listenerName());
                return on == null ? null : new Node(on.id(), on.host(), on.port(), on.rack());
            }
        }
        return null;
    }
}
