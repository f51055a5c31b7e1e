package io.gregor.testkit;

import io.gregor.broker.Broker;
import io.gregor.broker.zk.EmbeddedZooKeeper;
import io.gregor.config.BrokerConfig;
import io.gregor.wire.TransportPreload;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListTopicsOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Gregor brokers running in this JVM for a test: one ({@link #start()}) or several sharing an in-process
 * ZooKeeper ({@link Builder#brokers(int)}), each on a kernel-chosen port of 127.0.0.1 with its data in a
 * temp dir deleted on {@link #close()}.
 *
 * <pre>{@code
 * try (GregorCluster cluster = GregorCluster.start()) {
 *     props.put("bootstrap.servers", cluster.bootstrapServers());
 *     ...
 * }
 * }</pre>
 */
public final class GregorCluster implements AutoCloseable {
    /** Set by the cluster for each broker; a test choosing them would break the cluster. */
    private static final Map<String, String> MANAGED_KEYS = Map.of(
            "broker.id", "broker ids are 0..n-1",
            "node.id", "broker ids are 0..n-1",
            "listeners", "each broker listens on a kernel-chosen port of 127.0.0.1",
            "advertised.listeners", "each broker listens on a kernel-chosen port of 127.0.0.1",
            "log.dirs", "use dataDir(...)",
            "log.dir", "use dataDir(...)",
            "zookeeper.connect", "a cluster of several brokers runs its own ZooKeeper");
    private static final long START_TIMEOUT_MS = 60_000;
    private static final long RESET_TIMEOUT_MS = 60_000;

    private final Path root;
    private final boolean deleteOnClose;
    private final EmbeddedZooKeeper zooKeeper;
    private final List<GregorNode> nodes;
    private boolean closed;

    private GregorCluster(Path root, boolean deleteOnClose, EmbeddedZooKeeper zooKeeper, List<GregorNode> nodes) {
        this.root = root;
        this.deleteOnClose = deleteOnClose;
        this.zooKeeper = zooKeeper;
        this.nodes = List.copyOf(nodes);
    }

    /** One broker with Gregor's defaults (Kafka's), on a kernel-chosen port, data in a temp dir. */
    public static GregorCluster start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every broker's host:port, comma-separated, as a client's {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return nodes.stream().map(GregorNode::bootstrapServers).collect(Collectors.joining(","));
    }

    /** The broker with this id, {@code 0..n-1}. */
    public GregorNode broker(int id) {
        if (id < 0 || id >= nodes.size()) {
            throw new IllegalArgumentException("No broker " + id + " in this cluster: its broker ids are 0.."
                    + (nodes.size() - 1));
        }
        return nodes.get(id);
    }

    /** All brokers, by id. */
    public List<GregorNode> brokers() {
        return nodes;
    }

    /** Faults for every broker of the cluster; see {@link Faults}. */
    public Faults faults() {
        return new Faults(nodes, null, null);
    }

    /** What every broker of the cluster answered; see {@link WireTrace}. */
    public WireTrace trace() {
        return new WireTrace(nodes);
    }

    /** Where the brokers' data dirs (and ZooKeeper's) live. */
    public Path dataDir() {
        return root;
    }

    /** Kafka's {@code zookeeper.connect} of the cluster's ZooKeeper; empty for a single broker, which has none. */
    public java.util.Optional<String> zooKeeperConnect() {
        return java.util.Optional.ofNullable(zooKeeper).map(EmbeddedZooKeeper::connectString);
    }

    /**
     * Back to a clean cluster for the next test: clears the faults, deletes every topic but the internal
     * ones and every consumer group (their consumers must be closed), then clears the trace. Brokers that
     * are stopped are started again first.
     */
    public void reset() {
        for (GregorNode node : nodes) {
            if (!node.isRunning()) {
                node.start();
            }
        }
        faults().clear();
        awaitClusterFormed();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.CLIENT_ID_CONFIG, "gregor-testkit-reset"))) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESET_TIMEOUT_MS);
            List<String> groups = new ArrayList<>();
            for (ConsumerGroupListing g : admin.listConsumerGroups().all().get(RESET_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                groups.add(g.groupId());
            }
            if (!groups.isEmpty()) {
                try {
                    admin.deleteConsumerGroups(groups).all().get(RESET_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("reset() could not delete the groups " + groups
                            + " (close their consumers before reset()): " + e.getCause(), e.getCause());
                }
            }
            Set<String> topics = userTopics(admin);
            if (!topics.isEmpty()) {
                admin.deleteTopics(topics).all().get(RESET_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
            // In a cluster the controller finishes deletions after answering; the next test may reuse the names.
            while (!(topics = userTopics(admin)).isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reset(): topics " + topics + " still exist after "
                            + RESET_TIMEOUT_MS + " ms");
                }
                Thread.sleep(20);
            }
            trace().clear();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("reset() interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("reset() failed: " + e, e);
        }
    }

    private static Set<String> userTopics(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
        return new TreeSet<>(admin.listTopics(new ListTopicsOptions().listInternal(false)).names()
                .get(RESET_TIMEOUT_MS, TimeUnit.MILLISECONDS));
    }

    /** Every running broker sees every running broker and a controller. */
    void awaitClusterFormed() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        while (true) {
            Set<Integer> running = new TreeSet<>();
            List<Broker> brokers = new ArrayList<>();
            for (GregorNode node : nodes) {
                Broker b = node.broker();
                if (b != null) {
                    running.add(node.id());
                    brokers.add(b);
                }
            }
            boolean formed = true;
            for (Broker b : brokers) {
                formed &= b.liveBrokerIds().equals(running) && running.contains(b.controllerId());
            }
            if (formed) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("The brokers " + running + " did not see each other and a controller within "
                        + START_TIMEOUT_MS + " ms");
            }
            try {
                // ZooKeeper watches reach the brokers within milliseconds
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the cluster to form", e);
            }
        }
    }

    /** Shuts every broker down (controlled), then ZooKeeper, and deletes the temp data. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (int i = nodes.size() - 1; i >= 0; i--) {
            try {
                nodes.get(i).shutdown();
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (zooKeeper != null) {
            zooKeeper.close();
        }
        if (deleteOnClose) {
            deleteRecursively(root);
        }
        if (failure != null) {
            throw failure;
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete " + dir, e);
        }
    }

    @Override
    public String toString() {
        return "GregorCluster(" + nodes + ")";
    }

    /** How to start a cluster; each method returns this builder. */
    public static final class Builder {
        private int brokers = 1;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private Path dataDir;
        private boolean trace = true;

        private Builder() {
        }

        /** How many brokers; more than one runs an in-process ZooKeeper server. */
        public Builder brokers(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("brokers(" + n + "): a cluster needs at least one broker");
            }
            this.brokers = n;
            return this;
        }

        /** Any server.properties key, for every broker; checked at {@link #start()}. */
        public Builder brokerProperty(String key, String value) {
            if (key == null || value == null) {
                throw new IllegalArgumentException("brokerProperty(" + key + ", " + value + "): key and value are required");
            }
            properties.put(key.trim(), value);
            return this;
        }

        /**
         * The brokers' data (broker-ID/ dirs, zookeeper/) go under this dir, which is kept after close();
         * without it, a temp dir is deleted on close().
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /**
         * Whether the brokers record the {@link WireTrace} from their start (the default); without it, only
         * the broker setting {@code gregor.wire.trace.enable} switches it on.
         */
        public Builder trace(boolean on) {
            this.trace = on;
            return this;
        }

        public GregorCluster start() {
            // first: the protocol and transport classes load on another core while this thread starts the
            // logging framework and parses the settings
            TransportPreload.startAsync();
            Map<String, String> common = brokerDefaults(brokers);
            validate(properties);
            common.putAll(properties);
            Path root;
            try {
                root = dataDir != null ? Files.createDirectories(dataDir.toAbsolutePath())
                        : Files.createTempDirectory("gregor-testkit-");
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create the data dir " + dataDir, e);
            }
            boolean deleteOnClose = dataDir == null;
            EmbeddedZooKeeper zooKeeper = null;
            List<GregorNode> nodes = new ArrayList<>();
            GregorCluster cluster = null;
            try {
                if (brokers > 1) {
                    // no ZooKeeper MBeans: creating the JVM's MBean server would delay the brokers' start
                    zooKeeper = EmbeddedZooKeeper.start(root.resolve("zookeeper"), 0, 500, 1000, false);
                    common.put("zookeeper.connect", zooKeeper.connectString());
                }
                for (int id = 0; id < brokers; id++) {
                    Map<String, String> props = new LinkedHashMap<>(common);
                    Path dir = root.resolve("broker-" + id);
                    props.put("broker.id", Integer.toString(id));
                    props.put("listeners", "PLAINTEXT://127.0.0.1:0");
                    props.put("log.dirs", dir.toString());
                    nodes.add(new GregorNode(id, dir, props, trace));
                }
                cluster = new GregorCluster(root, deleteOnClose, zooKeeper, nodes);
                startAll(nodes);
                cluster.awaitClusterFormed();
                return cluster;
            } catch (IOException | RuntimeException e) {
                if (cluster != null) {
                    try {
                        cluster.close();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                } else {
                    if (zooKeeper != null) {
                        zooKeeper.close();
                    }
                    if (deleteOnClose) {
                        deleteRecursively(root);
                    }
                }
                if (e instanceof IOException io) {
                    throw new UncheckedIOException("Cannot start ZooKeeper for the cluster", io);
                }
                throw (RuntimeException) e;
            }
        }

        /**
         * Starts the brokers at once, each on a thread of its own: most of a broker's start is waiting for
         * ZooKeeper and loading classes, which overlap across brokers.
         */
        private static void startAll(List<GregorNode> nodes) {
            if (nodes.size() == 1) {
                nodes.get(0).start();
                return;
            }
            List<Thread> threads = new ArrayList<>();
            List<RuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (GregorNode node : nodes) {
                Thread t = new Thread(() -> {
                    try {
                        node.start();
                    } catch (RuntimeException | Error e) {
                        failures.add(e instanceof RuntimeException r ? r
                                : new IllegalStateException("Broker " + node.id() + " failed to start", e));
                    }
                }, "gregor-testkit-start-" + node.id());
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            try {
                for (Thread t : threads) {
                    t.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the brokers", e);
            }
            if (!failures.isEmpty()) {
                RuntimeException first = failures.get(0);
                failures.subList(1, failures.size()).forEach(first::addSuppressed);
                throw first;
            }
        }

        /** Test-friendly settings sized for the cluster; a test's brokerProperty(...) overrides them. */
        private static Map<String, String> brokerDefaults(int brokers) {
            Map<String, String> props = new LinkedHashMap<>();
            String replication = Integer.toString(Math.min(3, brokers));
            props.put("offsets.topic.replication.factor", replication);
            props.put("transaction.state.log.replication.factor", replication);
            props.put("transaction.state.log.min.isr", Integer.toString(Math.min(2, brokers)));
            // a test's consumer group should not wait 3 s for members that will never come
            props.put("group.initial.rebalance.delay.ms", "0");
            return props;
        }

        private static void validate(Map<String, String> properties) {
            for (String key : properties.keySet()) {
                String why = MANAGED_KEYS.get(key);
                if (why != null) {
                    throw new IllegalArgumentException("Broker property '" + key + "' is set by GregorCluster itself ("
                            + why + ")");
                }
            }
            BrokerConfig parsed;
            try {
                parsed = BrokerConfig.of(properties);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("Invalid broker properties " + properties + ": " + e.getMessage(), e);
            }
            List<String> unknown = parsed.unknownKeys().stream().filter(k -> !k.startsWith("gregor."))
                    .sorted().toList();
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("Not a broker property: " + String.join(", ", unknown)
                        + " (brokerProperty takes server.properties keys, e.g. num.partitions)");
            }
        }
    }
}
