package io.gregor.broker;

import java.util.Map;

/**
 * One Gregor broker running in this JVM: what {@code bin/gregor-server-start} runs and what tests and
 * embedders start on an ephemeral port and a temp dir.
 */
public final class Broker implements AutoCloseable {

    /**
     * Starts a broker from server.properties-style settings (Kafka key names); {@code listeners} may
     * use port 0. Returns once the listener is bound and the logs are loaded.
     */
    public static Broker start(Map<String, String> props) {
        throw new UnsupportedOperationException("being written");
    }

    /** host:port of the bound PLAINTEXT listener, as clients should use it. */
    public String bootstrapServers() {
        throw new UnsupportedOperationException("being written");
    }

    public int port() {
        throw new UnsupportedOperationException("being written");
    }

    /** Clean shutdown: stops accepting, finishes in-flight requests, flushes, writes the clean-shutdown marker. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("being written");
    }
}
