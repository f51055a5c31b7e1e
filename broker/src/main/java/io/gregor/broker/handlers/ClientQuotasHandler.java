package io.gregor.broker.handlers;

import io.gregor.wire.ApiRegistry;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeClientQuotas while Gregor has no client quotas: every entity has none, which is the true
 * answer. {@code kafka-configs --describe --entity-type users} asks for quotas next to the SCRAM
 * credentials and fails without it. AlterClientQuotas stays unregistered until quotas are enforced.
 */
public final class ClientQuotasHandler {
    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.DESCRIBE_CLIENT_QUOTAS, (short) 0, Short.MAX_VALUE, request ->
                CompletableFuture.completedFuture(new DescribeClientQuotasResponseData()
                        .setErrorCode(Errors.NONE.code()).setEntries(List.of())));
    }
}
