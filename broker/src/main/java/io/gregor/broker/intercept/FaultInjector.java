package io.gregor.broker.intercept;

import io.gregor.wire.RequestAction;
import io.gregor.wire.RequestContext;
import io.gregor.wire.RequestInterceptor;
import io.gregor.wire.ResponseAction;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Faults injected on purpose into one broker's answers, for tests of client behaviour: requests failed
 * with an error instead of being handled, answers held back, connections closed instead of answered.
 * Each fault may be narrowed to one client id and one topic. Its public methods take only JDK types
 * and primitives (API keys and error codes as Kafka numbers), so a test harness in another class
 * loader can drive it.
 */
public final class FaultInjector {
    private static final Logger log = LoggerFactory.getLogger(FaultInjector.class);
    private static final Object TOPIC_SPLIT = new Object();
    private static final Object DELAY = new Object();

    private final int brokerId;
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final Interceptor interceptor = new Interceptor();
    private volatile Predicate<ApiKeys> served = api -> true;
    private volatile Function<String, Optional<Uuid>> topicIds = name -> Optional.empty();

    public FaultInjector(int brokerId) {
        this.brokerId = brokerId;
    }

    /** Tells the injector which APIs this broker serves and how topic names map to topic ids. */
    public void bind(Predicate<ApiKeys> servedApis, Function<String, Optional<Uuid>> topicIdsByName) {
        this.served = servedApis;
        this.topicIds = topicIdsByName;
    }

    /** The chain step that applies the faults; to be given to the broker's listeners. */
    public RequestInterceptor interceptor() {
        return interceptor;
    }

    /**
     * The next {@code times} requests of the API (matching the client id and topic when given) are
     * answered with the error instead of being handled. With a topic, only that topic's entries get the
     * error and the rest of the request is handled as usual.
     *
     * @throws IllegalArgumentException naming the API if this broker does not serve it, or for a bad
     *                                  error code, a non-positive count, or a topic on an API without topics
     */
    public void failNext(short apiKey, short errorCode, int times, String clientIdOrNull, String topicOrNull) {
        requirePositive(times);
        failNext(apiKey, errorCode, new AtomicInteger(times), clientIdOrNull, topicOrNull);
    }

    /**
     * As {@link #failNext(short, short, int, String, String)}, counting down {@code remaining}, which
     * several brokers' injectors may share: a cluster's {@code failNext(api, error, 3)} then fails 3
     * requests in all, whichever brokers they reach.
     */
    public void failNext(short apiKey, short errorCode, AtomicInteger remaining, String clientIdOrNull,
                         String topicOrNull) {
        ApiKeys api = servedApi(apiKey, topicOrNull);
        Errors error = Errors.forCode(errorCode);
        if (errorCode == Errors.NONE.code() || error.code() != errorCode) {
            throw new IllegalArgumentException("Error code " + errorCode + " is not one of Kafka's errors (other than NONE)");
        }
        requirePositive(remaining.get());
        add(new Fault(Kind.FAIL, api, error, remaining.get(), 0, clientIdOrNull, topicOrNull, remaining));
    }

    /** Answers of the API (matching the client id and topic when given) go out {@code delayMillis} late until cleared. */
    public void delay(short apiKey, long delayMillis, String clientIdOrNull, String topicOrNull) {
        ApiKeys api = servedApi(apiKey, topicOrNull);
        if (delayMillis < 0) {
            throw new IllegalArgumentException("Delay must not be negative: " + delayMillis + " ms");
        }
        add(new Fault(Kind.DELAY, api, null, Integer.MAX_VALUE, delayMillis, clientIdOrNull, topicOrNull));
    }

    /** The next {@code times} requests of the API (matching the filters) are not handled: their connection is closed. */
    public void disconnectNext(short apiKey, int times, String clientIdOrNull, String topicOrNull) {
        requirePositive(times);
        disconnectNext(apiKey, new AtomicInteger(times), clientIdOrNull, topicOrNull);
    }

    /** As {@link #disconnectNext(short, int, String, String)}, counting down a {@code remaining} brokers may share. */
    public void disconnectNext(short apiKey, AtomicInteger remaining, String clientIdOrNull, String topicOrNull) {
        ApiKeys api = servedApi(apiKey, topicOrNull);
        requirePositive(remaining.get());
        add(new Fault(Kind.DISCONNECT, api, null, remaining.get(), 0, clientIdOrNull, topicOrNull, remaining));
    }

    /** Removes every fault; requests in flight keep what they already got. */
    public void clear() {
        faults.clear();
    }

    private void add(Fault fault) {
        faults.add(fault);
        log.info("Broker {} injects a fault: {}", brokerId, fault);
    }

