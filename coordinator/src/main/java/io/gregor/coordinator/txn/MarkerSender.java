package io.gregor.coordinator.txn;

import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;

import java.util.concurrent.CompletionStage;

/**
 * Delivers transaction markers to the leaders of the partitions they name: the broker routes each topic
 * partition to its leader (in-process when that is this broker, else over the network). Partitions whose
 * leader is unknown or unreachable are answered with a retriable error (NOT_LEADER_OR_FOLLOWER); the
 * coordinator sends them again until every marker is written.
 */
@FunctionalInterface
public interface MarkerSender {
    CompletionStage<WriteTxnMarkersResponseData> send(WriteTxnMarkersRequestData request);
}
