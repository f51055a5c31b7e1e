package io.gregor.broker.quota;

import io.gregor.wire.KafkaRequest;
import io.gregor.wire.RequestThrottler;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Client quotas on the request path, as Kafka applies them: a produce request's size counts against
 * {@code producer_byte_rate}; a consumer's fetch answer's size against {@code consumer_byte_rate} (the fetch
 * asks for no more than the quota allows in one quota window, and a throttled fetch is answered empty, its
 * bytes taken back, for the client to fetch them again later); the time a request spends on a request thread
 * against {@code request_percentage} (its throttle time at most one quota window). The longest throttle time
 * is set in the answer's throttle_time_ms. Follower fetches and inter-broker requests are exempt. One rate
 * update per quota per request; nothing at all while no quota is set.
 */
public final class QuotaEnforcer implements RequestThrottler {
    private static final Logger log = LoggerFactory.getLogger(QuotaEnforcer.class);
    /** A request thread's nanoseconds as percent-seconds: a rate of 100 is one thread kept busy. */
    private static final double NANOS_TO_PERCENT = 100.0 / 1_000_000_000.0;
    /** setThrottleTimeMs(int) of each generated response class, where it has one. */
    private static final ClassValue<MethodHandle> THROTTLE_SETTER = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                return MethodHandles.publicLookup().findVirtual(type, "setThrottleTimeMs",
                        MethodType.methodType(type, int.class));
            } catch (ReflectiveOperationException e) {
                return null;
            }
        }
    };

    private final ClientQuotas quotas;
    private final Time time;

    public QuotaEnforcer(ClientQuotas quotas, Time time) {
        this.quotas = quotas;
        this.time = time;
    }

    @Override
    public boolean isActive() {
        return quotas.active();
    }

    @Override
    public void beforeHandling(KafkaRequest request) {
        if (request.apiKey() != ApiKeys.FETCH || !quotas.active(QuotaType.FETCH) || follower(request)) {
            return;
        }
        ClientQuotas.Limit limit = limits(request)[QuotaType.FETCH.ordinal()];
        if (limit == null) {
            return;
        }
        // more than the quota allows over the whole window would be throttled however idle the client was
        double windowBytes = limit.bound() * (quotas.samples() - 1) * quotas.windowMs() / 1000.0;
        FetchRequestData data = request.body();
        int maxBytes = (int) Math.max(1, Math.min(data.maxBytes(), windowBytes));
        data.setMaxBytes(maxBytes).setMinBytes(Math.min(data.minBytes(), maxBytes));
    }

    @Override
    public Throttle onAnswer(KafkaRequest request, ApiMessage response, long handlerNanos) {
        ApiKeys api = request.apiKey();
        if (api.clusterAction) {
            return null; // broker-to-broker traffic
        }
        boolean follower = api == ApiKeys.FETCH && follower(request);
        if (follower) {
            return null;
        }
        QuotaType byteRate = api == ApiKeys.PRODUCE ? QuotaType.PRODUCE : api == ApiKeys.FETCH ? QuotaType.FETCH : null;
        ClientQuotas.Limit[] limits = quotas.limitsFor(byteRate, request.connection().principal().getName(),
                request.clientId());
        if (limits == null) {
            return null; // e.g. only producer quotas set: a fetch has nothing to count
        }
        long now = time.milliseconds();
        long bandwidthMs = 0;
        double fetchedBytes = 0;
        ClientQuotas.Limit produce = limits[QuotaType.PRODUCE.ordinal()];
        ClientQuotas.Limit fetch = limits[QuotaType.FETCH.ordinal()];
        if (api == ApiKeys.PRODUCE && produce != null) {
            bandwidthMs = record(produce, request.sizeInBytes(), now, Long.MAX_VALUE);
        } else if (api == ApiKeys.FETCH && fetch != null && response != null) {
            fetchedBytes = response.size(new ObjectSerializationCache(), request.apiVersion());
            bandwidthMs = record(fetch, fetchedBytes, now, Long.MAX_VALUE);
        }
        ClientQuotas.Limit requestTime = limits[QuotaType.REQUEST.ordinal()];
        long requestMs = requestTime == null ? 0
                : record(requestTime, handlerNanos * NANOS_TO_PERCENT, now, quotas.windowMs());
        long throttleMs = Math.max(bandwidthMs, requestMs);
        if (throttleMs <= 0) {
            return null;
        }
        if (fetchedBytes > 0 && response instanceof FetchResponseData fetched) {
            // Kafka's way: a throttled consumer gets no records now, and they do not count
            fetch.rate().record(-fetchedBytes, now);
            fetched.responses().clear();
            fetched.nodeEndpoints().clear();
        }
        if (response != null) {
            setThrottleTime(response, (int) Math.min(Integer.MAX_VALUE, throttleMs));
        }
        if (log.isDebugEnabled()) {
            log.debug("Throttling {} (client id {}) for {} ms after a {} request ({} quota)",
                    request.connection().principal(), request.clientId(), throttleMs, api,
                    bandwidthMs >= requestMs ? (api == ApiKeys.PRODUCE ? "producer_byte_rate" : "consumer_byte_rate")
                            : "request_percentage");
        }
        return new Throttle(throttleMs, !clientThrottles(api, request.apiVersion()));
    }

    private ClientQuotas.Limit[] limits(KafkaRequest request) {
        return quotas.limits(request.connection().principal().getName(), request.clientId());
    }

    /**
     * Records {@code value} and returns how long the client must wait for its rate to come back to the
     * bound (Kafka's (O - T) / T * W over the rate's window), at most {@code maxMs}; 0 within the quota.
     */
    private static long record(ClientQuotas.Limit limit, double value, long nowMs, long maxMs) {
        SampledRate rate = limit.rate();
        double observed = rate.record(value, nowMs);
        if (observed <= limit.bound()) {
            return 0;
        }
        long throttle = Math.round((observed - limit.bound()) / limit.bound() * rate.windowSizeMs(nowMs));
        return Math.min(throttle, maxMs);
    }

    private static boolean follower(KafkaRequest request) {
        FetchRequestData data = request.body();
        int replicaId = request.apiVersion() >= 15 ? data.replicaState().replicaId() : data.replicaId();
        return replicaId >= 0;
    }

    /**
     * Whether the client throttles itself on this answer's throttle time (KIP-219, Kafka 2.0): Produce v6+ and
     * Fetch v8+, the versions the byte-rate quotas meet. Other APIs (only the request quota throttles them) are
     * taken as throttling themselves, as every client since Kafka 2.0 does; their older versions are not told apart.
     */
    private static boolean clientThrottles(ApiKeys api, short version) {
        return switch (api) {
            case PRODUCE -> version >= 6;
            case FETCH -> version >= 8;
            default -> true;
        };
    }

    private static void setThrottleTime(ApiMessage response, int millis) {
        MethodHandle setter = THROTTLE_SETTER.get(response.getClass());
        if (setter == null) {
            return;
        }
        try {
            setter.invoke(response, millis);
        } catch (Throwable e) {
            log.warn("Cannot set the throttle time of a {}: {}", response.getClass().getSimpleName(), e.toString());
        }
    }
}
