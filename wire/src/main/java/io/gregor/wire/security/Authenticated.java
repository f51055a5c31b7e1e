package io.gregor.wire.security;

import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Fired down a connection's pipeline once its TLS handshake or SASL exchange has established who the
 * client is; from then on every request of the connection carries {@code principal}. A SASL login also
 * hands over its {@link SaslSession}, which re-authenticates the connection and says when it expires.
 */
public record Authenticated(KafkaPrincipal principal, SaslSession session) {
    public Authenticated(KafkaPrincipal principal) {
        this(principal, null);
    }
}
