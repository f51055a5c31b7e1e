package io.gregor.testkit;

import io.gregor.broker.Broker;
import io.gregor.broker.intercept.FaultInjector;
import io.gregor.broker.intercept.TraceRecord;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One broker of a {@link GregorCluster}. It keeps its port and data dir across {@link #stop()} /
 * {@link #kill()} and {@link #start()}, as a real operator's broker would.
 */
public final class GregorNode {
    private final int id;
    private final Path dataDir;
    private final Map<String, String> props;
    private final boolean trace;
    /** Trace entries of this broker's earlier runs, so a restart does not lose them. */
    private final List<TraceRecord> earlierTrace = new ArrayList<>();
    private Broker broker;
    private int port;

    GregorNode(int id, Path dataDir, Map<String, String> props, boolean trace) {
        this.trace = trace;
        this.id = id;
        this.dataDir = dataDir;
        this.props = new HashMap<>(props);
    }

    public int id() {
        return id;
    }

    /** host:port of this broker alone; known from its first start on, also while it is stopped. */
    public synchronized String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The port this broker listens on (0 before its first start). */
    public synchronized int port() {
        return port;
    }

    /** The data dir (log.dirs) of this broker. */
    public Path dataDir() {
        return dataDir;
    }

    public synchronized boolean isRunning() {
        return broker != null;
    }

    /** Starts the broker again on the same port and data dir; recovers its logs after a {@link #kill()}. */
    public synchronized void start() {
        if (broker != null) {
            throw new IllegalStateException("Broker " + id + " is already running (on " + bootstrapServers()
                    + "); stop() or kill() it first");
        }
        // only JDK types cross to the broker, whose own kafka-clients may be relocated away from the application's
        broker = Broker.start(props);
        if (trace) {
            broker.requestTrace().setEnabled(true);
        }
        port = broker.port();
        // Later starts come back on the same port, so clients' bootstrap lists stay valid.
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port);
    }

    /** Controlled shutdown: leaderships move to other in-sync replicas first, logs are flushed. */
    public synchronized void stop() {
        Broker b = running("stop()");
        b.close();
        stopped(b);
    }

    /**
     * Stops abruptly, as a crash looks to clients and to the controller: connections are dropped with
     * requests unanswered, no controlled shutdown, no flush, no clean-shutdown marker, and its ZooKeeper
     * session ends at once.
     */
    public synchronized void kill() {
        Broker b = running("kill()");
        b.kill();
        stopped(b);
    }

    /** Faults of this broker only; see {@link Faults}. */
    public Faults faults() {
        return new Faults(List.of(this), null, null);
    }

    private void stopped(Broker b) {
        earlierTrace.addAll(b.requestTrace().entries());
        broker = null;
    }

    /** Stops this broker if it runs; for closing the cluster. */
    synchronized void shutdown() {
        if (broker != null) {
            Broker b = broker;
            broker = null;
            b.close();
        }
    }

    /** The running broker's fault injector; null while stopped. */
    synchronized FaultInjector faultInjector() {
        return broker == null ? null : broker.faultInjector();
    }

    synchronized void clearFaults() {
        if (broker != null) {
            broker.faultInjector().clear();
        }
    }

    /** This broker's trace over all its runs, oldest first. */
    synchronized List<TraceRecord> traceRecords() {
        List<TraceRecord> all = new ArrayList<>(earlierTrace);
        if (broker != null) {
            all.addAll(broker.requestTrace().entries());
        }
        return all;
    }

    synchronized void clearTrace() {
        earlierTrace.clear();
        if (broker != null) {
            broker.requestTrace().clear();
        }
    }

    synchronized Broker broker() {
        return broker;
    }

    private Broker running(String action) {
        if (broker == null) {
            throw new IllegalStateException("Broker " + id + " is not running: " + action + " needs a running broker");
        }
        return broker;
    }

    @Override
    public String toString() {
        return "GregorNode(" + id + ", " + bootstrapServers() + (isRunning() ? "" : ", stopped") + ")";
    }
}
