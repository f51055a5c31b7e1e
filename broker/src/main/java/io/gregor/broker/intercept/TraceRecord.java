package io.gregor.broker.intercept;

import java.util.Set;

/**
 * One answer as the client received it, for tests and people reading the trace.
 *
 * @param errorCodes every error code in the answer other than 0 (NONE)
 * @param request    the request's key fields: topics, partitions, offsets, group, member
 * @param response   the answer's error codes by entry, with the entries' key fields
 * @param injected   whether an injected fault shaped the answer (an error, a delay or the disconnect)
 * @param listener   the listener the request arrived on
 * @param principal  who the connection authenticated as, as Kafka prints it (User:ANONYMOUS without authentication)
 * @param requestBytes the request's size on the wire, header and body (what Kafka's RequestBytes histogram counts)
 */
public record TraceRecord(long timestampMs, int brokerId, String clientId, short apiKey, short apiVersion,
                          int correlationId, Set<Short> errorCodes, long latencyNanos, String request,
                          String response, boolean disconnected, boolean injected,
                          String listener, String principal, int requestBytes) {
}
