package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;

/**
 * What an interceptor decides for a request before its handler runs: let it through, answer it
 * without the handler, close the connection instead of answering, or let it through with its answer
 * held back for a while.
 */
public final class RequestAction {
    public enum Kind { PROCEED, ANSWER, DISCONNECT, DELAY }

    private static final RequestAction PROCEED = new RequestAction(Kind.PROCEED, null, 0);
    private static final RequestAction DISCONNECT = new RequestAction(Kind.DISCONNECT, null, 0);

    private final Kind kind;
    private final ApiMessage response;
    private final long delayMillis;

    private RequestAction(Kind kind, ApiMessage response, long delayMillis) {
        this.kind = kind;
        this.response = response;
        this.delayMillis = delayMillis;
    }

    public static RequestAction proceed() {
        return PROCEED;
    }

    /** The handler is not called; {@code response} is the answer (it must be of the request's API). */
    public static RequestAction answer(ApiMessage response) {
        if (response == null) {
            throw new IllegalArgumentException("an answer needs a response");
        }
        return new RequestAction(Kind.ANSWER, response, 0);
    }

    /** The handler is not called and the connection is closed when this request's turn to be answered comes. */
    public static RequestAction disconnect() {
        return DISCONNECT;
    }

    /**
     * The request is handled now (its side effects stay in request order) and its answer goes out
     * {@code millis} later; later answers of the connection wait behind it, as behind a slow broker.
     */
    public static RequestAction delay(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("delay must not be negative: " + millis);
        }
        return new RequestAction(Kind.DELAY, null, millis);
    }

    public Kind kind() {
        return kind;
    }

    public ApiMessage response() {
        return response;
    }

    public long delayMillis() {
        return delayMillis;
    }
}
