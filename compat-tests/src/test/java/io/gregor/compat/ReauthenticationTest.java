package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * connections.max.reauth.ms (KIP-368) on a SASL_PLAINTEXT listener set to 2 s: SaslAuthenticate tells the
 * client the session lifetime, a stock producer re-authenticates its connections again and again without
 * noticing, and a connection that lets its session expire is closed at its next request.
 */
class ReauthenticationTest {
    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\";";
    private static final long REAUTH_MS = 2000;

    private static Path dir;
    private static Broker broker;

    @BeforeAll
    static void start() {
        dir = TestDirs.newDataDir("reauth");
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", "0");
        props.put("log.dirs", dir.resolve("data").toString());
        props.put("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("sasl.enabled.mechanisms", "PLAIN");
        props.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", JAAS);
        props.put("connections.max.reauth.ms", Long.toString(REAUTH_MS));
        props.put("gregor.http.listener", "127.0.0.1:0");
        props.put("offsets.topic.replication.factor", "1");
        broker = Broker.start(props);
    }

    @AfterAll
    static void stop() {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            TestDirs.deleteRecursively(dir);
        }
    }

    private static Map<String, Object> alice() {
        Map<String, Object> props = new HashMap<>();
        props.put("security.protocol", "SASL_PLAINTEXT");
        props.put("sasl.mechanism", "PLAIN");
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"alice\" password=\"alice-secret\";");
        return props;
    }

    @Test
    void producerKeepsProducingAcrossReauthentications() {
        String topic = TestDirs.uniqueTopic("reauth");
        Clients.createTopic(broker.bootstrapServers("PLAINTEXT"), topic, 1);
        double before = brokerMetric("successful_reauthentication_total");
        double failedBefore = brokerMetric("failed_reauthentication_total");
        int sent = 0;
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers("SASL_PLAINTEXT"), alice())) {
            long end = System.nanoTime() + Duration.ofMillis(4 * REAUTH_MS).toNanos();
            // every send waits for its answer: each one fails if a re-authentication broke the connection
            while (System.nanoTime() < end) {
                Clients.get(producer.send(new ProducerRecord<>(topic, "k", "v" + sent)));
                sent++;
            }
            assertThat(clientMetric(producer.metrics(), "successful-reauthentication-total"))
                    .as("the producer's own count of re-authentications").isGreaterThanOrEqualTo(2);
        }
        assertThat(sent).isPositive();
        assertThat(brokerMetric("successful_reauthentication_total") - before)
                .as("the broker's successful-reauthentication-total").isGreaterThanOrEqualTo(2);
        assertThat(brokerMetric("failed_reauthentication_total")).isEqualTo(failedBefore);
    }

    @Test
    void anExpiredSessionIsClosedAtItsNextRequest() throws Exception {
        double killedBefore = brokerMetric("expired_connections_killed_count");
        int port = broker.bootstrapServers("SASL_PLAINTEXT").lastIndexOf(':');
        int saslPort = Integer.parseInt(broker.bootstrapServers("SASL_PLAINTEXT").substring(port + 1));
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort, Duration.ofSeconds(10))) {
            SaslHandshakeResponseData handshake = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"), SaslHandshakeResponseData::new);
            assertThat(handshake.errorCode()).isZero();
            long authenticated = System.nanoTime();
            SaslAuthenticateResponseData auth = raw.roundTrip(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes("\0alice\0alice-secret".getBytes(StandardCharsets.UTF_8)),
                    SaslAuthenticateResponseData::new);
            assertThat(auth.errorCode()).isZero();
            assertThat(auth.sessionLifetimeMs()).isEqualTo(REAUTH_MS);
            MetadataResponseData metadata = raw.roundTrip(ApiKeys.METADATA, (short) 12, new MetadataRequestData(),
                    MetadataResponseData::new);
            assertThat(metadata.brokers()).isNotEmpty();
            // the session's lifetime passing is what is tested: nothing to wait for but the clock
            await().pollDelay(Duration.ofMillis(REAUTH_MS + 300)).atMost(Duration.ofSeconds(10))
                    .until(() -> System.nanoTime() - authenticated > Duration.ofMillis(REAUTH_MS + 200).toNanos());
            raw.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData());
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> brokerMetric("expired_connections_killed_count") > killedBefore);
    }

    @Test
    void reauthenticationMustKeepThePrincipal() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort(), Duration.ofSeconds(10))) {
            assertThat(login(raw, "alice", "alice-secret").sessionLifetimeMs()).isEqualTo(REAUTH_MS);
            // the same user again on the same connection: a re-authentication, with a new session lifetime
            SaslAuthenticateResponseData again = login(raw, "alice", "alice-secret");
            assertThat(again.errorCode()).isZero();
            assertThat(again.sessionLifetimeMs()).isEqualTo(REAUTH_MS);
            assertThat(raw.roundTrip(ApiKeys.METADATA, (short) 12, new MetadataRequestData(), MetadataResponseData::new)
                    .brokers()).isNotEmpty();
            // Kafka begins at most one re-authentication a second: a handshake sooner is an ordinary request
            SaslHandshakeResponseData tooSoon = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"), SaslHandshakeResponseData::new);
            assertThat(tooSoon.errorCode()).isEqualTo(Errors.ILLEGAL_SASL_STATE.code());
            long last = System.nanoTime();
            await().pollDelay(Duration.ofMillis(1100)).atMost(Duration.ofSeconds(10))
                    .until(() -> System.nanoTime() - last > Duration.ofMillis(1000).toNanos());
            // another user: refused with Kafka's message, then the connection is closed
            SaslAuthenticateResponseData other = login(raw, "admin", "admin-secret");
            assertThat(other.errorCode()).isEqualTo(Errors.SASL_AUTHENTICATION_FAILED.code());
            assertThat(other.errorMessage()).contains("Cannot change principals during re-authentication");
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
        assertThat(brokerMetric("failed_reauthentication_total")).isGreaterThanOrEqualTo(1);
    }

    /** SaslHandshake v1 and one SaslAuthenticate v2 with a PLAIN token. */
    private static SaslAuthenticateResponseData login(RawKafkaConnection raw, String user, String password) throws Exception {
        SaslHandshakeResponseData handshake = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequestData().setMechanism("PLAIN"), SaslHandshakeResponseData::new);
        assertThat(handshake.errorCode()).isZero();
        return raw.roundTrip(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData()
                        .setAuthBytes(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8)),
                SaslAuthenticateResponseData::new);
    }

    private static int saslPort() {
        String bootstrap = broker.bootstrapServers("SASL_PLAINTEXT");
        return Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    }

    private static double clientMetric(Map<MetricName, ? extends Metric> metrics, String name) {
        return metrics.entrySet().stream().filter(e -> e.getKey().name().equals(name))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
    }

    /** The SASL_PLAINTEXT listener's socket-server-metrics value from the broker's /metrics. */
    private static double brokerMetric(String name) {
        int port = broker.controlEndpointAddress().orElseThrow().getPort();
        try {
            String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            String prefix = "kafka_server_socket_server_metrics_" + name + "{";
            return text.lines().filter(l -> l.startsWith(prefix) && l.contains("listener=\"SASL_PLAINTEXT\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + prefix + " in /metrics"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
