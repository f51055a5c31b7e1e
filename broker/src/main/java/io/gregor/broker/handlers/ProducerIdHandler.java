package io.gregor.broker.handlers;

import io.gregor.broker.metadata.MetadataStore;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * InitProducerId for idempotent producers: every call gets a producer id never used before, even
 * across restarts, with epoch 0. Ids are reserved from the metadata store in blocks so that a
 * restart skips the unused rest of a block rather than reusing it.
 */
public final class ProducerIdHandler {
    private static final int BLOCK_SIZE = 1000;

    private final MetadataStore store;
    private long next;
    private long blockEnd;

    public ProducerIdHandler(MetadataStore store) {
        this.store = store;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.INIT_PRODUCER_ID, (short) 0, Short.MAX_VALUE, this::initProducerId);
    }

    private CompletionStage<InitProducerIdResponseData> initProducerId(KafkaRequest request) {
        InitProducerIdRequestData data = request.body();
        InitProducerIdResponseData response = new InitProducerIdResponseData().setProducerId(-1).setProducerEpoch((short) -1);
        if (data.transactionalId() != null) {
            // No transaction coordinator yet: answer as Kafka does while its coordinator is not available.
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
        }
        return CompletableFuture.completedFuture(response.setProducerId(nextProducerId()).setProducerEpoch((short) 0));
    }

    private synchronized long nextProducerId() {
        if (next >= blockEnd) {
            next = store.allocateProducerIds(BLOCK_SIZE);
            blockEnd = next + BLOCK_SIZE;
        }
        return next++;
    }
}
