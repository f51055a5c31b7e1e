package io.gregor.broker.zk;

import org.apache.zookeeper.server.NIOServerCnxnFactory;
import org.apache.zookeeper.server.ServerCnxn;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A real standalone ZooKeeper server inside this JVM, for a cluster that lives in one process: what
 * {@code gregor-cluster-start} and the testkit run. Bound to 127.0.0.1 only.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    private EmbeddedZooKeeper(ZooKeeperServer server, ServerCnxnFactory factory) {
        this.server = server;
        this.factory = factory;
    }

    /**
     * Starts a server keeping its snapshots and transaction log under {@code dataDir}, with ZooKeeper's MBeans.
     *
     * @param port       0 for a kernel-chosen port
     * @param tickTimeMs ZooKeeper's tick: sessions may last 2 to 20 ticks
     * @throws IOException when the port is taken or the dir unusable
     */
    public static EmbeddedZooKeeper start(Path dataDir, int port, int tickTimeMs, int maxClientConnections)
            throws IOException {
        return start(dataDir, port, tickTimeMs, maxClientConnections, true);
    }

    /**
     * As {@link #start(Path, int, int, int)}; without {@code jmx} the server registers no MBeans (its own,
     * its data tree's, one per connection), so its start does not create the JVM's MBean server: a few hundred
     * classes that a test's in-process cluster would load before its brokers could start.
     */
    public static EmbeddedZooKeeper start(Path dataDir, int port, int tickTimeMs, int maxClientConnections,
            boolean jmx) throws IOException {
        // snapshots and transaction log in one dir, where gregor-cluster-start has always kept them
        ZooKeeperServer server = jmx ? new ZooKeeperServer(dataDir.toFile(), dataDir.toFile(), tickTimeMs)
                : new ServerWithoutMBeans(dataDir.toFile(), tickTimeMs);
        ServerCnxnFactory factory;
        if (jmx) {
            factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", port), maxClientConnections);
        } else {
            factory = new ConnectionsWithoutMBeans();
            factory.configure(new InetSocketAddress("127.0.0.1", port), maxClientConnections);
        }
        try {
            factory.startup(server);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            factory.shutdown();
            throw new IOException("interrupted while starting ZooKeeper", e);
        } catch (IOException | RuntimeException e) {
            factory.shutdown();
            throw e;
        }
        return new EmbeddedZooKeeper(server, factory);
    }

    /** A server that leaves its MBeans (ZooKeeperServerBean, DataTreeBean) out. */
    private static final class ServerWithoutMBeans extends ZooKeeperServer {
        ServerWithoutMBeans(File dataDir, int tickTimeMs) throws IOException {
            super(dataDir, dataDir, tickTimeMs);
        }

        @Override
        protected void registerJMX() {
        }

        @Override
        protected void unregisterJMX() {
        }
    }

    /** The default connection factory, without an MBean per client connection. */
    private static final class ConnectionsWithoutMBeans extends NIOServerCnxnFactory {
        @Override
        public void registerConnection(ServerCnxn connection) {
        }

        @Override
        public void unregisterConnection(ServerCnxn connection) {
        }
    }

    public int port() {
        return factory.getLocalPort();
    }

    /** Kafka's {@code zookeeper.connect} for this server. */
    public String connectString() {
        return "127.0.0.1:" + port();
    }

    /** Expires a client's session on the server, as a long network partition would: its ephemeral nodes go. */
    public void expireSession(long sessionId) {
        server.expire(sessionId);
    }

    @Override
    public void close() {
        factory.shutdown();
        server.shutdown();
    }
}
