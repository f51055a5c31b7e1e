package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * One request as interceptors see it: the decoded request and who sent it. Created only when an
 * interceptor is active, so the plain path allocates nothing for it. Interceptors may keep state
 * between {@link RequestInterceptor#onRequest} and {@link RequestInterceptor#onResponse} in its attributes.
 */
public final class RequestContext {
    /** Kafka's anonymous user: PLAINTEXT connections, and SSL ones without a client certificate. */
    public static final String ANONYMOUS = KafkaPrincipal.ANONYMOUS.toString();

    private final KafkaRequest request;
    private Map<Object, Object> attributes;
    private volatile boolean injected;

    RequestContext(KafkaRequest request) {
        this.request = request;
    }

    public KafkaRequest request() {
        return request;
    }

    public ApiKeys apiKey() {
        return request.apiKey();
    }

    public short apiVersion() {
        return request.apiVersion();
    }

    public int correlationId() {
        return request.header().correlationId();
    }

    /** The client.id of the request header; null when the client sent none. */
    public String clientId() {
        return request.clientId();
    }

    public String listenerName() {
        return request.connection().listenerName();
    }

    public InetSocketAddress clientAddress() {
        return request.connection().clientAddress();
    }

    public String connectionId() {
        return request.connection().id();
    }

    /** The authenticated principal as Kafka prints it, e.g. {@code User:alice}. */
    public String principal() {
        return request.connection().principal().toString();
    }

    public KafkaPrincipal kafkaPrincipal() {
        return request.connection().principal();
    }

    public SecurityProtocol securityProtocol() {
        return request.connection().securityProtocol();
    }

    /** The broker clock's nanoseconds when the request's frame was decoded. */
    public long receivedNanos() {
        return request.receivedNanos();
    }

    /** Marks the answer as shaped by a fault injected on purpose (the trace shows it). */
    public void markInjected() {
        injected = true;
    }

    public boolean injected() {
        return injected;
    }

    // onRequest runs on a request thread and onResponse on the event loop, one after the other:
    // the future hand-over between them publishes the attributes.
    public synchronized void setAttribute(Object key, Object value) {
        if (attributes == null) {
            attributes = new HashMap<>(4);
        }
        attributes.put(key, value);
    }

    public synchronized Object attribute(Object key) {
        return attributes == null ? null : attributes.get(key);
    }
}