    private ApiKeys servedApi(short apiKey, String topic) {
        if (!ApiKeys.hasId(apiKey)) {
            throw new IllegalArgumentException("API key " + apiKey + " is not a Kafka API");
        }
        ApiKeys api = ApiKeys.forId(apiKey);
        if (!served.test(api)) {
            throw new IllegalArgumentException("Broker " + brokerId + " does not serve " + api.name()
                    + " (API key " + apiKey + "): a fault for it would never fire");
        }
        if (topic != null && !TopicFaults.SUPPORTED.contains(api)) {
            throw new IllegalArgumentException("A fault for one topic is not supported for " + api.name()
                    + "; it is for " + TopicFaults.SUPPORTED);
        }
        return api;
    }

    private static void requirePositive(int times) {
        if (times < 1) {
            throw new IllegalArgumentException("times must be at least 1: " + times);
        }
    }

    private void exhausted(Fault fault) {
        faults.remove(fault);
    }

    private enum Kind { FAIL, DELAY, DISCONNECT }

    private record Fault(Kind kind, ApiKeys api, Errors error, int times, long delayMillis, String clientId,
                         String topic, AtomicInteger remaining) {
        Fault(Kind kind, ApiKeys api, Errors error, int times, long delayMillis, String clientId, String topic) {
            this(kind, api, error, times, delayMillis, clientId, topic, new AtomicInteger(times));
        }

        /** Takes one of the remaining uses; false when another request took the last one. */
        boolean take() {
            return remaining.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0;
        }

        @Override
        public String toString() {
            String what = switch (kind) {
                case FAIL -> "fail the next " + times + " " + api.name() + " requests with " + error.name();
                case DELAY -> "delay " + api.name() + " answers by " + delayMillis + " ms";
                case DISCONNECT -> "disconnect the next " + times + " " + api.name() + " requests";
            };
            return what + (clientId == null ? "" : " of client " + clientId) + (topic == null ? "" : " for topic " + topic);
        }
    }

    private final class Interceptor implements RequestInterceptor {
        @Override
        public boolean isActive() {
            return !faults.isEmpty(); // one volatile read of the list's array
        }

        /** Faults apply in the order they were added; the first failure or disconnect that matches decides. */
        @Override
        public RequestAction onRequest(RequestContext context) {
            ApiMessage body = context.request().body();
            if (body == null) {
                return RequestAction.proceed(); // an ApiVersions of a version we cannot parse: KIP-511's answer
            }
            ApiKeys api = context.apiKey();
            long delay = 0;
            for (Fault fault : faults) {
                if (fault.api != api || (fault.clientId != null && !fault.clientId.equals(context.clientId()))) {
                    continue;
                }
                TopicFaults.TopicMatch topic = fault.topic == null ? null
                        : new TopicFaults.TopicMatch(fault.topic, topicIds.apply(fault.topic).orElse(null));
                if (fault.kind == Kind.DELAY) {
                    if (topic == null || TopicFaults.mentions(api, body, topic)) {
                        delay += fault.delayMillis;
                    }
                    continue;
                }
                if (topic != null && !TopicFaults.mentions(api, body, topic)) {
                    continue;
                }
                if (!fault.take()) {
                    exhausted(fault);
                    continue;
                }
                if (fault.remaining.get() == 0) {
                    exhausted(fault);
                }
                context.markInjected();
                if (delay > 0) {
                    context.setAttribute(DELAY, delay);
                }
                if (fault.kind == Kind.DISCONNECT || isAcksZeroProduce(body)) {
                    // an acks=0 producer reads no answers: Kafka tells it of an error by closing the connection
                    return RequestAction.disconnect();
                }
                short version = context.apiVersion();
                if (topic == null) {
                    return RequestAction.answer(TopicFaults.errorResponse(api, version, body, fault.error));
                }
                ApiMessage onlyTopic = TopicFaults.split(api, body, topic);
                ApiMessage topicErrors = TopicFaults.topicErrorResponse(api, version, Objects.requireNonNull(onlyTopic), fault.error);
                if (TopicFaults.isEmpty(api, body)) {
                    return RequestAction.answer(topicErrors);
                }
                context.setAttribute(TOPIC_SPLIT, topicErrors);
                return RequestAction.proceed();
            }
            if (delay > 0) {
                context.markInjected();
                context.setAttribute(DELAY, delay);
            }
            return RequestAction.proceed();
        }

        private static boolean isAcksZeroProduce(ApiMessage body) {
            return body instanceof ProduceRequestData produce && produce.acks() == 0;
        }

        @Override
        public ResponseAction onResponse(RequestContext context, ApiMessage response) {
            ApiMessage topicErrors = (ApiMessage) context.attribute(TOPIC_SPLIT);
            if (topicErrors != null) {
                TopicFaults.merge(context.apiKey(), response, topicErrors);
            }
            Long delay = (Long) context.attribute(DELAY);
            return delay == null ? ResponseAction.send() : ResponseAction.delay(delay);
        }
    }
}
