package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.config.BrokerConfig;
import io.gregor.testkit.GregorCluster;
import io.gregor.testkit.GregorNode;
import io.gregor.testkit.TestkitInternals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An in-process Gregor broker (a one-broker {@link GregorCluster}) on an ephemeral port with its own data
 * dir under target/. {@link #close()} shuts it down cleanly and deletes the data; {@link #stop()} keeps the
 * data so tests can inspect the files or {@link #restart()} on the same port and dir.
 */
final class TestBroker implements AutoCloseable {
    /** Keys of the shipped config that the testkit sets itself (id, port, data dir). */
    private static final Set<String> SET_BY_THE_TESTKIT = Set.of("broker.id", "node.id", "listeners",
            "advertised.listeners", "log.dirs", "log.dir", "zookeeper.connect");

    private final Path dir;
    private final GregorCluster cluster;

    private TestBroker(Path dir, GregorCluster cluster) {
        this.dir = dir;
        this.cluster = cluster;
    }

    /** Gregor's built-in defaults plus {@code overrides}. */
    static TestBroker start(String name, Map<String, String> overrides) {
        // Kafka's 3 s, which the testkit lowers to 0 for tests: these tests see Gregor's defaults
        return start(name, Map.of("group.initial.rebalance.delay.ms", "3000"), overrides);
    }

    /** The settings a user's first broker gets: the shipped config/server.properties. */
    static TestBroker startWithShippedConfig(String name) {
        Path moduleDir = Path.of(System.getProperty("basedir", "."));
        Path serverProperties = moduleDir.resolve("../config/server.properties").normalize();
        Map<String, String> shipped = new HashMap<>(BrokerConfig.load(serverProperties, List.of()).originals());
        shipped.keySet().removeAll(SET_BY_THE_TESTKIT);
        return start(name, shipped, Map.of());
    }

    private static TestBroker start(String name, Map<String, String> base, Map<String, String> overrides) {
        Path dir = TestDirs.newDataDir(name);
        Map<String, String> props = new HashMap<>(base);
        props.putAll(overrides);
        // the trace as a plain broker has it: off unless gregor.wire.trace.enable
        GregorCluster.Builder builder = GregorCluster.builder().dataDir(dir).trace(false);
        props.forEach(builder::brokerProperty);
        try {
            return new TestBroker(dir, builder.start());
        } catch (RuntimeException | Error e) {
            TestDirs.deleteRecursively(dir);
            throw e;
        }
    }

    private GregorNode node() {
        return cluster.broker(0);
    }

    /** The running broker itself, for its test hooks (faults, trace). */
    Broker broker() {
        Broker broker = TestkitInternals.broker(node());
        if (broker == null) {
            throw new IllegalStateException("the broker is stopped");
        }
        return broker;
    }

    String bootstrapServers() {
        return node().bootstrapServers();
    }

    int port() {
        return node().port();
    }

    /** The broker's log.dirs. */
    Path logDir() {
        return node().dataDir();
    }

    /** Clean shutdown that keeps the data dir. */
    void stop() {
        if (node().isRunning()) {
            node().stop();
        }
    }

    void restart() {
        stop();
        node().start();
    }

    boolean isRunning() {
        return node().isRunning();
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } finally {
            TestDirs.deleteRecursively(dir);
        }
    }
}
