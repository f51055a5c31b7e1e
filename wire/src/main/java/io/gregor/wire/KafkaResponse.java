package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;

/** A response body on its way out, with the header of the request it answers. */
record KafkaResponse(RequestHeader requestHeader, ApiMessage body) {
}
