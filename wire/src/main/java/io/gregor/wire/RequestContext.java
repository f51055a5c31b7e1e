package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiKeys;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * One request as interceptors see it: the decoded request and who sent it. Created only when an
 * interceptor is active, so the plain path allocates nothing for it. Interceptors may keep state
 * between {@link RequestInterceptor#onRequest} and {@link RequestInterceptor#onResponse} in its attributes.
 */
public final class RequestContext {
    /** Until authentication exists every connection acts as Kafka's anonymous user. */
    public static final String ANONYMOUS = "User:ANONYMOUS";

    private final KafkaRequest request;
    private final String principal;
    private Map<Object, Object> attributes;
    private volatile boolean injected;

    RequestContext(KafkaRequest request, String principal) {
        this.request = request;
        this.principal = principal;
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

    public String principal() {
        return principal;
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
