package io.gregor.wire.security;

import io.gregor.wire.ApiRegistry;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * SaslHandshake and SaslAuthenticate as the request path sees them: on a SASL listener they are
 * consumed by {@link SaslServerHandler} before authentication, so what reaches here comes from a
 * connection that needs no (more) authentication, and Kafka answers it ILLEGAL_SASL_STATE.
 */
public final class SaslApis {
    private SaslApis() {
    }

    public static void register(ApiRegistry registry) {
        registry.register(ApiKeys.SASL_HANDSHAKE, (short) 0, Short.MAX_VALUE, request -> CompletableFuture.completedFuture(
                new SaslHandshakeResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code()).setMechanisms(List.of())));
        registry.register(ApiKeys.SASL_AUTHENTICATE, (short) 0, Short.MAX_VALUE, request -> CompletableFuture.completedFuture(
                new SaslAuthenticateResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                        .setErrorMessage("SaslAuthenticate request received after successful authentication")));
    }
}
