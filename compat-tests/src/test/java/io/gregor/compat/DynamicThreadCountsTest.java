package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Thread counts Kafka resizes at runtime, changed with the stock {@code kafka-configs} tool:
 * {@code num.network.threads} (new connections go to the new threads, open ones keep producing on theirs,
 * the old threads stop once their connections closed) and {@code num.replica.fetchers} (a follower's
 * partitions spread over more fetcher threads and keep catching up); values outside Kafka's bounds are
 * refused with Kafka's messages.
 */
class DynamicThreadCountsTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<Path> dirs = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        dirs.forEach(TestDirs::deleteRecursively);
    }

    private static ToolRunner.Result configs(String bootstrap, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = bootstrap;
        System.arraycopy(args, 0, all, 2, args.length);
        return ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, all);
    }

    private static void assertRefused(ToolRunner.Result result, String... parts) {
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stdout() + result.stderr()).as(result.describe()).contains(parts);
    }

    private static Set<String> names(List<Thread> threads) {
        return threads.stream().map(Thread::getName).collect(Collectors.toSet());
    }

    @Test
    void networkThreadsResizeLiveWhileAnOpenConnectionKeepsProducing() throws Exception {
        TestBroker broker = TestBroker.start("dyn-net", Map.of("num.network.threads", "2"));
        toClose.add(broker);
        String bootstrap = broker.bootstrapServers();
        String topic = TestDirs.uniqueTopic("dyn-net");
        Clients.createTopic(bootstrap, topic, 1);
        KafkaProducer<String, String> open = Clients.producer(bootstrap);
        Clients.get(open.send(new ProducerRecord<>(topic, "open", "0")));
        Set<String> before = names(broker.broker().networkThreads());
        assertThat(before).isNotEmpty().allMatch(n -> n.startsWith("gregor-network-thread-PLAINTEXT-"));

        // the cluster default, which Kafka allows for num.network.threads
        ToolRunner.Result grow = configs(bootstrap, "--entity-type", "brokers", "--entity-default", "--alter",
                "--add-config", "num.network.threads=4");
        assertThat(grow.exitCode()).as(grow.describe()).isZero();

        // new connections land on the four new threads; the open one keeps producing on its own
        List<KafkaProducer<String, String>> fresh = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            KafkaProducer<String, String> p = Clients.producer(bootstrap);
            fresh.add(p);
            Clients.get(p.send(new ProducerRecord<>(topic, "fresh", Integer.toString(i))));
            Clients.get(open.send(new ProducerRecord<>(topic, "open", Integer.toString(i + 1))));
        }
        Set<String> grown = names(broker.broker().networkThreads());
        grown.removeAll(before);
        assertThat(grown).hasSize(4).allMatch(n -> n.startsWith("gregor-network-thread-PLAINTEXT-"));

        // Kafka's bounds: at most double, at least half, at least 1
        assertRefused(configs(bootstrap, "--entity-type", "brokers", "--entity-name", "0", "--alter",
                        "--add-config", "num.network.threads=9"),
                "Dynamic thread count update validation failed for num.network.threads=9, value should not be "
                        + "greater than double the current value 4", "Invalid dynamic configuration");
        assertRefused(configs(bootstrap, "--entity-type", "brokers", "--entity-name", "0", "--alter",
                        "--add-config", "num.network.threads=1"),
                "value should be at least half the current value 4");
        assertRefused(configs(bootstrap, "--entity-type", "brokers", "--entity-name", "0", "--alter",
                "--add-config", "num.network.threads=0"), "num.network.threads");

        // once its last connection closed, an old thread stops
        open.close();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(names(broker.broker().networkThreads())).doesNotContainAnyElementsOf(before));
        for (KafkaProducer<String, String> p : fresh) {
            Clients.get(p.send(new ProducerRecord<>(topic, "fresh", "again")));
            p.close();
        }
    }

    @Test
    void replicaFetchersResizeLiveAndTheFollowerKeepsCatchingUp() throws Exception {
        ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
        toClose.add(zookeeper);
        Map<Integer, Broker> brokers = new TreeMap<>();
        for (int id = 1; id <= 2; id++) {
            Path dir = TestDirs.newDataDir("dyn-fetchers-" + id);
            dirs.add(dir);
            Map<String, String> props = new TreeMap<>();
            props.put("broker.id", Integer.toString(id));
            props.put("listeners", "PLAINTEXT://127.0.0.1:0");
            props.put("log.dirs", dir.toString());
            props.put("zookeeper.connect", zookeeper.connectString() + "/gregor-dyn-fetchers");
            props.put("zookeeper.session.timeout.ms", "6000");
            props.put("offsets.topic.replication.factor", "2");
            props.put("controlled.shutdown.max.retries", "1");
            Broker b = Broker.start(props);
            toClose.add(b);
            brokers.put(id, b);
        }
        String bootstrap = brokers.values().stream().map(Broker::bootstrapServers).collect(Collectors.joining(","));
        String topic = TestDirs.uniqueTopic("dyn-fetchers");
        int partitions = 8;
        Broker follower = brokers.get(2);
        try (Admin admin = Clients.admin(bootstrap)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeCluster().nodes().get().size() == 2);
            // broker 1 leads every partition, broker 2 follows them all
            Map<Integer, List<Integer>> assignment = IntStream.range(0, partitions).boxed()
                    .collect(Collectors.toMap(p -> p, p -> List.of(1, 2)));
            // acks=all then needs the follower's copy: a partition it stopped fetching would fail its sends
            admin.createTopics(List.of(new NewTopic(topic, assignment).configs(Map.of("min.insync.replicas", "2"))))
                    .all().get();
        }
        KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.<String, Object>of("acks", "all",
                "delivery.timeout.ms", 30_000, "request.timeout.ms", 20_000));
        toClose.add(producer);
        for (int p = 0; p < partitions; p++) {
            Clients.get(producer.send(new ProducerRecord<>(topic, p, "k", "before")));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> follower.replicaFetcherThreads().size() == 1);

        ToolRunner.Result grow = configs(bootstrap, "--entity-type", "brokers", "--entity-name", "2", "--alter",
                "--add-config", "num.replica.fetchers=2");
        assertThat(grow.exitCode()).as(grow.describe()).isZero();
        assertThat(names(follower.replicaFetcherThreads())).containsExactlyInAnyOrder(
                "gregor-replica-fetcher-2-0-from-1", "gregor-replica-fetcher-2-1-from-1");
        // every partition keeps replicating through its new fetcher
        for (int p = 0; p < partitions; p++) {
            Clients.get(producer.send(new ProducerRecord<>(topic, p, "k", "after")));
        }

        assertRefused(configs(bootstrap, "--entity-type", "brokers", "--entity-name", "2", "--alter",
                        "--add-config", "num.replica.fetchers=5"),
                "Dynamic thread count update validation failed for num.replica.fetchers=5, value should not be "
                        + "greater than double the current value 2");
        ToolRunner.Result shrink = configs(bootstrap, "--entity-type", "brokers", "--entity-name", "2", "--alter",
                "--delete-config", "num.replica.fetchers");
        assertThat(shrink.exitCode()).as(shrink.describe()).isZero();
        assertThat(names(follower.replicaFetcherThreads())).containsExactly("gregor-replica-fetcher-2-0-from-1");
        for (int p = 0; p < partitions; p++) {
            Clients.get(producer.send(new ProducerRecord<>(topic, p, "k", "shrunk")));
        }
    }
}
