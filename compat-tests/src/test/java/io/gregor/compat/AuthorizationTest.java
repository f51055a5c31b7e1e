package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.config.ConfigException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * ACL authorization as Kafka has it, over SASL_PLAINTEXT with PLAIN users, driven by the stock {@code kafka-acls}
 * tool and seen by stock clients: {@code admin} is a super user, {@code alice}, {@code bob} and {@code carol} get
 * only what the ACLs grant (allow.everyone.if.no.acl.found=false).
 */
class AuthorizationTest {
    private static final String ACL_COMMAND = "org.apache.kafka.tools.AclCommand";
    private static final String PLAIN_JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\" "
            + "user_bob=\"bob-secret\" user_carol=\"carol-secret\";";

    private static Path dir;
    private static Broker broker;
    private static Path adminConfig;

    @BeforeAll
    static void start() throws IOException {
        dir = TestDirs.newDataDir("authorization");
        broker = Broker.start(brokerProps(dir));
        adminConfig = dir.resolve("admin.properties");
        StringBuilder text = new StringBuilder();
        sasl("admin").forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(adminConfig, text.toString());
    }

    private static Map<String, String> brokerProps(Path dir) {
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", "0");
        props.put("log.dirs", dir.resolve("data").toString());
        props.put("listeners", "SASL_PLAINTEXT://127.0.0.1:0");
        props.put("inter.broker.listener.name", "SASL_PLAINTEXT");
        props.put("sasl.enabled.mechanisms", "PLAIN");
        props.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        props.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_JAAS);
        props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        props.put("super.users", "User:admin");
        props.put("offsets.topic.replication.factor", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        return props;
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        TestDirs.deleteRecursively(dir);
    }

