package io.gregor.broker;

import io.gregor.broker.zk.EmbeddedZooKeeper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * {@code gregor-cluster-start N [DATA_DIR]}: a local cluster for development in one JVM — a real standalone
 * ZooKeeper server on 127.0.0.1 (port 2181, or a kernel-chosen one when 2181 is taken) and N brokers
 * (ids 1..N, ports 9092.., data under DATA_DIR), each an ordinary ZooKeeper-mode broker. Ctrl-C or SIGTERM
 * shuts the brokers down in a controlled way, then ZooKeeper.
 */
public final class ClusterMain {
    private ClusterMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !args[0].matches("[1-9][0-9]?")) {
            System.err.println("Usage: gregor-cluster-start N [DATA_DIR]   (N brokers, 1..99)");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        Path data = Path.of(args.length > 1 ? args[1] : "/tmp/gregor-cluster").toAbsolutePath();
        Files.createDirectories(data);

        Path zkDir = data.resolve("zookeeper");
        EmbeddedZooKeeper zk;
        try {
            zk = EmbeddedZooKeeper.start(zkDir, 2181, 2000, 1000);
        } catch (IOException taken) {
            zk = EmbeddedZooKeeper.start(zkDir, 0, 2000, 1000);
        }
        String connect = zk.connectString();
        System.out.println("ZooKeeper listening on " + connect);

        List<Broker> brokers = new ArrayList<>();
        for (int id = 1; id <= n; id++) {
            Map<String, String> props = new TreeMap<>();
            props.put("broker.id", Integer.toString(id));
            props.put("listeners", "PLAINTEXT://127.0.0.1:" + portFor(id));
            props.put("log.dirs", data.resolve("broker-" + id).toString());
            props.put("zookeeper.connect", connect);
            props.put("offsets.topic.replication.factor", Integer.toString(Math.min(3, n)));
            props.put("default.replication.factor", Integer.toString(Math.min(3, n)));
            brokers.add(Broker.start(props));
        }
        List<String> bootstrap = new ArrayList<>();
        brokers.forEach(b -> bootstrap.add(b.bootstrapServers()));
        System.out.println("Gregor cluster of " + n + " broker(s) is up; bootstrap servers: " + String.join(",", bootstrap));

        CountDownLatch done = new CountDownLatch(1);
        EmbeddedZooKeeper zooKeeper = zk;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (int i = brokers.size() - 1; i >= 0; i--) {
                brokers.get(i).close();
            }
            zooKeeper.close();
            done.countDown();
        }, "gregor-cluster-shutdown"));
        done.await();
    }

    /** 9092, 9093, ... unless taken, then a kernel-chosen port. */
    private static int portFor(int id) {
        int port = 9091 + id;
        try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return port;
        } catch (IOException taken) {
            return 0;
        }
    }
}
