package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Client quotas as a connection applies them (KIP-219): before a request's handler runs it may adjust the
 * request (a fetch's size to what the client's quota allows); once the answer is ready it records what the
 * request used and says how long the client is throttled. The answer then carries that throttle time and
 * goes out at once, and the connection reads nothing more from the client until the time has passed; an
 * answer of a version older than client-side throttling is held back for the time instead, as Kafka does.
 */
public interface RequestThrottler {
    RequestThrottler NONE = new RequestThrottler() {
        @Override
        public boolean isActive() {
            return false;
        }

        @Override
        public void beforeHandling(KafkaRequest request) {
        }

        @Override
        public Throttle onAnswer(KafkaRequest request, ApiMessage response, long handlerNanos) {
            return null;
        }
    };

    /** Whether any quota is in force. Read for every request: keep it a field read. */
    boolean isActive();

    /** On a request thread, in the connection's request order, before the handler. */
    void beforeHandling(KafkaRequest request);

    /**
     * On the connection's event loop once the answer is ready, before it is written (in completion order).
     * May set the answer's throttle_time_ms or empty it (a throttled fetch is answered without records).
     *
     * @param response     the answer, null when none is sent (a produce with acks=0)
     * @param handlerNanos time the request spent on a request thread
     * @return null when the client is not throttled
     */
    Throttle onAnswer(KafkaRequest request, ApiMessage response, long handlerNanos);

    /**
     * @param millis        how long the client is throttled
     * @param beforeSending true when the answer's version predates client-side throttling (KIP-219): the answer
     *                      is held back for the time; false: sent at once, and the connection muted afterwards
     */
    record Throttle(long millis, boolean beforeSending) {
    }
}
