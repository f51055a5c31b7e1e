package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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
import static org.awaitility.Awaitility.await;

/**
 * Three brokers in a ZooKeeper cluster whose only listener is SASL_SSL, so followers fetch, and transaction
 * markers travel, over TLS with a SASL/PLAIN broker login; a SCRAM user created through one broker
 * (stored in /config/users) logs in on another. ACLs are on (the brokers' own user is a super user): those the
 * stock kafka-acls tool creates through one broker (stored in /kafka-acl in Kafka's JSON) hold on the others,
 * and one deleted through another broker stops holding everywhere.
 */
class SecureClusterTest {
    private static final String CHROOT = "/gregor-secure";
    private final ZooKeeperTestServer zookeeper = new ZooKeeperTestServer();
    private final List<Broker> brokers = new ArrayList<>();
    private Path dir;
    private TestCertificates certs;

    @AfterEach
    void stop() {
        for (Broker b : brokers) {
            b.close();
        }
        zookeeper.close();
        if (dir != null) {
            TestDirs.deleteRecursively(dir);
        }
    }

    private Broker startBroker(int id) {
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", Integer.toString(id));
        props.put("log.dirs", dir.resolve("broker-" + id).toString());
        props.put("zookeeper.connect", zookeeper.connectString() + CHROOT);
        props.put("zookeeper.session.timeout.ms", "6000");
        props.put("listeners", "SASL_SSL://127.0.0.1:0");
        props.put("inter.broker.listener.name", "SASL_SSL");
        props.put("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256");
        props.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        props.put("listener.name.sasl_ssl.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule "
                + "required username=\"broker\" password=\"broker-secret\" user_broker=\"broker-secret\";");
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.location", certs.brokerKeystore.toString());
        props.put("ssl.keystore.password", TestCertificates.PASSWORD);
        props.put("ssl.truststore.type", "JKS");
        props.put("ssl.truststore.location", certs.clientTruststore.toString());
        props.put("ssl.truststore.password", TestCertificates.PASSWORD);
        props.put("offsets.topic.replication.factor", "3");
        props.put("transaction.state.log.replication.factor", "3");
        props.put("transaction.state.log.min.isr", "2");
        props.put("replica.lag.time.max.ms", "10000");
        props.put("controlled.shutdown.max.retries", "1");
        props.put("controlled.shutdown.retry.backoff.ms", "3000");
        props.put("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer");
        props.put("super.users", "User:broker");
        Broker b = Broker.start(props);
        brokers.add(b);
        return b;
    }

    private Map<String, Object> client(String bootstrap, String mechanism, String user, String password) {
        Map<String, Object> props = new HashMap<>(certs.clientTls());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        props.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return props;
    }

