package io.gregor.wire.security;

import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SaslAuthenticationContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLSession;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A SASL connection's authenticated session (KIP-368): with {@code connections.max.reauth.ms} set it expires
 * that long after each login, the client having been told the lifetime in SaslAuthenticate (v1+). A
 * SaslHandshake on the authenticated connection then begins a re-authentication with the same mechanism,
 * which must end with the same principal; the requests of the exchange are answered in order with the
 * connection's other requests, which clients expect. A connection whose session expired is closed at its
 * next request. Used by one connection's requests one at a time (handed between the event loop and request
 * threads in order), hence volatile state and no locks.
 */
public final class SaslSession {
    private static final Logger log = LoggerFactory.getLogger(SaslSession.class);
    /** Kafka lets a connection begin re-authenticating at most once a second. */
    private static final long MIN_REAUTH_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ListenerSecurity security;
    private final String mechanism;
    private final KafkaPrincipal principal;
    private final InetAddress clientAddress;
    private final Optional<SSLSession> sslSession;
    /** 0: the session does not expire. */
    private volatile long expiresAtNanos;
    private volatile long reauthStartNanos;
    private volatile boolean reauthenticating;
    private volatile boolean handshakeDone;
    private volatile boolean failed;
    private SaslServer server;

    SaslSession(ListenerSecurity security, String mechanism, KafkaPrincipal principal, InetAddress clientAddress,
                Optional<SSLSession> sslSession) {
        this.security = security;
        this.mechanism = mechanism;
        this.principal = principal;
        this.clientAddress = clientAddress;
        this.sslSession = sslSession;
    }

    public KafkaPrincipal principal() {
        return principal;
    }

    /**
     * Starts the session's lifetime at a completed login and returns what the client is told (0: no expiry),
     * {@code connections.max.reauth.ms} for the mechanism.
     */
    long started(long nowNanos) {
        long lifetimeMs = security.connectionsMaxReauthMs(mechanism);
        expiresAtNanos = lifetimeMs > 0 ? Math.max(1, nowNanos + TimeUnit.MILLISECONDS.toNanos(lifetimeMs)) : 0;
        return Math.max(lifetimeMs, 0);
    }

    public boolean expired(long nowNanos) {
        long expires = expiresAtNanos;
        return expires != 0 && nowNanos - expires > 0;
    }

    /** Counts a connection closed because its session expired (a metric, as Kafka's expired-connections-killed-count). */
    public void closedExpired() {
        security.reauthStats().expiredConnectionsKilled.increment();
        log.debug("Closing a connection of {} on listener {}: its SASL session expired without re-authentication",
                principal, security.listenerName());
    }

    public boolean reauthenticating() {
        return reauthenticating;
    }

    /**
     * Whether a SaslHandshake arriving at {@code nowNanos} begins a re-authentication: only where sessions expire,
     * and at most once a second (else it is answered as an ordinary request: ILLEGAL_SASL_STATE).
     */
    public boolean beginReauthentication(long nowNanos) {
        if (expiresAtNanos == 0) {
            return false;
        }
        long last = reauthStartNanos;
        if (last != 0 && nowNanos - last < MIN_REAUTH_INTERVAL_NANOS) {
            return false;
        }
        reauthStartNanos = nowNanos;
        handshakeDone = false;
        failed = false;
        reauthenticating = true;
        return true;
    }

    /** Whether the last answer of the exchange failed it: the connection closes once that answer is sent. */
    public boolean failed() {
        return failed;
    }

    /**
     * One request of a re-authentication (on a request thread, in the connection's order): the SaslHandshake,
     * then SaslAuthenticate requests until the mechanism completes. Anything else fails it.
     */
    public ApiMessage handle(ApiKeys api, ApiMessage request, short version, long nowNanos) {
        try {
            if (api == ApiKeys.SASL_HANDSHAKE && !handshakeDone) {
                return handshake((SaslHandshakeRequestData) request);
            }
            if (api == ApiKeys.SASL_AUTHENTICATE && handshakeDone) {
                return authenticate((SaslAuthenticateRequestData) request, version, nowNanos);
            }
            throw new IllegalSaslStateException("Unexpected Kafka request of type " + api + " during SASL re-authentication.");
        } catch (RuntimeException e) {
            end(false);
            throw e;
        }
    }

    private SaslHandshakeResponseData handshake(SaslHandshakeRequestData request) {
        SaslHandshakeResponseData response = new SaslHandshakeResponseData().setMechanisms(security.enabledMechanisms());
        if (!request.mechanism().equals(mechanism)) {
            end(false);
            log.info("Failed re-authentication of {} on listener {} (SASL mechanism '{}' requested by client is not "
                    + "supported for re-authentication of mechanism '{}')", principal, security.listenerName(),
                    request.mechanism(), mechanism);
            return response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code());
        }
        try {
            server = security.newSaslServer(mechanism);
        } catch (SaslException e) {
            server = null;
        }
        if (server == null) {
            end(false);
            return response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code());
        }
        handshakeDone = true;
        return response.setErrorCode(Errors.NONE.code());
    }

    private SaslAuthenticateResponseData authenticate(SaslAuthenticateRequestData request, short version, long nowNanos) {
        byte[] challenge;
        try {
            challenge = server.evaluateResponse(request.authBytes());
            if (server.isComplete()) {
                KafkaPrincipal again = security.principal(new SaslAuthenticationContext(server, security.protocol(),
                        clientAddress, security.listenerName(), sslSession));
                if (!principal.equals(again)) {
                    throw new SaslAuthenticationException(String.format(
                            "Cannot change principals during re-authentication from %s.%s: %s.%s",
                            principal.getPrincipalType(), principal.getName(), again.getPrincipalType(), again.getName()));
                }
            }
        } catch (SaslAuthenticationException e) {
            return failedAuthentication(e.getMessage(), e.getMessage());
        } catch (SaslException | RuntimeException e) {
            String message = "Authentication failed during re-authentication due to invalid credentials with SASL mechanism "
                    + mechanism;
            return failedAuthentication(message, message + ": " + e.getMessage());
        }
        SaslAuthenticateResponseData response = new SaslAuthenticateResponseData().setErrorCode(Errors.NONE.code())
                .setAuthBytes(challenge == null ? new byte[0] : challenge);
        if (server.isComplete()) {
            long lifetimeMs = started(nowNanos);
            end(true);
            if (version >= 1) {
                response.setSessionLifetimeMs(lifetimeMs);
            }
            ReauthStats stats = security.reauthStats();
            stats.successful.increment();
            stats.latencyNanos.add(nowNanos - reauthStartNanos);
            log.debug("{} re-authenticated with {} on listener {}; session lifetime {} ms", principal, mechanism,
                    security.listenerName(), lifetimeMs);
        }
        return response;
    }

    private SaslAuthenticateResponseData failedAuthentication(String clientMessage, String detail) {
        log.info("Failed re-authentication of {} on listener {} ({})", principal, security.listenerName(), detail);
        end(false);
        return new SaslAuthenticateResponseData().setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                .setErrorMessage(clientMessage);
    }

    private void end(boolean succeeded) {
        if (!succeeded) {
            failed = true;
            security.reauthStats().failed.increment();
        }
        reauthenticating = false;
        if (server != null) {
            try {
                server.dispose();
            } catch (SaslException ignored) {
                // nothing held that matters
            }
            server = null;
        }
    }
}
