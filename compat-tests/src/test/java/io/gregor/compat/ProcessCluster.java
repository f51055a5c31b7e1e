package io.gregor.compat;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A real ZooKeeper server and brokers 1..N as subprocesses under one chroot, torn down after each test:
 * {@code @RegisterExtension final ProcessCluster cluster = new ProcessCluster();}
 */
final class ProcessCluster implements AfterEachCallback {
    private ZooKeeperTestServer zookeeper;
    private final Map<Integer, BrokerProcess> brokers = new TreeMap<>();
    private String chroot;

    /** Starts brokers 1..size with {@code props}; every broker gets its id, ZooKeeper and an RF-size offsets topic. */
    ProcessCluster start(String name, int size, Map<String, String> props) {
        return start(name, size, props, id -> Map.of());
    }

    /** As above, each broker also with its own {@code perBroker.apply(id)} (its broker.rack, say). */
    ProcessCluster start(String name, int size, Map<String, String> props,
                         java.util.function.IntFunction<Map<String, String>> perBroker) {
        chroot = "/" + name;
        for (int id = 1; id <= size; id++) {
            Map<String, String> all = new TreeMap<>(props);
            all.putAll(perBroker.apply(id));
            all.put("broker.id", Integer.toString(id));
            all.put("zookeeper.connect", zookeeper().connectString() + chroot);
            all.putIfAbsent("offsets.topic.replication.factor", Integer.toString(size));
            brokers.put(id, new BrokerProcess(name + "-" + id, all));
        }
        // the JVMs start side by side, as a real cluster's do; each is registered once it listens
        Concurrently.run(brokers.values().stream()
                .map(b -> (java.util.function.Supplier<BrokerProcess>) b::start).toList());
        return this;
    }

    ZooKeeperTestServer zookeeper() {
        if (zookeeper == null) {
            zookeeper = new ZooKeeperTestServer();
        }
        return zookeeper;
    }

    String chroot() {
        return chroot;
    }

    Map<Integer, BrokerProcess> brokers() {
        return brokers;
    }

    BrokerProcess broker(int id) {
        return brokers.get(id);
    }

    /** The live brokers, as a client's bootstrap.servers. */
    String bootstrap() {
        return brokers.values().stream().filter(BrokerProcess::isAlive).map(BrokerProcess::bootstrapServers)
                .collect(Collectors.joining(","));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        brokers.values().forEach(BrokerProcess::close);
        brokers.clear();
        if (zookeeper != null) {
            zookeeper.close();
            zookeeper = null;
        }
    }
}
