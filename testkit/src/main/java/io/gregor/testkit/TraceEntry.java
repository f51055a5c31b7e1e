package io.gregor.testkit;

import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * One request and its answer as the client received it (injected faults included), from a {@link WireTrace}.
 *
 * @param errors       every error in the answer other than NONE
 * @param latency      from the request's arrival to its answer leaving
 * @param request      the request's key fields (topics, partitions, offsets, group, member), as a person reads them
 * @param response     the answer's error codes by entry, with the entries' key fields
 * @param disconnected the connection was closed instead of answering
 * @param injected     an injected fault shaped the answer
 * @param text         the whole entry as {@link WireTrace#dump()} prints it
 */
public record TraceEntry(Instant timestamp, int brokerId, String clientId, ApiKeys apiKey, short apiVersion,
                         int correlationId, Set<Errors> errors, Duration latency, String request, String response,
                         boolean disconnected, boolean injected, String text) {

    @Override
    public String toString() {
        return text;
    }
}
