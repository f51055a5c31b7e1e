package io.gregor.broker.handlers;

import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.coordinator.txn.TransactionCoordinator;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResult;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The transaction coordinator's APIs on the wire (transactions v1 and v2): AddPartitionsToTxn (the client's
 * v0-v3 form and the batched v4/v5 form), AddOffsetsToTxn, EndTxn, DescribeTransactions and
 * ListTransactions, all served by the {@link TransactionCoordinator}. InitProducerId is in
 * {@link ProducerIdHandler}, TxnOffsetCommit with the group APIs.
 */
public final class TransactionHandler {
    private final TransactionCoordinator coordinator;

    public TransactionHandler(TransactionCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 0, (short) 5, this::addPartitionsToTxn);
        registry.register(ApiKeys.ADD_OFFSETS_TO_TXN, (short) 0, (short) 4, this::addOffsetsToTxn);
        // v5 is transactions v2 (KIP-890): the epoch bumps per transaction and the answer carries the new one
        registry.register(ApiKeys.END_TXN, (short) 0, (short) 5, this::endTxn);
        registry.register(ApiKeys.DESCRIBE_TRANSACTIONS, (short) 0, (short) 0, this::describeTransactions);
        registry.register(ApiKeys.LIST_TRANSACTIONS, (short) 0, (short) 2, this::listTransactions);
    }

    /** Clients before {@code fencedSince} do not know PRODUCER_FENCED: Kafka answers INVALID_PRODUCER_EPOCH to them. */
    static Errors fencedError(Errors error, short version, int fencedSince) {
        return error == Errors.PRODUCER_FENCED && version < fencedSince ? Errors.INVALID_PRODUCER_EPOCH : error;
    }

    private CompletionStage<AddPartitionsToTxnResponseData> addPartitionsToTxn(KafkaRequest request) {
        AddPartitionsToTxnRequestData data = request.body();
        short version = request.apiVersion();
        if (version < 4) {
            List<TopicPartition> partitions = AddPartitionsToTxnRequest.getPartitions(data.v3AndBelowTopics());
            Map<TopicPartition, Errors> refused = refusedPartitions(request, data.v3AndBelowTransactionalId(), partitions);
            if (refused != null) {
                return CompletableFuture.completedFuture(new AddPartitionsToTxnResponseData().setResultsByTopicV3AndBelow(
                        AddPartitionsToTxnResponse.resultForTransaction(AddPartitionsToTxnResponse.V3_AND_BELOW_TXN_ID,
                                refused).topicResults()));
            }
            return coordinator.addPartitions(data.v3AndBelowTransactionalId(), data.v3AndBelowProducerId(),
                    data.v3AndBelowProducerEpoch(), partitions).thenApply(errors -> {
                        AddPartitionsToTxnResult result = AddPartitionsToTxnResponse.resultForTransaction(
                                AddPartitionsToTxnResponse.V3_AND_BELOW_TXN_ID, fenced(errors, version));
                        return new AddPartitionsToTxnResponseData().setResultsByTopicV3AndBelow(result.topicResults());
                    });
        }
        AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
        // the batched form is the brokers' own (KIP-890)
        if (!request.authorizeCluster(AclOperation.CLUSTER_ACTION)) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        List<CompletableFuture<AddPartitionsToTxnResult>> results = new ArrayList<>();
        for (AddPartitionsToTxnTransaction txn : data.transactions()) {
            List<TopicPartition> partitions = AddPartitionsToTxnRequest.getPartitions(txn.topics());
            CompletableFuture<Map<TopicPartition, Errors>> errors = txn.verifyOnly()
                    ? CompletableFuture.completedFuture(coordinator.verifyPartitions(txn.transactionalId(),
                            txn.producerId(), txn.producerEpoch(), partitions))
                    // the broker form without verifyOnly: a partition leader adds for a transactions-v2 producer
                    : coordinator.addPartitions(txn.transactionalId(), txn.producerId(), txn.producerEpoch(), partitions,
                            (short) 2);
            results.add(errors.thenApply(e -> AddPartitionsToTxnResponse.resultForTransaction(txn.transactionalId(), e)));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            for (CompletableFuture<AddPartitionsToTxnResult> r : results) {
                response.resultsByTransaction().add(r.join());
            }
            return response;
        });
    }

    /**
     * Kafka's answer when the producer may not write its transactional id (every partition
     * TRANSACTIONAL_ID_AUTHORIZATION_FAILED) or some topic (those TOPIC_AUTHORIZATION_FAILED, the others
     * OPERATION_NOT_ATTEMPTED); null when everything is allowed.
     */
    private static Map<TopicPartition, Errors> refusedPartitions(KafkaRequest request, String transactionalId,
                                                                 List<TopicPartition> partitions) {
        if (!request.authorizerEnabled()) {
            return null;
        }
        Map<TopicPartition, Errors> errors = new java.util.HashMap<>();
        if (!request.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
            partitions.forEach(tp -> errors.put(tp, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
            return errors;
        }
        boolean anyRefused = false;
        Map<String, Boolean> writable = new java.util.HashMap<>();
        for (TopicPartition tp : partitions) {
            boolean ok = writable.computeIfAbsent(tp.topic(),
                    t -> request.authorize(AclOperation.WRITE, ResourceType.TOPIC, t));
            errors.put(tp, ok ? Errors.OPERATION_NOT_ATTEMPTED : Errors.TOPIC_AUTHORIZATION_FAILED);
            anyRefused |= !ok;
        }
        return anyRefused ? errors : null;
    }

    private static Map<TopicPartition, Errors> fenced(Map<TopicPartition, Errors> errors, short version) {
        errors.replaceAll((tp, e) -> fencedError(e, version, 2));
        return errors;
    }

    private CompletionStage<AddOffsetsToTxnResponseData> addOffsetsToTxn(KafkaRequest request) {
        AddOffsetsToTxnRequestData data = request.body();
        Errors refused = !request.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())
                ? Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                : !request.authorize(AclOperation.READ, ResourceType.GROUP, data.groupId())
                ? Errors.GROUP_AUTHORIZATION_FAILED : Errors.NONE;
        if (refused != Errors.NONE) {
            return CompletableFuture.completedFuture(new AddOffsetsToTxnResponseData().setErrorCode(refused.code()));
        }
        return coordinator.addOffsets(data.transactionalId(), data.producerId(), data.producerEpoch(), data.groupId())
                .thenApply(error -> new AddOffsetsToTxnResponseData()
                        .setErrorCode(fencedError(error, request.apiVersion(), 2).code()));
    }

    private CompletionStage<EndTxnResponseData> endTxn(KafkaRequest request) {
        EndTxnRequestData data = request.body();
        short version = request.apiVersion();
        if (!request.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
            return CompletableFuture.completedFuture(new EndTxnResponseData()
                    .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()).setProducerId(-1)
                    .setProducerEpoch((short) -1));
        }
        return coordinator.endTransaction(data.transactionalId(), data.producerId(), data.producerEpoch(), data.committed(),
                        (short) (version >= 5 ? 2 : 0))
                .thenApply(result -> new EndTxnResponseData()
                        .setErrorCode(fencedError(result.error(), version, 2).code())
                        .setProducerId(result.producerId()).setProducerEpoch(result.producerEpoch()));
    }

    private CompletionStage<DescribeTransactionsResponseData> describeTransactions(KafkaRequest request) {
        DescribeTransactionsRequestData data = request.body();
        DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
        for (String id : data.transactionalIds()) {
            response.transactionStates().add(request.authorize(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)
                    ? coordinator.describe(id)
                    : new DescribeTransactionsResponseData.TransactionState().setTransactionalId(id)
                    .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        return CompletableFuture.completedFuture(response);
    }

    private CompletionStage<ListTransactionsResponseData> listTransactions(KafkaRequest request) {
        ListTransactionsRequestData data = request.body();
        short version = request.apiVersion();
        ListTransactionsResponseData response = coordinator.list(data.stateFilters(), data.producerIdFilters(),
                version >= 1 ? data.durationFilter() : -1, version >= 2 ? data.transactionalIdPattern() : null);
        // only the transactional ids the client may describe
        if (request.authorizerEnabled()) {
            response.transactionStates().removeIf(t -> !request.authorize(AclOperation.DESCRIBE,
                    ResourceType.TRANSACTIONAL_ID, t.transactionalId()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
