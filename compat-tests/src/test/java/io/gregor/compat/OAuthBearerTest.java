package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.broker.intercept.TraceRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SASL/OAUTHBEARER with Kafka's unsecured JWS validator (for local development, as Kafka offers it): stock
 * clients log in with unsecured tokens made by Kafka's own login module; the token's subject is the principal,
 * a token without the listener's required scope is refused at once with Kafka's error.
 */
class OAuthBearerTest {
    private static final String MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";
    private static Path dir;
    private static Broker broker;
    private static String topic;

    @BeforeAll
    static void start() {
        dir = TestDirs.newDataDir("oauthbearer");
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", "0");
        props.put("log.dirs", dir.resolve("data").toString());
        props.put("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.name.sasl_plaintext.sasl.enabled.mechanisms", "OAUTHBEARER");
        props.put("listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config",
                MODULE + " required unsecuredValidatorRequiredScope=\"kafka\";");
        props.put("offsets.topic.replication.factor", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        broker = Broker.start(props);
        broker.requestTrace().setEnabled(true);
        topic = TestDirs.uniqueTopic("oauth");
        Clients.createTopic(broker.bootstrapServers("PLAINTEXT"), topic, 1);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        TestDirs.deleteRecursively(dir);
    }

    /** A client whose unsecured token names {@code subject} and carries {@code scopes}. */
    private static Map<String, Object> token(String subject, String scopes) {
        Map<String, Object> props = new HashMap<>();
        props.put("security.protocol", "SASL_PLAINTEXT");
        props.put("sasl.mechanism", "OAUTHBEARER");
        // a list claim's first character is its delimiter
        props.put("sasl.jaas.config", MODULE + " required unsecuredLoginStringClaim_sub=\"" + subject + "\""
                + " unsecuredLoginListClaim_scope=\"," + scopes + "\";");
        return props;
    }

    @Test
    void aTokenWithTheRequiredScopeProducesAndConsumesAsItsSubject() {
        String bootstrap = broker.bootstrapServers("SASL_PLAINTEXT");
        Map<String, Object> producerProps = new HashMap<>(token("alice", "kafka,other"));
        producerProps.put("client.id", "oauth-producer");
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, producerProps)) {
            for (int i = 0; i < 5; i++) {
                Clients.get(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
            }
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap, token("alice", "kafka"))) {
            List<ConsumerRecord<String, String>> all = Clients.readAll(consumer, Clients.partitions(topic, 1));
            assertThat(all).extracting(ConsumerRecord::value).containsExactly("v0", "v1", "v2", "v3", "v4");
        }
        List<TraceRecord> traced = broker.requestTrace().entries().stream()
                .filter(r -> "oauth-producer".equals(r.clientId())).toList();
        assertThat(traced).isNotEmpty().allSatisfy(r -> assertThat(r.principal()).isEqualTo("User:alice"));
    }

    @Test
    void aTokenWithoutTheRequiredScopeIsRefusedAtOnce() {
        Map<String, Object> props = new HashMap<>(token("mallory", "reader"));
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers("SASL_PLAINTEXT"));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        long began = System.nanoTime();
        assertThatThrownBy(() -> {
            try (Admin admin = Admin.create(props)) {
                admin.describeCluster().nodes().get();
            } catch (ExecutionException e) {
                throw e.getCause();
            }
        }).isInstanceOf(SaslAuthenticationException.class).hasMessageContaining("kafka");
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void oauthBearerWithoutAJaasConfigurationFailsTheStartNamingTheKey() {
        Map<String, String> props = new TreeMap<>(Map.of("broker.id", "3", "log.dirs", dir.resolve("bad").toString(),
                "listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                "sasl.enabled.mechanisms", "OAUTHBEARER"));
        assertThatThrownBy(() -> Broker.start(props)).isInstanceOf(io.gregor.config.ConfigException.class)
                .hasMessageContaining("listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config");
    }
}
