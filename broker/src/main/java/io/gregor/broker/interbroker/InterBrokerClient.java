package io.gregor.broker.interbroker;

import org.apache.kafka.clients.ApiVersions;
import org.apache.kafka.clients.BootstrapConfiguration;
import org.apache.kafka.clients.ClientResponse;
import org.apache.kafka.clients.ManualMetadataUpdater;
import org.apache.kafka.clients.MetadataRecoveryStrategy;
import org.apache.kafka.clients.NetworkClient;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.ChannelBuilder;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.network.PlaintextChannelBuilder;
import org.apache.kafka.common.network.Selectable;
import org.apache.kafka.common.network.Selector;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.LogContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The one client for requests from this broker to other brokers (transaction markers, partition verification,
 * share-group state), over kafka-clients' {@link NetworkClient} (what Kafka's brokers use: connection
 * management, API version negotiation, TLS and SASL), driven by one thread.
 */
public final class InterBrokerClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InterBrokerClient.class);
    private static final int POLL_MS = 100;

    private final NetworkClient client;
    private final Metrics metrics;
    private final Time time;
    private final int requestTimeoutMs;
    private final String listenerName;
    private final Queue<Outgoing> submitted = new ConcurrentLinkedQueue<>();
    private final List<Outgoing> waitingForConnection = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    private record Outgoing(Node node, AbstractRequest.Builder<?> request, long createdMs,
                            CompletableFuture<ApiMessage> response) {
    }

    /** Over plaintext, for tests of the client itself. */
    public InterBrokerClient(int brokerId, String purpose, int requestTimeoutMs, Time time) {
        this(brokerId, purpose, requestTimeoutMs, time, "PLAINTEXT", logContext -> {
            PlaintextChannelBuilder plaintext = new PlaintextChannelBuilder(ListenerName.normalised("PLAINTEXT"));
            plaintext.configure(Map.of());
            return plaintext;
        });
    }

    /**
     * @param listenerName the inter-broker listener, whose address of each broker this client connects to
     * @param channels     builds the channel of that listener's security protocol (TLS, SASL)
     */
    public InterBrokerClient(int brokerId, String purpose, int requestTimeoutMs, Time time, String listenerName,
                             java.util.function.Function<LogContext, ChannelBuilder> channels) {
        this.time = time;
        this.requestTimeoutMs = requestTimeoutMs;
        this.listenerName = listenerName;
        this.metrics = new Metrics(time);
        LogContext logContext = new LogContext("[" + purpose + " of broker " + brokerId + "] ");
        ChannelBuilder channelBuilder = channels.apply(logContext);
        Selector selector = new Selector(600_000L, metrics, time, purpose, channelBuilder, logContext);
        this.client = new NetworkClient(selector, new ManualMetadataUpdater(), "broker-" + brokerId + "-" + purpose,
                1, 50L, 1000L, Selectable.USE_DEFAULT_BUFFER_SIZE, Selectable.USE_DEFAULT_BUFFER_SIZE, requestTimeoutMs,
                10_000L, 30_000L, time, true, new ApiVersions(), logContext, MetadataRecoveryStrategy.NONE,
                BootstrapConfiguration.DISABLED, false);
        this.thread = new Thread(this::run, "gregor-" + purpose + "-" + brokerId);
        thread.setDaemon(true);
        thread.start();
    }


    /** The listener whose address of each broker this client connects to. */
    public String listenerName() {
        return listenerName;
    }

    /** Sends {@code request} to {@code node}; the future fails on disconnection, timeout or version mismatch. */
    public CompletableFuture<ApiMessage> send(Node node, AbstractRequest.Builder<?> request) {
        CompletableFuture<ApiMessage> response = new CompletableFuture<>();
        if (!running) {
            response.completeExceptionally(new DisconnectException("The inter-broker client is closed"));
            return response;
        }
        submitted.add(new Outgoing(node, request, time.milliseconds(), response));
        client.wakeup();
        return response;
    }

    private void run() {
        while (running) {
            try {
                long now = time.milliseconds();
                for (Outgoing o; (o = submitted.poll()) != null; ) {
                    waitingForConnection.add(o);
                }
                for (Iterator<Outgoing> it = waitingForConnection.iterator(); it.hasNext(); ) {
                    Outgoing o = it.next();
                    if (client.ready(o.node(), now)) {
                        client.send(client.newClientRequest(Integer.toString(o.node().id()), o.request(), now, true,
                                requestTimeoutMs, r -> complete(o, r)), now);
                        it.remove();
                    } else if (client.connectionFailed(o.node()) || now - o.createdMs() > requestTimeoutMs) {
                        o.response().completeExceptionally(new DisconnectException("Cannot connect to broker "
                                + o.node().id() + " at " + o.node().host() + ":" + o.node().port()));
                        it.remove();
                    }
                }
                client.poll(waitingForConnection.isEmpty() ? POLL_MS : 10, now);
            } catch (RuntimeException e) {
                if (running) {
                    log.warn("Inter-broker send loop failed; continuing", e);
                }
            }
        }
    }

    private static void complete(Outgoing o, ClientResponse r) {
        if (r.wasDisconnected()) {
            o.response().completeExceptionally(new DisconnectException("Broker " + o.node().id() + " disconnected"));
        } else if (r.wasTimedOut()) {
            o.response().completeExceptionally(new TimeoutException("No answer from broker " + o.node().id()));
        } else if (r.versionMismatch() != null) {
            o.response().completeExceptionally(r.versionMismatch());
        } else if (r.authenticationException() != null) {
            o.response().completeExceptionally(r.authenticationException());
        } else {
            o.response().complete(r.responseBody().data());
        }
    }

    @Override
    public void close() {
        running = false;
        client.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        metrics.close();
        for (Outgoing o : waitingForConnection) {
            o.response().completeExceptionally(new DisconnectException("The inter-broker client is closed"));
        }
        for (Outgoing o; (o = submitted.poll()) != null; ) {
            o.response().completeExceptionally(new DisconnectException("The inter-broker client is closed"));
        }
    }
}
