package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Group configs (Kafka's GROUP config resource) with the stock {@code kafka-configs} tool and Admin client: set,
 * described with Kafka's sources and synonyms, kept across a restart, refused with Kafka's errors outside the
 * broker's bounds, and obeyed by a consumer-protocol group (its own session timeout and heartbeat interval).
 */
class GroupConfigTest {
    private TestBroker broker;

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Map<String, String> overrides() {
        Map<String, String> o = new HashMap<>(GroupTestSupport.BROKER_OVERRIDES);
        // bounds low enough for a group to choose a session of seconds; the broker's own default stays Kafka's 45 s
        o.put("group.consumer.min.session.timeout.ms", "1000");
        o.put("group.consumer.min.heartbeat.interval.ms", "100");
        o.put("group.consumer.max.session.timeout.ms", "60000");
        return o;
    }

    private ToolRunner.Result configs(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = broker.bootstrapServers();
        System.arraycopy(args, 0, all, 2, args.length);
        return ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, all);
    }

    private static ToolRunner.Result succeeded(ToolRunner.Result result) {
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    private static Config describe(Admin admin, String group) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
        return admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().includeSynonyms(true))
                .all().get(30, TimeUnit.SECONDS).get(resource);
    }

    @Test
    void kafkaConfigsAltersAndDescribesAGroupAndTheConfigSurvivesARestart() throws Exception {
        broker = TestBroker.start("groupcfg-tool", overrides());
        String group = "cfg-" + Uuid.randomUuid();

        ToolRunner.Result alter = succeeded(configs("--entity-type", "groups", "--entity-name", group, "--alter",
                "--add-config", "consumer.session.timeout.ms=50000,share.isolation.level=read_committed"));
        assertThat(alter.stdout()).as(alter.describe()).contains("Completed updating config for group " + group + ".");

        ToolRunner.Result described = succeeded(configs("--entity-type", "groups", "--entity-name", group,
                "--describe"));
        assertThat(described.stdout()).as(described.describe()).contains(
                "Dynamic configs for group " + group + " are:",
                "consumer.session.timeout.ms=50000 sensitive=false synonyms={DYNAMIC_GROUP_CONFIG:"
                        + "consumer.session.timeout.ms=50000, DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}",
                "share.isolation.level=read_committed sensitive=false synonyms={DYNAMIC_GROUP_CONFIG:"
                        + "share.isolation.level=read_committed, DEFAULT_CONFIG:share.isolation.level=read_uncommitted}");
        // only the group's own values are "dynamic"
        assertThat(described.stdout()).doesNotContain("consumer.heartbeat.interval.ms");
        // without a name the tool lists the groups with configs (ListConfigResources), here one that has no members
        ToolRunner.Result all = succeeded(configs("--entity-type", "groups", "--describe"));
        assertThat(all.stdout()).as(all.describe()).contains("Dynamic configs for group " + group + " are:",
                "consumer.session.timeout.ms=50000");
        ToolRunner.Result unknown = succeeded(configs("--entity-type", "groups", "--entity-name", "no-such-group",
                "--describe"));
        assertThat(unknown.stdout()).as(unknown.describe())
                .contains("The group 'no-such-group' doesn't exist and doesn't have dynamic config.");

        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            Config config = describe(admin, group);
            assertThat(config.get("consumer.session.timeout.ms").source()).isEqualTo(ConfigSource.DYNAMIC_GROUP_CONFIG);
            ConfigEntry heartbeat = config.get("consumer.heartbeat.interval.ms");
            assertThat(heartbeat.value()).isEqualTo("5000");
            assertThat(heartbeat.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
            assertThat(heartbeat.synonyms()).extracting(ConfigEntry.ConfigSynonym::name)
                    .containsExactly("group.consumer.heartbeat.interval.ms");
            assertThat(config.get("share.auto.offset.reset").value()).isEqualTo("latest");
            assertThat(config.get("share.record.lock.duration.ms").value()).isEqualTo("30000");
            // internal keys of Kafka's GroupConfig are left out unless set
            assertThat(config.get("consumer.assignor.offload.enable")).isNull();
        }

        broker.restart();
        assertThat(succeeded(configs("--entity-type", "groups", "--entity-name", group, "--describe")).stdout())
                .contains("consumer.session.timeout.ms=50000", "share.isolation.level=read_committed");

        succeeded(configs("--entity-type", "groups", "--entity-name", group, "--alter", "--delete-config",
                "share.isolation.level"));
        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            Config config = describe(admin, group);
            assertThat(config.get("share.isolation.level").value()).isEqualTo("read_uncommitted");
            assertThat(config.get("share.isolation.level").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
            assertThat(config.get("consumer.session.timeout.ms").value()).isEqualTo("50000");
        }
    }

    @Test
    void valuesOutsideTheBrokersBoundsAndUnknownKeysGetKafkasErrors() throws Exception {
        broker = TestBroker.start("groupcfg-bad", overrides());
        String group = "cfg-bad-" + Uuid.randomUuid();

        ToolRunner.Result tooShort = configs("--entity-type", "groups", "--entity-name", group, "--alter",
                "--add-config", "consumer.session.timeout.ms=500");
        assertThat(tooShort.exitCode()).as(tooShort.describe()).isNotZero();
        assertThat(tooShort.stdout() + tooShort.stderr()).as(tooShort.describe()).contains("InvalidConfigurationException",
                "consumer.session.timeout.ms must be in the range 1000 to 60000 inclusive.");

        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            assertThat(alterError(admin, group, "share.record.lock.duration.ms", "10000"))
                    .isInstanceOf(InvalidConfigurationException.class)
                    .hasMessageContaining("share.record.lock.duration.ms must be in the range 15000 to 60000 inclusive.");
            assertThat(alterError(admin, group, "no.such.key", "1")).isInstanceOf(InvalidConfigurationException.class)
                    .hasMessageContaining("Unknown group config name: no.such.key");
            assertThat(alterError(admin, group, "share.isolation.level", "dirty"))
                    .isInstanceOf(InvalidConfigurationException.class)
                    .hasMessageContaining("Invalid value dirty for configuration share.isolation.level: "
                            + "String must be one of: read_committed, read_uncommitted");
            assertThat(alterError(admin, group, "consumer.heartbeat.interval.ms", "often"))
                    .isInstanceOf(InvalidConfigurationException.class)
                    .hasMessageContaining("Not a number of type INT");
            // each within its bounds, but the session not longer than the heartbeat interval
            assertThat(alterError(admin, group, Map.of("consumer.session.timeout.ms", "1000",
                    "consumer.heartbeat.interval.ms", "1000"))).isInstanceOf(InvalidConfigurationException.class)
                    .hasMessageContaining("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms");
            assertThat(alterError(admin, "", "consumer.session.timeout.ms", "50000"))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("Default group resources are not allowed.");

            // nothing refused was kept
            Config config = describe(admin, group);
            assertThat(config.entries()).noneMatch(e -> e.source() == ConfigSource.DYNAMIC_GROUP_CONFIG);
        }
    }

    private static Throwable alterError(Admin admin, String group, String key, String value) {
        return alterError(admin, group, Map.of(key, value));
    }

    private static Throwable alterError(Admin admin, String group, Map<String, String> values) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
        List<AlterConfigOp> ops = values.entrySet().stream()
                .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET)).toList();
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(30, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void aConsumerGroupsOwnSessionTimeoutFencesASilentMember() throws Exception {
        broker = TestBroker.start("groupcfg-session", overrides());
        String topic = "groupcfg-session";
        String group = "cfg-session-" + Uuid.randomUuid();
        GroupTestSupport.createTopic(broker.bootstrapServers(), topic, 2);
        try (Admin admin = GroupTestSupport.admin(broker.bootstrapServers())) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), List.of(
                    new AlterConfigOp(new ConfigEntry("consumer.session.timeout.ms", "2000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("consumer.heartbeat.interval.ms", "500"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            // FindCoordinator makes __consumer_offsets exist and be led here before the raw requests
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);

            String memberId = Uuid.randomUuid().toString();
            long joinedAt;
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.port(), Duration.ofSeconds(10))) {
                // taken before the request: the broker's session starts when it handles the join
                joinedAt = System.nanoTime();
                ConsumerGroupHeartbeatResponseData joined = raw.roundTrip(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                        new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(memberId).setMemberEpoch(0)
                                .setRebalanceTimeoutMs(60_000).setSubscribedTopicNames(List.of(topic))
                                .setTopicPartitions(List.of()),
                        ConsumerGroupHeartbeatResponseData::new);
                assertThat(joined.errorCode()).as(joined.toString()).isEqualTo(Errors.NONE.code());
                // the group's interval, not the broker's 5 s
                assertThat(joined.heartbeatIntervalMs()).isEqualTo(500);
            }
            assertThat(members(admin, group)).isEqualTo(1);

            // the member stays silent: the group's 2 s session ends it, long before the broker's 45 s would
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> members(admin, group) == 0);
            long fencedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joinedAt);
            assertThat(fencedAfterMs).isGreaterThanOrEqualTo(1_900).isLessThan(20_000);
        }
    }

    private static int members(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members().size();
    }
}
