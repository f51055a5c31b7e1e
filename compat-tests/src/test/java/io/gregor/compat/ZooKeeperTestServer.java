package io.gregor.compat;

import io.gregor.broker.zk.EmbeddedZooKeeper;
import org.apache.zookeeper.ZooKeeper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real standalone ZooKeeper server in the test JVM (the {@link EmbeddedZooKeeper} that GregorCluster and
 * gregor-cluster-start run), on a kernel-chosen port, with its data in target/.
 */
public final class ZooKeeperTestServer implements AutoCloseable {
    private final Path dir;
    private final EmbeddedZooKeeper server;

    /** tickTime 1 s: sessions may last 2 s to 20 s. */
    public ZooKeeperTestServer() {
        dir = TestDirs.newDataDir("zookeeper");
        try {
            server = EmbeddedZooKeeper.start(dir, 0, 1000, 200);
        } catch (IOException e) {
            TestDirs.deleteRecursively(dir);
            throw new UncheckedIOException(e);
        }
    }

    public String connectString() {
        return server.connectString();
    }

    /** A plain client, as zkCli would be, to look at the tree. */
    public ZooKeeper client(String chroot) throws IOException, InterruptedException {
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
        server.expireSession(sessionId);
    }

    @Override
    public void close() {
        server.close();
        TestDirs.deleteRecursively(dir);
    }
}
