package io.gregor.compat;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;
import java.util.function.Function;

/**
 * One in-process broker shared by a test class:
 * {@code @RegisterExtension static final BrokerExtension BROKER = new BrokerExtension(Map.of(...));}
 * or {@link #shippedConfig()}. Started before the first test, closed (and its data deleted) after the last.
 */
public final class BrokerExtension implements BeforeAllCallback, AfterAllCallback {
    private final Function<String, TestBroker> starter;
    private TestBroker broker;

    BrokerExtension() {
        this(Map.of());
    }

    BrokerExtension(Map<String, String> overrides) {
        this(name -> TestBroker.start(name, overrides));
    }

    private BrokerExtension(Function<String, TestBroker> starter) {
        this.starter = starter;
    }

    /** A broker with the HTTP control endpoint on a port the kernel picks (gregor.http.listener). */
    public static BrokerExtension withControlEndpoint() {
        return new BrokerExtension(Map.of("gregor.http.listener", "127.0.0.1:0", "group.initial.rebalance.delay.ms", "0"));
    }

    /** http://host:port of the broker's control endpoint. */
    public String controlEndpoint() {
        java.net.InetSocketAddress a = broker().broker().controlEndpointAddress()
                .orElseThrow(() -> new IllegalStateException("the broker has no gregor.http.listener"));
        return "http://" + a.getHostString() + ":" + a.getPort();
    }

    /** A broker configured by the shipped config/server.properties, as a user would first run it. */
    public static BrokerExtension shippedConfig() {
        return new BrokerExtension(TestBroker::startWithShippedConfig);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = starter.apply(context.getRequiredTestClass().getSimpleName());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    TestBroker broker() {
        if (broker == null) {
            throw new IllegalStateException("broker not started (is the extension registered as a static field?)");
        }
        return broker;
    }

    public String bootstrapServers() {
        return broker().bootstrapServers();
    }

    public int port() {
        return broker().port();
    }
}
