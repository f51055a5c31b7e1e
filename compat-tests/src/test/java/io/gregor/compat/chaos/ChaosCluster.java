package io.gregor.compat.chaos;

import io.gregor.compat.BrokerProcess;
import io.gregor.compat.ZooKeeperTestServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.zookeeper.ZooKeeper;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Three broker JVMs on a real ZooKeeper, each reaching ZooKeeper through its own {@link ZooKeeperProxy} so
 * that one broker can be cut off from ZooKeeper alone.
 */
final class ChaosCluster implements AutoCloseable {
    static final int SIZE = 3;
    static final int ZK_SESSION_TIMEOUT_MS = 6_000;
    /** Internal topics whose partitions must be whole too before a fault counts as healed. */
    static final List<String> INTERNAL_TOPICS = List.of("__consumer_offsets", "__transaction_state");

    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final Map<Integer, BrokerProcess> brokers = new TreeMap<>();
    private final Map<Integer, ZooKeeperProxy> proxies = new TreeMap<>();
    private static final Pattern ISR = Pattern.compile("\"isr\":\\[([^\\]]*)\\]");
    private ZooKeeper zkClient;

    ChaosCluster start() {
        for (int id = 1; id <= SIZE; id++) {
            ZooKeeperProxy proxy = new ZooKeeperProxy("broker-" + id, zookeeper.connectString());
            proxies.put(id, proxy);
            Map<String, String> props = new TreeMap<>();
            props.put("broker.id", Integer.toString(id));
            props.put("zookeeper.connect", proxy.connectString() + "/chaos");
            props.put("zookeeper.session.timeout.ms", Integer.toString(ZK_SESSION_TIMEOUT_MS));
            props.put("replica.lag.time.max.ms", "5000");
            props.put("default.replication.factor", "3");
            props.put("min.insync.replicas", "2");
            props.put("unclean.leader.election.enable", "false");
            props.put("offsets.topic.replication.factor", "3");
            props.put("offsets.topic.num.partitions", "5");
            props.put("transaction.state.log.replication.factor", "3");
            props.put("transaction.state.log.min.isr", "2");
            props.put("transaction.state.log.num.partitions", "5");
            props.put("group.initial.rebalance.delay.ms", "0");
            brokers.put(id, new BrokerProcess("chaos-" + id, props));
        }
        // the first broker creates the chroot; the others join it
        brokers.values().forEach(BrokerProcess::start);
        return this;
    }

    Map<Integer, BrokerProcess> brokers() {
        return brokers;
    }

    BrokerProcess broker(int id) {
        return brokers.get(id);
    }

    ZooKeeperProxy proxy(int id) {
        return proxies.get(id);
    }

    /** Every broker's address, dead or alive: clients find the live ones. */
    String bootstrap() {
        return brokers.values().stream().map(BrokerProcess::bootstrapServers).collect(Collectors.joining(","));
    }

    Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
    }

    /**
     * Null when every broker is registered and every partition of {@code topics} has a leader and all three
     * replicas in sync, both in ZooKeeper (the controller's truth) and in the metadata clients get; otherwise
     * what is still missing. ZooKeeper is asked too because a broker that was cut off from it keeps answering
     * with its old, whole-looking metadata until it learns that its session expired.
     * The internal topics count too, in ZooKeeper: a broker that led a {@code __consumer_offsets} partition
     * before it was cut off goes on answering as that group's coordinator, from its stale cache, until the
     * controller makes it a follower, and only then can it be back in the partition's ISR. A broker that
     * led none of {@code topics}' partitions would otherwise look healed before that.
     */
    String unhealthy(Admin admin, List<String> topics) {
        try {
            List<String> zkTopics = new ArrayList<>(topics);
            zkTopics.addAll(INTERNAL_TOPICS);
            String zkProblem = unhealthyInZooKeeper(zkTopics);
            if (zkProblem != null) {
                return zkProblem;
            }
            int nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
            if (nodes != SIZE) {
                return nodes + " brokers registered";
            }
            List<String> problems = new ArrayList<>();
            for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS).values()) {
                for (TopicPartitionInfo p : d.partitions()) {
                    if (p.leader() == null || p.leader().isEmpty() || p.isr().size() != SIZE) {
                        problems.add(d.name() + "-" + p.partition() + " leader " + (p.leader() == null ? "none"
                                : p.leader().idString()) + " isr " + p.isr().stream().map(n -> n.idString()).toList());
                    }
                }
            }
            return problems.isEmpty() ? null : String.join(", ", problems);
        } catch (Exception e) {
            return e.toString();
        }
    }

    private String unhealthyInZooKeeper(List<String> topics) throws Exception {
        if (zkClient == null) {
            zkClient = zookeeper.client("/chaos");
        }
        int registered = zkClient.getChildren("/brokers/ids", false).size();
        if (registered != SIZE) {
            return "ZooKeeper: " + registered + " brokers registered";
        }
        List<String> problems = new ArrayList<>();
        for (String topic : topics) {
            String partitions = "/brokers/topics/" + topic + "/partitions";
            if (INTERNAL_TOPICS.contains(topic) && zkClient.exists(partitions, false) == null) {
                continue; // not created yet: no client has used groups or transactions so far
            }
            for (String p : zkClient.getChildren(partitions, false)) {
                String state = new String(zkClient.getData(partitions + "/" + p + "/state", false, null),
                        StandardCharsets.UTF_8);
                Matcher isr = ISR.matcher(state);
                if (!isr.find() || isr.group(1).split(",").length != SIZE) {
                    problems.add(topic + "-" + p + " " + state);
                }
            }
        }
        return problems.isEmpty() ? null : "ZooKeeper: " + String.join(", ", problems);
    }

    @Override
    public void close() {
        if (zkClient != null) {
            try {
                zkClient.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        brokers.values().forEach(b -> {
            try {
                if (b.isAlive()) {
                    b.resume();
                }
            } catch (RuntimeException ignored) {
                // it died meanwhile
            }
            b.close();
        });
        proxies.values().forEach(ZooKeeperProxy::close);
        zookeeper.close();
    }
}
