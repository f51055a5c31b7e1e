package io.gregor.broker.telemetry;

import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.GetTelemetrySubscriptionsRequestData;
import org.apache.kafka.common.message.GetTelemetrySubscriptionsResponseData;
import org.apache.kafka.common.message.PushTelemetryResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Client telemetry (KIP-714) as a Kafka broker answers it when no client-metrics subscription matches the client:
 * GetTelemetrySubscriptions hands out a client instance id and asks for no metrics, so a 4.x client pushes
 * nothing and asks again only after the push interval; a PushTelemetry all the same names a subscription this
 * broker does not have. Nothing is kept per client.
 */
public final class ClientTelemetryHandler {
    /** Kafka's ClientMetricsConfigs.INTERVAL_MS_DEFAULT: a client without a subscription asks again after this. */
    static final int DEFAULT_PUSH_INTERVAL_MS = 300_000;
    /** Kafka's telemetry.max.bytes default. */
    static final int TELEMETRY_MAX_BYTES = 1024 * 1024;
    /** What Kafka's ClientMetricsManager accepts, preferred first. */
    private static final List<Byte> ACCEPTED_COMPRESSION_TYPES = List.of((byte) CompressionType.ZSTD.id,
            (byte) CompressionType.LZ4.id, (byte) CompressionType.GZIP.id, (byte) CompressionType.SNAPPY.id);
    /** The subscription of "no metrics"; a push naming any subscription finds none. */
    private static final int NO_SUBSCRIPTION_ID = 0;

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.GET_TELEMETRY_SUBSCRIPTIONS, (short) 0, Short.MAX_VALUE,
                request -> CompletableFuture.completedFuture(subscriptions(request)));
        registry.register(ApiKeys.PUSH_TELEMETRY, (short) 0, Short.MAX_VALUE,
                request -> CompletableFuture.completedFuture(new PushTelemetryResponseData()
                        .setErrorCode(Errors.UNKNOWN_SUBSCRIPTION_ID.code())));
    }

    private static GetTelemetrySubscriptionsResponseData subscriptions(KafkaRequest request) {
        GetTelemetrySubscriptionsRequestData data = request.body();
        Uuid clientInstanceId = Uuid.ZERO_UUID.equals(data.clientInstanceId()) ? Uuid.randomUuid() : data.clientInstanceId();
        return new GetTelemetrySubscriptionsResponseData().setErrorCode(Errors.NONE.code())
                .setClientInstanceId(clientInstanceId).setSubscriptionId(NO_SUBSCRIPTION_ID)
                .setAcceptedCompressionTypes(ACCEPTED_COMPRESSION_TYPES).setPushIntervalMs(DEFAULT_PUSH_INTERVAL_MS)
                .setTelemetryMaxBytes(TELEMETRY_MAX_BYTES).setDeltaTemporality(true).setRequestedMetrics(List.of());
    }
}
