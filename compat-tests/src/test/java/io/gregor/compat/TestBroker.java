package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.config.BrokerConfig;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-process Gregor broker on an ephemeral port with its own data dir under target/. {@link #close()}
 * shuts it down cleanly and deletes the data; {@link #stop()} keeps the data so tests can inspect the
 * files or {@link #restart()} on the same port and dir.
 */
final class TestBroker implements AutoCloseable {
    private final Path logDir;
    private final Map<String, String> props;
    private Broker broker;
    private int port;

    private TestBroker(Path logDir, Map<String, String> props) {
        this.logDir = logDir;
        this.props = props;
    }

    /** Gregor's built-in defaults plus {@code overrides}. */
    static TestBroker start(String name, Map<String, String> overrides) {
        // A single broker can only ever host one replica of the offsets topic.
        return start(name, Map.of("offsets.topic.replication.factor", "1"), overrides);
    }

    /** The settings a user's first broker gets: the shipped config/server.properties. */
    static TestBroker startWithShippedConfig(String name) {
        Path moduleDir = Path.of(System.getProperty("basedir", "."));
        Path serverProperties = moduleDir.resolve("../config/server.properties").normalize();
        return start(name, BrokerConfig.load(serverProperties, List.of()).originals(), Map.of());
    }

    private static TestBroker start(String name, Map<String, String> base, Map<String, String> overrides) {
        Path dir = TestDirs.newDataDir(name);
        Map<String, String> props = new HashMap<>(base);
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.putAll(overrides);
        TestBroker b = new TestBroker(dir, props);
        try {
            b.startBroker();
        } catch (RuntimeException | Error e) {
            TestDirs.deleteRecursively(dir);
            throw e;
        }
        return b;
    }

    private void startBroker() {
        broker = Broker.start(props);
        port = broker.port();
        // Later restarts come back on the same port, as a real operator's broker would.
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port);
    }

    /** The running broker itself, for its test hooks (faults, trace). */
    Broker broker() {
        if (broker == null) {
            throw new IllegalStateException("the broker is stopped");
        }
        return broker;
    }

    String bootstrapServers() {
        return broker.bootstrapServers();
    }

    int port() {
        return port;
    }

    Path logDir() {
        return logDir;
    }

    /** Clean shutdown that keeps the data dir. */
    void stop() {
        if (broker != null) {
            Broker b = broker;
            broker = null;
            b.close();
        }
    }

    void restart() {
        stop();
        startBroker();
    }

    boolean isRunning() {
        return broker != null;
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            TestDirs.deleteRecursively(logDir);
        }
    }
}
