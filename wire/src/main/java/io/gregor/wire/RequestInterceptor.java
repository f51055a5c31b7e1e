package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;

/**
 * A step between decoding and the handler, and between the handler and the ordered response writer:
 * fault injection, the wire trace, later authentication and authorization. Interceptors run in the
 * order given to the {@link KafkaServer}; the first one that does not proceed decides for the request.
 */
public interface RequestInterceptor {
    /**
     * Whether this interceptor wants to see requests now. Read for every request: keep it a field read.
     * While no interceptor is active, requests take the plain path and allocate nothing for interception.
     */
    boolean isActive();

    /** On a request thread, in the connection's request order, before the handler. */
    default RequestAction onRequest(RequestContext context) {
        return RequestAction.proceed();
    }

    /**
     * On the connection's event loop once the answer is ready (from the handler or an earlier interceptor),
     * in completion order. Not called when the request is answered by a disconnect or not at all (acks=0).
     */
    default ResponseAction onResponse(RequestContext context, ApiMessage response) {
        return ResponseAction.send();
    }

    /**
     * On the connection's event loop, in the order answers go out: {@code response} is what the client
     * receives (null when nothing is sent), {@code disconnected} whether the connection is closed instead.
     */
    default void onAnswered(RequestContext context, ApiMessage response, boolean disconnected) {
    }
}
