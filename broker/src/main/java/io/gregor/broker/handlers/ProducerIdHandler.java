package io.gregor.broker.handlers;

import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.coordinator.txn.TransactionCoordinator;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * InitProducerId: an idempotent producer gets a producer id never used before with epoch 0; a
 * transactional one is served by the {@link TransactionCoordinator} (its id, epoch bumped per call).
 */
public final class ProducerIdHandler {
    private final LongSupplier producerIds;
    private final TransactionCoordinator transactions;

    public ProducerIdHandler(LongSupplier producerIds, TransactionCoordinator transactions) {
        this.producerIds = producerIds;
        this.transactions = transactions;
    }

    public void register(ApiRegistry registry) {
        // v6 adds KIP-939's two-phase commit flags, which this coordinator does not offer
        registry.register(ApiKeys.INIT_PRODUCER_ID, (short) 0, (short) 5, this::initProducerId);
    }

    private CompletionStage<InitProducerIdResponseData> initProducerId(KafkaRequest request) {
        InitProducerIdRequestData data = request.body();
        InitProducerIdResponseData response = new InitProducerIdResponseData().setProducerId(-1).setProducerEpoch((short) -1);
        if (data.transactionalId() == null) {
            // an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679)
            if (!request.authorizeCluster(AclOperation.IDEMPOTENT_WRITE)
                    && !request.authorizeAny(AclOperation.WRITE, ResourceType.TOPIC)) {
                return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
            }
            return CompletableFuture.completedFuture(response.setProducerId(producerIds.getAsLong()).setProducerEpoch((short) 0));
        }
        if (!request.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
            return CompletableFuture.completedFuture(
                    response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        short version = request.apiVersion();
        return transactions.initProducerId(data.transactionalId(), data.transactionTimeoutMs(),
                version >= 3 ? data.producerId() : -1, version >= 3 ? data.producerEpoch() : (short) -1)
                .thenApply(result -> response.setErrorCode(TransactionHandler.fencedError(result.error(), version, 4).code())
                        .setProducerId(result.producerId()).setProducerEpoch(result.producerEpoch()));
    }
}
