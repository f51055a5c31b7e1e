package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Group configs in a ZooKeeper cluster: set through one broker, they land in {@code /config/groups/<group>} with a
 * {@code /config/changes} notification, and the other broker describes them and its group coordinator obeys them.
 */
class ClusterGroupConfigTest {
    private static final String CHROOT = "/gregor-groupcfg";
    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final Map<Integer, Broker> brokers = new TreeMap<>();
    private final List<Path> dirs = new ArrayList<>();

    @AfterEach
    void stop() {
        brokers.values().forEach(Broker::close);
        zookeeper.close();
        dirs.forEach(TestDirs::deleteRecursively);
    }

    private void startBroker(int id) {
        Path dir = TestDirs.newDataDir("groupcfg-cluster-" + id);
        dirs.add(dir);
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("zookeeper.connect", zookeeper.connectString() + CHROOT);
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("offsets.topic.replication.factor", "2");
        props.put("controlled.shutdown.max.retries", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("group.consumer.min.heartbeat.interval.ms", "100");
        brokers.put(id, Broker.start(props));
    }

    private static int portOf(Broker broker) {
        String bootstrap = broker.bootstrapServers();
        return Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    }

    @Test
    void aGroupConfigSetThroughOneBrokerIsDescribedAndObeyedByTheOther() throws Exception {
        startBroker(1);
        startBroker(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> brokers.values().stream()
                .allMatch(b -> b.liveBrokerIds().size() == 2));
        String topic = TestDirs.uniqueTopic("groupcfg-cluster");
        String group = "cluster-cfg-" + Uuid.randomUuid();
        int coordinatorId;
        try (Admin admin = Clients.admin(brokers.get(1).bootstrapServers() + "," + brokers.get(2).bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 2))).all().get(30, TimeUnit.SECONDS);
        }
        // FindCoordinator creates __consumer_offsets; asked until its partitions have leaders
        int[] found = {-1};
        try (RawKafkaConnection raw = new RawKafkaConnection(portOf(brokers.get(1)), Duration.ofSeconds(10))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                FindCoordinatorResponseData response = raw.roundTrip(ApiKeys.FIND_COORDINATOR, (short) 4,
                        new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of(group)),
                        FindCoordinatorResponseData::new);
                FindCoordinatorResponseData.Coordinator c = response.coordinators().get(0);
                found[0] = c.errorCode() == Errors.NONE.code() ? c.nodeId() : -1;
                return found[0] > 0;
            });
        }
        coordinatorId = found[0];
        Broker coordinator = brokers.get(coordinatorId);
        Broker other = brokers.get(coordinatorId == 1 ? 2 : 1);

        // set through the broker that does not coordinate the group
        ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
        try (Admin admin = Clients.admin(other.bootstrapServers())) {
            admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("consumer.heartbeat.interval.ms", "700"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
        }

        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            assertThat(new String(zk.getData("/config/groups/" + group, false, null), StandardCharsets.UTF_8))
                    .isEqualTo("{\"version\":1,\"config\":{\"consumer.heartbeat.interval.ms\":\"700\","
                            + "\"share.auto.offset.reset\":\"earliest\"}}");
            List<String> changes = new ArrayList<>();
            for (String change : zk.getChildren("/config/changes", false)) {
                changes.add(new String(zk.getData("/config/changes/" + change, false, null), StandardCharsets.UTF_8));
            }
            assertThat(changes).contains("{\"version\":2,\"entity_path\":\"groups/" + group + "\"}");
        }

        // the coordinating broker describes the value and hands it to its members
        try (Admin admin = Clients.admin(coordinator.bootstrapServers())) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(admin.describeConfigs(List.of(resource))
                    .all().get(10, TimeUnit.SECONDS).get(resource).get("consumer.heartbeat.interval.ms").value())
                    .isEqualTo("700"));
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(portOf(coordinator), Duration.ofSeconds(10))) {
            ConsumerGroupHeartbeatResponseData[] joined = {null};
            // the coordinator may still be loading its __consumer_offsets partition
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                joined[0] = raw.roundTrip(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                        new ConsumerGroupHeartbeatRequestData().setGroupId(group)
                                .setMemberId(Uuid.randomUuid().toString()).setMemberEpoch(0)
                                .setRebalanceTimeoutMs(60_000).setSubscribedTopicNames(List.of(topic))
                                .setTopicPartitions(List.of()),
                        ConsumerGroupHeartbeatResponseData::new);
                return joined[0].errorCode() == Errors.NONE.code();
            });
            assertThat(joined[0].heartbeatIntervalMs()).isEqualTo(700);
        }
    }
}
