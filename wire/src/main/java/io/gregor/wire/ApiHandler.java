package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;

import java.util.concurrent.CompletionStage;

/**
 * Serves one or more Kafka APIs. Called on a request thread, one request of a connection at a time
 * and in arrival order, so side effects happen in request order; the answer may complete later on any
 * thread (long-poll fetch, acks=all). A stage completing with {@code null} sends no response
 * (produce with acks=0). An exceptional stage is answered with the request's error response.
 */
@FunctionalInterface
public interface ApiHandler {
    CompletionStage<? extends ApiMessage> handle(KafkaRequest request);
}
