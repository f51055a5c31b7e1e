package io.gregor.testkit;

import io.gregor.broker.intercept.FaultInjector;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults injected on purpose into the answers of a cluster's brokers ({@link GregorCluster#faults()}) or of one
 * broker ({@link GregorNode#faults()}), at the protocol level, so any stock client meets them as it would
 * meet a misbehaving Kafka broker. The {@code times} of {@link #failNext} and {@link #disconnectNext} count
 * over all the brokers of the view: on a cluster, {@code failNext(PRODUCE, error, 3)} fails 3 produce
 * requests in all, whichever brokers they reach. A fault applies to the brokers running when it is set; a
 * broker started later begins without faults.
 *
 * <pre>{@code
 * cluster.faults().failNext(ApiKeys.PRODUCE, Errors.NOT_LEADER_OR_FOLLOWER, 3);
 * cluster.faults().forClientId("slow-consumer").delay(ApiKeys.FETCH, Duration.ofSeconds(2));
 * cluster.faults().clear();
 * }</pre>
 */
public final class Faults {
    private final List<GregorNode> nodes;
    private final String clientId;
    private final String topic;

    Faults(List<GregorNode> nodes, String clientId, String topic) {
        this.nodes = List.copyOf(nodes);
        this.clientId = clientId;
        this.topic = topic;
    }

    /**
     * The next {@code times} requests of {@code api} (to any broker of this view) are answered with {@code error} instead of being handled:
     * in the top-level error code where the answer has one, else in every topic / partition / group entry.
     *
     * @throws IllegalArgumentException for an API the broker does not serve or for {@link Errors#NONE}
     */
    public Faults failNext(ApiKeys api, Errors error, int times) {
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(error, "error");
        requirePositive(times);
        AtomicInteger remaining = new AtomicInteger(times); // one count for all the brokers
        for (FaultInjector injector : injectors()) {
            injector.failNext(api.id, error.code(), remaining, clientId, topic);
        }
        return this;
    }

    /** Answers of {@code api} go out {@code delay} late until {@link #clear()}. */
    public Faults delay(ApiKeys api, Duration delay) {
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(delay, "delay");
        for (FaultInjector injector : injectors()) {
            injector.delay(api.id, delay.toMillis(), clientId, topic);
        }
        return this;
    }

    /**
     * The next {@code times} requests of {@code api} (to any broker of this view) are not answered: their
     * connection is closed instead.
     */
    public Faults disconnectNext(ApiKeys api, int times) {
        Objects.requireNonNull(api, "api");
        requirePositive(times);
        AtomicInteger remaining = new AtomicInteger(times);
        for (FaultInjector injector : injectors()) {
            injector.disconnectNext(api.id, remaining, clientId, topic);
        }
        return this;
    }

    /** Removes every fault of these brokers (of every client and topic, also when called on a narrowed view). */
    public void clear() {
        for (GregorNode node : nodes) {
            node.clearFaults();
        }
    }

    /** A view whose faults hit only the requests of this client id (the client's {@code client.id}). */
    public Faults forClientId(String clientId) {
        return new Faults(nodes, Objects.requireNonNull(clientId, "clientId"), topic);
    }

    /** A view whose faults hit only this topic's entries; the rest of a request is handled as usual. */
    public Faults forTopic(String topic) {
        return new Faults(nodes, clientId, Objects.requireNonNull(topic, "topic"));
    }

    private static void requirePositive(int times) {
        if (times < 1) {
            throw new IllegalArgumentException("times must be at least 1: " + times);
        }
    }

    private List<FaultInjector> injectors() {
        List<FaultInjector> injectors = nodes.stream().map(GregorNode::faultInjector).filter(Objects::nonNull).toList();
        if (injectors.isEmpty()) {
            throw new IllegalStateException("No running broker to inject a fault into: " + nodes);
        }
        return injectors;
    }

    @Override
    public String toString() {
        return "Faults(" + nodes.stream().map(n -> "broker " + n.id()).toList()
                + (clientId == null ? "" : ", client " + clientId) + (topic == null ? "" : ", topic " + topic) + ")";
    }
}
