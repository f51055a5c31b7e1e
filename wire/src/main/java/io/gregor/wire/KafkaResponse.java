package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * A response body on its way out, with the header of the request it answers and the version to encode
 * it at: the request's, but for an ApiVersions request too new to parse, which is answered at v0.
 */
public record KafkaResponse(RequestHeader requestHeader, short version, ApiMessage body) {
}
