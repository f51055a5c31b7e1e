package io.gregor.broker.handlers;

import io.gregor.broker.Topics;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.PartitionLog;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * DescribeProducers ({@code kafka-transactions.sh describe-producers}): the producers a partition leader keeps
 * state for, with epoch, last sequence and timestamp, the coordinator epoch of their last marker and where
 * their open transaction starts (-1: none). Only the leader answers, as in Kafka.
 */
public final class DescribeProducersHandler {
    private final Topics topics;

    public DescribeProducersHandler(Topics topics) {
        this.topics = topics;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.DESCRIBE_PRODUCERS, (short) 0, Short.MAX_VALUE, this::describeProducers);
    }

    private CompletionStage<DescribeProducersResponseData> describeProducers(KafkaRequest request) {
        DescribeProducersRequestData data = request.body();
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        for (DescribeProducersRequestData.TopicRequest topic : data.topics()) {
            TopicResponse topicResponse = new TopicResponse().setName(topic.name());
            response.topics().add(topicResponse);
            boolean refused = !request.authorize(org.apache.kafka.common.acl.AclOperation.READ,
                    org.apache.kafka.common.resource.ResourceType.TOPIC, topic.name());
            for (int index : topic.partitionIndexes()) {
                PartitionResponse result = new PartitionResponse().setPartitionIndex(index);
                topicResponse.partitions().add(result);
                if (refused) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                            .setErrorMessage(Errors.TOPIC_AUTHORIZATION_FAILED.message());
                    continue;
                }
                Partition partition = topics.partition(topic.name(), index).orElse(null);
                if (partition == null) {
                    Errors error = topics.notHostedError(topic.name(), index, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                    result.setErrorCode(error.code()).setErrorMessage(error.message());
                    continue;
                }
                if (!partition.isLeader()) {
                    result.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code())
                            .setErrorMessage(Errors.NOT_LEADER_OR_FOLLOWER.message());
                    continue;
                }
                for (PartitionLog.ProducerDescription p : partition.log().activeProducers()) {
                    result.activeProducers().add(new ProducerState().setProducerId(p.producerId())
                            .setProducerEpoch(p.producerEpoch()).setLastSequence(p.lastSequence())
                            .setLastTimestamp(p.lastTimestamp()).setCoordinatorEpoch(p.coordinatorEpoch())
                            .setCurrentTxnStartOffset(p.currentTxnStartOffset()));
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
