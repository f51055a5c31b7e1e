package io.gregor.compat;

import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A real standalone ZooKeeper server in the test JVM, on a kernel-chosen port, with its data in target/. */
final class ZooKeeperTestServer implements AutoCloseable {
    private final Path dir;
    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    /** tickTime 1 s: sessions may last 2 s to 20 s. */
    ZooKeeperTestServer() {
        dir = TestDirs.newDataDir("zookeeper");
        try {
            server = new ZooKeeperServer(dir.resolve("snap").toFile(), dir.resolve("log").toFile(), 1000);
            factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 200);
            factory.startup(server);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    String connectString() {
        return "127.0.0.1:" + factory.getLocalPort();
    }

    /** A plain client, as zkCli would be, to look at the tree. */
    ZooKeeper client(String chroot) throws IOException, InterruptedException {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString() + chroot, 10_000, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no ZooKeeper connection");
        }
        return zk;
    }

    /** Expires a client's session on the server, as a long network partition would: its ephemeral nodes go. */
    void expireSession(long sessionId) {
        server.expire(sessionId);
    }

    @Override
    public void close() {
        factory.shutdown();
        server.shutdown();
        TestDirs.deleteRecursively(dir);
    }
}
