package io.gregor.compat;

import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** ApiVersions negotiation (KIP-511): a client newer than the broker still learns what the broker speaks. */
class ApiVersionsTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final short TOO_NEW = 999;

    @Test
    void unknownVersionGetsV0ResponseWithUnsupportedVersionAndApiVersionsRange() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(10))) {
            // What a future client sends: a flexible (v2) header and a v3-shaped body.
            RequestHeaderData header = new RequestHeaderData().setRequestApiKey(ApiKeys.API_VERSIONS.id)
                    .setRequestApiVersion(TOO_NEW).setCorrelationId(42).setClientId("future-client");
            ApiVersionsRequestData body = new ApiVersionsRequestData()
                    .setClientSoftwareName("future-client").setClientSoftwareVersion("99.0");
            raw.writeFrame(RawKafkaConnection.serialize(header, (short) 2, body, (short) 3));

            // The answer is always a v0 response with a v0 header, whatever version was asked for.
            RawKafkaConnection.Response response = raw.receive((short) 0);
            assertThat(response.correlationId()).isEqualTo(42);
            ApiVersionsResponseData data = new ApiVersionsResponseData(new ByteBufferAccessor(response.body()), (short) 0);
            assertThat(Errors.forCode(data.errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
            assertThat(data.errorCode()).isEqualTo((short) 35);
            // Kafka lists only ApiVersions' own range here: enough for the client to retry at a version both speak.
            ApiVersionsResponseData.ApiVersion apiVersions = data.apiKeys().find(ApiKeys.API_VERSIONS.id);
            assertThat(apiVersions).as("ApiVersions itself is listed: %s", data).isNotNull();
            assertThat(apiVersions.minVersion()).isZero();
            assertThat(apiVersions.maxVersion()).isGreaterThanOrEqualTo((short) 3);
            assertThat(response.body().remaining()).as("nothing after the v0 body").isZero();
        }
    }

    @Test
    void currentVersionSucceedsAndCoversWhatKafkaClients44Need() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(10))) {
            ApiVersionsResponseData data = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"),
                    ApiVersionsResponseData::new);
            assertThat(Errors.forCode(data.errorCode())).isEqualTo(Errors.NONE);
            // Ranges must overlap the client's, or the stock client refuses to talk.
            for (ApiKeys key : new ApiKeys[]{ApiKeys.PRODUCE, ApiKeys.FETCH, ApiKeys.METADATA, ApiKeys.LIST_OFFSETS,
                    ApiKeys.API_VERSIONS, ApiKeys.CREATE_TOPICS, ApiKeys.INIT_PRODUCER_ID}) {
                ApiVersionsResponseData.ApiVersion v = data.apiKeys().find(key.id);
                assertThat(v).as("%s advertised", key).isNotNull();
                assertThat(v.maxVersion()).as("%s max", key).isGreaterThanOrEqualTo(key.oldestVersion());
                assertThat(v.minVersion()).as("%s min", key).isLessThanOrEqualTo(key.latestVersion());
            }
            // librdkafka-based clients (kcat) need Produce v0 advertised even though Java clients start at v3.
            assertThat(data.apiKeys().find(ApiKeys.PRODUCE.id).minVersion()).isZero();
        }
    }
}