    @Test
    void brokersReplicateAndWriteMarkersOverSaslSsl() throws Exception {
        dir = TestDirs.newDataDir("secure-cluster");
        certs = TestCertificates.create(TestDirs.mkdirs(dir.resolve("certs")));
        for (int id = 1; id <= 3; id++) {
            startBroker(id);
        }
        String topic = TestDirs.uniqueTopic("secure-replicated");
        Map<String, Object> adminProps = client(brokers.get(0).bootstrapServers("SASL_SSL"), "PLAIN", "broker", "broker-secret");
        adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(adminProps)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeCluster().nodes().get().size() == 3);
            Clients.get(admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("alice",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "alice-secret"))).all());
            Clients.get(admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "3")))).all());
            // every follower caught up through a SASL_SSL fetch
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                assertThat(d.partitions()).allSatisfy(p -> assertThat(p.isr()).hasSize(3));
            });
        }

        // alice was created through broker 1 and logs in on broker 3, where no ACL lets her see the topic yet
        String third = brokers.get(2).bootstrapServers("SASL_SSL");
        try (Admin alice = Admin.create(client(third, "SCRAM-SHA-256", "alice", "alice-secret"))) {
            assertThatThrownBy(() -> Clients.get(alice.describeTopics(List.of(topic)).allTopicNames()))
                    .isInstanceOf(TopicAuthorizationException.class);
        }
        // the stock tool creates her ACLs through broker 1
        aclCommand(brokers.get(0), "--add", "--allow-principal", "User:alice", "--producer", "--topic", topic,
                "--transactional-id", "secure-txn");
        aclCommand(brokers.get(0), "--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", topic);
        try (ZooKeeper zk = zookeeper.client(CHROOT)) {
            String json = new String(zk.getData("/kafka-acl/Topic/" + topic, false, null), StandardCharsets.UTF_8);
            assertThat(json).contains("\"principal\":\"User:alice\"").contains("\"operation\":\"Write\"")
                    .contains("\"operation\":\"Read\"").contains("\"permissionType\":\"Allow\"");
            assertThat(zk.getData("/kafka-acl/TransactionalId/secure-txn", false, null)).isNotEmpty();
            assertThat(zk.getChildren("/kafka-acl-changes", false)).isNotEmpty();
        }
        // broker 3 learns of them through its ZooKeeper watch
        try (Admin alice = Admin.create(client(third, "SCRAM-SHA-256", "alice", "alice-secret"))) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(Clients.get(alice.describeTopics(List.of(topic)).allTopicNames())).containsKey(topic));
        }
        // min.insync.replicas=3 makes every write wait for both followers' fetches
        Map<String, Object> producerProps = client(third, "SCRAM-SHA-256", "alice", "alice-secret");
        producerProps.put("acks", "all");
        try (KafkaProducer<String, String> producer = Clients.producer(third, producerProps)) {
            for (int i = 0; i < 30; i++) {
                Clients.get(producer.send(new ProducerRecord<>(topic, i % 3, "k" + i, "v" + i)));
            }
        }
        // a transaction over the three partitions, led by three brokers: its markers go broker to broker
        Map<String, Object> txnProps = client(third, "SCRAM-SHA-256", "alice", "alice-secret");
        txnProps.put("transactional.id", "secure-txn");
        try (KafkaProducer<String, String> producer = Clients.producer(third, txnProps)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 9; i++) {
                producer.send(new ProducerRecord<>(topic, i % 3, "t" + i, "txn" + i));
            }
            producer.commitTransaction();
        }
        Map<String, Object> consumerProps = client(brokers.get(1).bootstrapServers("SASL_SSL"), "SCRAM-SHA-256", "alice",
                "alice-secret");
        consumerProps.put("isolation.level", "read_committed");
        try (KafkaConsumer<String, String> consumer = Clients.consumer(brokers.get(1).bootstrapServers("SASL_SSL"),
                consumerProps)) {
            List<ConsumerRecord<String, String>> all = Clients.readFromBeginning(consumer, Clients.partitions(topic, 3), 39);
            assertThat(all).hasSize(39);
            assertThat(all.stream().filter(r -> r.key().startsWith("t"))).hasSize(9);
        }

        // her READ deleted through broker 2 stops holding on broker 1 too
        aclCommand(brokers.get(1), "--remove", "--force", "--allow-principal", "User:alice", "--operation", "Read",
                "--topic", topic);
        String first = brokers.get(0).bootstrapServers("SASL_SSL");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            try (KafkaConsumer<String, String> consumer = Clients.consumer(first,
                    client(first, "SCRAM-SHA-256", "alice", "alice-secret"))) {
                consumer.assign(Clients.partitions(topic, 3));
                assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(3)))
                        .isInstanceOf(TopicAuthorizationException.class);
            }
        });
    }

    /** The stock kafka-acls tool against {@code broker}, as the brokers' super user over SASL_SSL. */
    private void aclCommand(Broker broker, String... args) {
        Path config = dir.resolve("acl-command-" + System.nanoTime() + ".properties");
        StringBuilder text = new StringBuilder();
        client(broker.bootstrapServers("SASL_SSL"), "PLAIN", "broker", "broker-secret")
                .forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        try {
            Files.writeString(config, text.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers("SASL_SSL"),
                "--command-config", config.toString()));
        all.addAll(List.of(args));
        ToolRunner.Result result = ToolRunner.runTool("org.apache.kafka.tools.AclCommand", all.toArray(String[]::new));
        assertThat(result.exitCode()).as(result.describe()).isZero();
    }
}
