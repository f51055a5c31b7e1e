package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.broker.zk.Json;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console of each broker of a three-broker ZooKeeper cluster: every broker lists the live brokers and
 * the controller; partitions show the leader, replicas and ISR the cluster agreed on; a partition not held
 * by a broker is shown without offsets there, and producing to one it does not lead is refused with 409.
 */
class ConsoleClusterTest {
    private static final String CHROOT = "/gregor-console";
    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<java.nio.file.Path> dirs = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        for (Broker b : brokers) {
            b.close();
        }
        zookeeper.close();
        dirs.forEach(TestDirs::deleteRecursively);
    }

    private Broker startBroker(int id) {
        java.nio.file.Path dir = TestDirs.newDataDir("console-cluster-" + id);
        dirs.add(dir);
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("zookeeper.connect", zookeeper.connectString() + CHROOT);
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("offsets.topic.replication.factor", "3");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("gregor.http.listener", "127.0.0.1:0");
        Broker b = Broker.start(props);
        brokers.add(b);
        return b;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> get(Broker b, String path) throws Exception {
        HttpResponse<String> r = call(b, "GET", path, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return (Map<String, Object>) Json.parse(r.body());
    }

    private HttpResponse<String> call(Broker b, String method, String path, String body) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + b.controlEndpointAddress().orElseThrow().getPort() + path);
        return http.send(HttpRequest.newBuilder(uri).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }

    @Test
    void everyBrokersConsoleShowsTheClusterAsItAgreed() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String bootstrap = brokers.stream().map(Broker::bootstrapServers).collect(Collectors.joining(","));
        String replicated = TestDirs.uniqueTopic("console-rf3");
        String single = TestDirs.uniqueTopic("console-rf1");
        Map<String, TopicDescription> described;
        try (Admin admin = Clients.admin(bootstrap)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            Clients.get(admin.createTopics(List.of(new NewTopic(replicated, 3, (short) 3), new NewTopic(single, 3, (short) 1))).all());
            await().atMost(Duration.ofSeconds(30)).until(() -> Clients.get(admin.describeTopics(List.of(replicated)).allTopicNames())
                    .get(replicated).partitions().stream().allMatch(p -> p.isr().size() == 3));
            described = Clients.get(admin.describeTopics(List.of(replicated, single)).allTopicNames());
        }

        for (Broker b : brokers) {
            Map<String, Object> cluster = get(b, "/api/cluster");
            assertThat(list(cluster.get("brokers"))).extracting(m -> m.get("id")).containsExactly(1L, 2L, 3L);
            assertThat(cluster.get("controllerId")).isEqualTo((long) b.controllerId());
            assertThat(cluster).containsEntry("zooKeeper", true).containsEntry("brokerId", (long) b.brokerId());

            List<Map<String, Object>> partitions = list(get(b, "/api/topics/" + replicated).get("partitionDetails"));
            for (TopicPartitionInfo p : described.get(replicated).partitions()) {
                Map<String, Object> shown = partitions.get(p.partition());
                assertThat(shown).containsEntry("leader", (long) p.leader().id()).containsEntry("hosted", true);
                assertThat(list(shown.get("replicas"))).hasSize(3);
                assertThat((List<Object>) (List<?>) shown.get("isr")).hasSize(3);
            }
            List<Map<String, Object>> singles = list(get(b, "/api/topics/" + single).get("partitionDetails"));
            for (TopicPartitionInfo p : described.get(single).partitions()) {
                Map<String, Object> shown = singles.get(p.partition());
                boolean here = p.leader().id() == b.brokerId();
                assertThat(shown).as("broker %d: %s", b.brokerId(), p).containsEntry("leader", (long) p.leader().id())
                        .containsEntry("hosted", here);
                if (!here) {
                    assertThat(shown).containsEntry("logEndOffset", -1L);
                    HttpResponse<String> refused = call(b, "POST", "/api/topics/" + single + "/records",
                            "{\"partition\":" + p.partition() + ",\"value\":\"v\"}");
                    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
                    assertThat(refused.body()).contains("does not lead");
                }
            }
        }

        // produced through the console of the partition's leader, read by a stock consumer
        TopicPartitionInfo p0 = described.get(single).partitions().get(0);
        Broker leader = brokers.stream().filter(b -> b.brokerId() == p0.leader().id()).findFirst().orElseThrow();
        HttpResponse<String> produced = call(leader, "POST", "/api/topics/" + single + "/records",
                "{\"partition\":0,\"key\":\"k\",\"value\":\"via the leader's console\"}");
        assertThat(produced.statusCode()).as(produced.body()).isEqualTo(201);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap)) {
            List<ConsumerRecord<String, String>> read = Clients.readFromBeginning(consumer,
                    List.of(new TopicPartition(single, 0)), 1);
            assertThat(read).extracting(ConsumerRecord::value).containsExactly("via the leader's console");
        }

        // closed one after another, as leaderships move to the brokers still running: no replica fetcher
        // outlives its broker (a state change arriving during a shutdown used to start one that never stopped)
        for (Broker b : brokers) {
            b.close();
        }
        await("replica fetchers stopped").atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(Thread.getAllStackTraces().keySet()).filteredOn(t -> !before.contains(t) && t.isAlive())
                        .extracting(Thread::getName).noneMatch(name -> name.startsWith("gregor-replica-fetcher-")));
    }
}
