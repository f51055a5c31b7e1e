package io.gregor.broker.metrics;

import com.yammer.metrics.core.Histogram;
import com.yammer.metrics.core.Meter;
import io.gregor.wire.KafkaRequest;
import io.gregor.wire.RequestObserver;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.protocol.ApiKeys;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * kafka.network:type=RequestMetrics per request type (request=Produce, Fetch, FetchConsumer, FetchFollower, ...,
 * kafka-clients' ApiKeys names as Kafka uses them): RequestsPerSec per version, and the histograms of where a
 * request's time went, in ms, as Kafka's RequestChannel defines them. Recorded once per request on its
 * connection's event loop: one meter mark and seven histogram updates, no per-record work.
 */
public final class RequestMetrics implements RequestObserver {
    static final String DOMAIN = "kafka.network";
    static final String TYPE = "RequestMetrics";
    /** API ids and versions are small; beyond this they are looked up by name (never, as the registry validates them). */
    private static final int MAX_INDEXED = 256;
    private static final String FETCH_CONSUMER = ApiKeys.FETCH.name + "Consumer";
    private static final String FETCH_FOLLOWER = ApiKeys.FETCH.name + "Follower";

    private final BrokerMetrics metrics;
    /** By ApiKeys id; created on first use so unused APIs show no metrics. */
    private final AtomicReferenceArray<PerRequest> byApi = new AtomicReferenceArray<>(MAX_INDEXED);
    private final Map<String, PerRequest> byName = new ConcurrentHashMap<>();

    RequestMetrics(BrokerMetrics metrics) {
        this.metrics = metrics;
    }

    private final class PerRequest {
        final String name;
        final Histogram requestQueueTime;
        final Histogram localTime;
        final Histogram remoteTime;
        final Histogram responseQueueTime;
        final Histogram responseSendTime;
        final Histogram totalTime;
        final Histogram requestBytes;
        /** By request version. */
        final AtomicReferenceArray<Meter> requestRate = new AtomicReferenceArray<>(MAX_INDEXED);

        PerRequest(String name) {
            this.name = name;
            Map<String, String> tags = Map.of("request", name);
            requestQueueTime = metrics.histogram(DOMAIN, TYPE, "RequestQueueTimeMs", tags);
            localTime = metrics.histogram(DOMAIN, TYPE, "LocalTimeMs", tags);
            remoteTime = metrics.histogram(DOMAIN, TYPE, "RemoteTimeMs", tags);
            responseQueueTime = metrics.histogram(DOMAIN, TYPE, "ResponseQueueTimeMs", tags);
            responseSendTime = metrics.histogram(DOMAIN, TYPE, "ResponseSendTimeMs", tags);
            totalTime = metrics.histogram(DOMAIN, TYPE, "TotalTimeMs", tags);
            requestBytes = metrics.histogram(DOMAIN, TYPE, "RequestBytes", tags);
        }

        Meter rate(short version) {
            Meter m = version >= 0 && version < MAX_INDEXED ? requestRate.get(version) : null;
            if (m == null) {
                Map<String, String> tags = new LinkedHashMap<>();
                tags.put("request", name);
                tags.put("version", Short.toString(version));
                // the registry hands back the meter it has under this name, so a race makes no second one
                m = metrics.meter(DOMAIN, TYPE, "RequestsPerSec", "requests", tags);
                if (version >= 0 && version < MAX_INDEXED) {
                    requestRate.set(version, m);
                }
            }
            return m;
        }

        void record(short version, long received, long dequeued, long localDone, long answerReady, long sendStart,
                    long sent, int bytes) {
            rate(version).mark();
            requestQueueTime.update(ms(dequeued - received));
            localTime.update(ms(localDone - dequeued));
            remoteTime.update(ms(answerReady - localDone));
            // the answer waits behind the connection's earlier ones (and any injected delay) before it is sent
            responseQueueTime.update(ms(sendStart - answerReady));
            responseSendTime.update(ms(sent - sendStart));
            totalTime.update(ms(sent - received));
            requestBytes.update(bytes);
        }
    }

    private static long ms(long nanos) {
        return Math.round(Math.max(nanos, 0) / (double) TimeUnit.MILLISECONDS.toNanos(1));
    }

    private PerRequest forApi(ApiKeys api) {
        if (api.id >= MAX_INDEXED) {
            return named(api.name);
        }
        PerRequest p = byApi.get(api.id);
        if (p == null) {
            p = named(api.name);
            byApi.set(api.id, p);
        }
        return p;
    }

    private PerRequest named(String name) {
        PerRequest p = byName.get(name);
        return p != null ? p : byName.computeIfAbsent(name, PerRequest::new);
    }

    @Override
    public void requestCompleted(KafkaRequest request, long dequeuedNanos, long localDoneNanos, long answerReadyNanos,
                                 long sendStartNanos, long sentNanos) {
        ApiKeys api = request.apiKey();
        short version = request.apiVersion();
        long received = request.receivedNanos();
        int bytes = request.sizeInBytes();
        if (api == ApiKeys.FETCH && request.body() instanceof FetchRequestData fetch) {
            // as Kafka: a fetch counts as Fetch and as FetchConsumer or FetchFollower
            boolean follower = (version >= 15 ? fetch.replicaState().replicaId() : fetch.replicaId()) >= 0;
            named(follower ? FETCH_FOLLOWER : FETCH_CONSUMER).record(version, received, dequeuedNanos, localDoneNanos,
                    answerReadyNanos, sendStartNanos, sentNanos, bytes);
        }
        forApi(api).record(version, received, dequeuedNanos, localDoneNanos, answerReadyNanos, sendStartNanos,
                sentNanos, bytes);
    }
}