    private static Map<String, Object> sasl(String user) {
        Map<String, Object> props = new HashMap<>();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put("security.protocol", "SASL_PLAINTEXT");
        props.put("sasl.mechanism", "PLAIN");
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + user + "\" password=\"" + user + "-secret\";");
        return props;
    }

    private static Admin admin(String user) {
        Map<String, Object> props = sasl(user);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        return Admin.create(props);
    }

    private static KafkaProducer<String, String> producer(String user, Map<String, Object> extra) {
        Map<String, Object> props = sasl(user);
        props.put("max.block.ms", 10_000);
        props.put("delivery.timeout.ms", 15_000);
        props.put("request.timeout.ms", 10_000);
        props.putAll(extra);
        return Clients.producer(broker.bootstrapServers(), props);
    }

    private static KafkaConsumer<String, String> consumer(String user, Map<String, Object> extra) {
        Map<String, Object> props = sasl(user);
        props.put("default.api.timeout.ms", 15_000);
        props.put("request.timeout.ms", 10_000);
        props.putAll(extra);
        return Clients.consumer(broker.bootstrapServers(), props);
    }

    /** kafka-acls as the super user; fails the test unless it exits 0. */
    private static ToolRunner.Result acls(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers(),
                "--command-config", adminConfig.toString()));
        all.addAll(List.of(args));
        ToolRunner.Result result = ToolRunner.runTool(ACL_COMMAND, all.toArray(String[]::new));
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    private static String topic(String prefix) {
        String name = TestDirs.uniqueTopic(prefix);
        try (Admin admin = admin("admin")) {
            Clients.createTopic(admin, name, 1, Map.of());
        }
        return name;
    }

    private static void produce(String user, String topic, Map<String, Object> extra) {
        try (KafkaProducer<String, String> producer = producer(user, extra)) {
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, "k", "v")));
        }
    }

    @Test
    void aUserWithoutAclsIsRefusedAndLearnsNothing() {
        String existing = topic("acl-hidden");
        String missing = TestDirs.uniqueTopic("acl-missing");
        produce("admin", existing, Map.of());
        try (Admin bob = admin("bob"); Admin admin = admin("admin")) {
            // Metadata for all topics hides what bob may not describe; the super user sees it
            assertThat(Clients.get(bob.listTopics().names())).doesNotContain(existing);
            assertThat(Clients.get(admin.listTopics().names())).contains(existing);
            // an existing and a missing topic are refused alike: bob cannot tell them apart
            assertThatThrownBy(() -> Clients.get(bob.describeTopics(List.of(existing)).allTopicNames()))
                    .isInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> Clients.get(bob.describeTopics(List.of(missing)).allTopicNames()))
                    .isInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> Clients.get(bob.createTopics(List.of(
                    new org.apache.kafka.clients.admin.NewTopic(missing, 1, (short) 1))).all()))
                    .isInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> Clients.get(bob.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY).values()))
                    .isInstanceOf(ClusterAuthorizationException.class);
            assertThatThrownBy(() -> Clients.get(bob.createAcls(List.of(new AclBinding(
                    new ResourcePattern(ResourceType.TOPIC, existing, PatternType.LITERAL),
                    new AccessControlEntry("User:bob", "*", AclOperation.ALL, AclPermissionType.ALLOW)))).all()))
                    .isInstanceOf(ClusterAuthorizationException.class);
        }
        assertThatThrownBy(() -> produce("bob", existing, Map.of("enable.idempotence", false, "acks", "1")))
                .isInstanceOf(TopicAuthorizationException.class);
        // nor is the missing topic auto-created for him
        assertThatThrownBy(() -> produce("bob", missing, Map.of("enable.idempotence", false, "acks", "1")))
                .isInstanceOf(TopicAuthorizationException.class);
        try (KafkaConsumer<String, String> consumer = consumer("bob", Map.of())) {
            consumer.assign(Clients.partitions(existing, 1));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(5))).isInstanceOf(TopicAuthorizationException.class);
        }
        try (Admin admin = admin("admin")) {
            assertThat(Clients.get(admin.listTopics().names())).doesNotContain(missing);
        }
    }

    @Test
    void grantsPerOperationAndPrefix() {
        String prefix = TestDirs.uniqueTopic("orders") + "-";
        String orders = topic(prefix + "eu");
        String other = topic("payments");
        // WRITE on every topic starting with the prefix: enough for an idempotent producer too (KIP-679)
        ToolRunner.Result added = acls("--add", "--allow-principal", "User:alice", "--operation", "Write",
                "--topic", prefix, "--resource-pattern-type", "prefixed");
        assertThat(added.stdout()).contains("PREFIXED").contains("User:alice").contains("WRITE");
        produce("alice", orders, Map.of());
        assertThatThrownBy(() -> produce("alice", other, Map.of("enable.idempotence", false)))
                .isInstanceOf(TopicAuthorizationException.class);
        // WRITE implies DESCRIBE, not READ
        try (KafkaConsumer<String, String> consumer = consumer("alice", Map.of())) {
            assertThat(consumer.partitionsFor(orders)).hasSize(1);
            consumer.assign(Clients.partitions(orders, 1));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(5))).isInstanceOf(TopicAuthorizationException.class);
        }
        acls("--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", orders);
        try (KafkaConsumer<String, String> consumer = consumer("alice", Map.of())) {
            assertThat(Clients.readFromBeginning(consumer, Clients.partitions(orders, 1), 1)).hasSize(1);
        }
        try (Admin alice = admin("alice")) {
            // what Admin reports as alice's authorized operations on the topic
            assertThat(Clients.get(alice.describeTopics(List.of(orders),
                            new org.apache.kafka.clients.admin.DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .allTopicNames()).get(orders).authorizedOperations())
                    .containsExactlyInAnyOrder(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE);
        }
        ToolRunner.Result listed = acls("--list", "--topic", orders);
        assertThat(listed.stdout()).contains("User:alice").contains("READ");
        ToolRunner.Result listedPrincipal = acls("--list", "--principal", "User:alice");
        assertThat(listedPrincipal.stdout()).contains(orders).contains(prefix);
    }

    @Test
    void denyOverridesAllowAndDeletingAnAclTakesEffect() {
        String topic = topic("acl-deny");
        produce("admin", topic, Map.of());
        acls("--add", "--allow-principal", "User:*", "--operation", "All", "--topic", topic);
        acls("--add", "--deny-principal", "User:bob", "--operation", "Write", "--topic", topic);
        // User:* may do everything, but bob's DENY wins for writes; his reads are still allowed
        assertThatThrownBy(() -> produce("bob", topic, Map.of("enable.idempotence", false)))
                .isInstanceOf(TopicAuthorizationException.class);
        produce("carol", topic, Map.of("enable.idempotence", false));
        try (KafkaConsumer<String, String> consumer = consumer("bob", Map.of())) {
            assertThat(Clients.readFromBeginning(consumer, Clients.partitions(topic, 1), 2)).hasSize(2);
        }
        // removing the DENY lets bob write; removing the ALLOW refuses carol again
        acls("--remove", "--force", "--deny-principal", "User:bob", "--operation", "Write", "--topic", topic);
        produce("bob", topic, Map.of("enable.idempotence", false));
        acls("--remove", "--force", "--allow-principal", "User:*", "--operation", "All", "--topic", topic);
        assertThatThrownBy(() -> produce("carol", topic, Map.of("enable.idempotence", false)))
                .isInstanceOf(TopicAuthorizationException.class);
        assertThat(acls("--list", "--topic", topic).stdout()).doesNotContain("User:");
    }

    @Test
    void consumerGroupsNeedReadOnTheGroup() {
        String topic = topic("acl-group");
        String group = "acl-group-" + topic;
        produce("admin", topic, Map.of());
        acls("--add", "--allow-principal", "User:carol", "--operation", "Read", "--topic", topic);
        Map<String, Object> grouped = Map.of("group.id", group, "enable.auto.commit", false);
        try (KafkaConsumer<String, String> consumer = consumer("carol", grouped)) {
            consumer.subscribe(List.of(topic));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(5))).isInstanceOf(GroupAuthorizationException.class);
        }
        // the tool's --consumer convenience: READ and DESCRIBE on the topic, READ on the group
        acls("--add", "--allow-principal", "User:carol", "--consumer", "--topic", topic, "--group", group);
        try (KafkaConsumer<String, String> consumer = consumer("carol", grouped)) {
            consumer.subscribe(List.of(topic));
            assertThat(Clients.pollUntil(consumer, 1)).hasSize(1);
            consumer.commitSync();
        }
        try (Admin carol = admin("carol"); Admin bob = admin("bob")) {
            assertThat(Clients.get(carol.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()))
                    .containsKey(new org.apache.kafka.common.TopicPartition(topic, 0));
            // groups bob may not describe are not listed to him
            assertThat(Clients.get(bob.listGroups().all())).noneMatch(g -> g.groupId().equals(group));
            assertThatThrownBy(() -> Clients.get(bob.describeConsumerGroups(List.of(group)).all()))
                    .isInstanceOf(GroupAuthorizationException.class);
        }
    }

    @Test
    void consumerProtocolGroupsAndClientQuotasAreAuthorizedToo() {
        String topic = topic("acl-kip848");
        String group = "acl-kip848-" + topic;
        produce("admin", topic, Map.of());
        acls("--add", "--allow-principal", "User:carol", "--operation", "Read", "--topic", topic);
        Map<String, Object> grouped = Map.of("group.id", group, "group.protocol", "consumer",
                "enable.auto.commit", false);
        try (KafkaConsumer<String, String> consumer = consumer("carol", grouped)) {
            consumer.subscribe(List.of(topic));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(5))).isInstanceOf(GroupAuthorizationException.class);
        }
        acls("--add", "--allow-principal", "User:carol", "--operation", "Read", "--group", group);
        try (KafkaConsumer<String, String> consumer = consumer("carol", grouped)) {
            consumer.subscribe(List.of(topic));
            assertThat(Clients.pollUntil(consumer, 1)).hasSize(1);
        }
        // client quotas are cluster configs: DESCRIBE_CONFIGS on the cluster to read them
        try (Admin bob = admin("bob"); Admin admin = admin("admin")) {
            assertThatThrownBy(() -> Clients.get(bob.describeClientQuotas(
                    org.apache.kafka.common.quota.ClientQuotaFilter.all()).entities()))
                    .isInstanceOf(org.apache.kafka.common.errors.ClusterAuthorizationException.class);
            Clients.get(admin.describeClientQuotas(org.apache.kafka.common.quota.ClientQuotaFilter.all()).entities());
        }
    }

    @Test
    void transactionalProducersNeedWriteOnTheTransactionalId() {
        String topic = topic("acl-txn");
        String transactionalId = "acl-txn-" + topic;
        // the tool's --producer convenience without a transactional id: WRITE, DESCRIBE and CREATE on the topic
        acls("--add", "--allow-principal", "User:alice", "--producer", "--topic", topic);
        Map<String, Object> transactional = Map.of("transactional.id", transactionalId);
        try (KafkaProducer<String, String> producer = producer("alice", transactional)) {
            assertThatThrownBy(producer::initTransactions).isInstanceOf(TransactionalIdAuthorizationException.class);
        }
        acls("--add", "--allow-principal", "User:alice", "--producer", "--topic", topic,
                "--transactional-id", transactionalId);
        try (KafkaProducer<String, String> producer = producer("alice", transactional)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "in-txn"));
            producer.commitTransaction();
        }
        try (KafkaConsumer<String, String> consumer = consumer("admin", Map.of("isolation.level", "read_committed"))) {
            assertThat(Clients.readFromBeginning(consumer, Clients.partitions(topic, 1), 1))
                    .extracting(r -> r.value()).containsExactly("in-txn");
        }
    }

    @Test
    void superUsersBypassEveryAcl() {
        String topic = topic("acl-super");
        acls("--add", "--deny-principal", "User:*", "--operation", "All", "--topic", topic);
        produce("admin", topic, Map.of());
        try (KafkaConsumer<String, String> consumer = consumer("admin", Map.of())) {
            assertThat(Clients.readFromBeginning(consumer, Clients.partitions(topic, 1), 1)).hasSize(1);
        }
        assertThatThrownBy(() -> produce("alice", topic, Map.of("enable.idempotence", false)))
                .isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aclsOutliveARestartAndAnUnknownAuthorizerFailsTheStart() {
        Path restartDir = TestDirs.newDataDir("authorization-restart");
        try {
            Broker first = Broker.start(brokerProps(restartDir));
            try (Admin admin = Admin.create(withBootstrap(first, "admin"))) {
                Clients.get(admin.createAcls(List.of(new AclBinding(
                        new ResourcePattern(ResourceType.GROUP, "kept-", PatternType.PREFIXED),
                        new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW)))).all());
            } finally {
                first.close();
            }
            Broker second = Broker.start(brokerProps(restartDir));
            try (Admin admin = Admin.create(withBootstrap(second, "admin"))) {
                assertThat(Clients.get(admin.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY).values()))
                        .singleElement().satisfies(b -> {
                            assertThat(b.pattern()).isEqualTo(new ResourcePattern(ResourceType.GROUP, "kept-", PatternType.PREFIXED));
                            assertThat(b.entry().principal()).isEqualTo("User:alice");
                        });
            } finally {
                second.close();
            }
        } finally {
            TestDirs.deleteRecursively(restartDir);
        }
        Map<String, String> props = brokerProps(dir.resolve("unused"));
        props.put("authorizer.class.name", "com.example.NoSuchAuthorizer");
        assertThatThrownBy(() -> Broker.start(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("authorizer.class.name")
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("authorizer.class.name"));
    }

    private static Map<String, Object> withBootstrap(Broker b, String user) {
        Map<String, Object> props = sasl(user);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        return props;
    }
}
