package io.gregor.broker.zk;

import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;

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
     * Starts a server keeping its snapshots and transaction log under {@code dataDir}.
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
     * As {@link #start(Path, int, int, int)}; without {@code syncWrites} the transaction log is written without
     * an fsync per write (ZooKeeper's {@code zookeeper.forceSync=no}, for this server only), for a cluster whose
     * data need not survive a machine crash: a test cluster's start and topic creations are a string of
     * ZooKeeper writes, each of which would otherwise wait for the disk.
     */
    public static EmbeddedZooKeeper start(Path dataDir, int port, int tickTimeMs, int maxClientConnections,
                                          boolean syncWrites) throws IOException {
        // snapshots and transaction log in one dir, where gregor-cluster-start has always kept them
        FileTxnSnapLog files = syncWrites ? new FileTxnSnapLog(dataDir.toFile(), dataDir.toFile())
                : new UnsyncedTxnSnapLog(dataDir.toFile());
        ZooKeeperServer server = new ZooKeeperServer(files, tickTimeMs, "");
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", port),
                maxClientConnections);
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

    /**
     * Appends go to the log file's buffer and from there to the OS as it fills; close() writes the rest. The
     * server serves from memory either way; only a machine crash would lose what the disk had not got.
     */
    private static final class UnsyncedTxnSnapLog extends FileTxnSnapLog {
        UnsyncedTxnSnapLog(java.io.File dir) throws IOException {
            super(dir, dir);
        }

        @Override
        public void commit() {
            // no flush and fsync per write batch
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
