package io.gregor.compat;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;

/**
 * One in-process broker shared by a test class:
 * {@code @RegisterExtension static final BrokerExtension BROKER = new BrokerExtension(Map.of(...));}
 * Started before the first test, closed (and its data deleted) after the last.
 */
final class BrokerExtension implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> overrides;
    private TestBroker broker;

    BrokerExtension() {
        this(Map.of());
    }

    BrokerExtension(Map<String, String> overrides) {
        this.overrides = overrides;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = TestBroker.start(context.getRequiredTestClass().getSimpleName(), overrides);
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

    String bootstrapServers() {
        return broker().bootstrapServers();
    }
}
