package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.broker.intercept.TraceRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
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

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * TLS and SASL as Kafka has them, seen by stock clients and tools: one broker with a PLAINTEXT, an SSL,
 * a SASL_PLAINTEXT, a SASL_SSL and a mutual-TLS listener (MTLS, an SSL listener with its own
 * {@code listener.name.mtls.*} settings), users for PLAIN from the JAAS text and SCRAM users created
 * with kafka-configs / the Admin API; plus what bad clients get: wrong passwords, a plaintext client on a
 * TLS port, random bytes, requests before authentication.
 */
class SecurityTest {
    private static final String PLAIN_JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_bob=\"bob-secret\";";
    private static final Duration FAST = Duration.ofSeconds(15);

    private static Path dir;
    private static TestCertificates certs;
    private static Broker broker;
    private static String topic;
    private static final ByteArrayOutputStream brokerLog = new ByteArrayOutputStream();
    private static PrintStream originalErr;

    @BeforeAll
    static void start() throws Exception {
        // slf4j-simple looks System.err up on every line: the broker's log lines are kept for the one-line checks
        originalErr = System.err;
        System.setErr(new PrintStream(new TeeStream(originalErr, brokerLog), true));
        dir = TestDirs.newDataDir("security");
        certs = TestCertificates.create(TestDirs.mkdirs(dir.resolve("certs")));
        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", "0");
        props.put("log.dirs", dir.resolve("data").toString());
        props.put("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,"
                + "SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0,PEM://127.0.0.1:0,CIPHERS://127.0.0.1:0");
        props.put("listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL,PEM:SSL,CIPHERS:SSL");
        // the same key as inline PEM text, TLS 1.3 only
        String[] pem = certs.brokerKeyAndChainPem();
        props.put("listener.name.pem.ssl.keystore.type", "PEM");
        props.put("listener.name.pem.ssl.keystore.key", pem[0]);
        props.put("listener.name.pem.ssl.keystore.certificate.chain", pem[1]);
        props.put("listener.name.pem.ssl.enabled.protocols", "TLSv1.3");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        // a keystore file per TLS listener (Kafka cannot unset a broker-wide ssl.keystore.location for the PEM one)
        // one TLS 1.2 cipher suite only
        props.put("listener.name.ciphers.ssl.enabled.protocols", "TLSv1.2");
        props.put("listener.name.ciphers.ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        for (String listener : List.of("ssl", "sasl_ssl", "mtls", "ciphers")) {
            props.put("listener.name." + listener + ".ssl.keystore.type", "PKCS12");
            props.put("listener.name." + listener + ".ssl.keystore.location", certs.brokerKeystore.toString());
            props.put("listener.name." + listener + ".ssl.keystore.password", TestCertificates.PASSWORD);
            props.put("listener.name." + listener + ".ssl.key.password", TestCertificates.PASSWORD);
        }
        props.put("listener.name.mtls.ssl.client.auth", "required");
        props.put("listener.name.mtls.ssl.truststore.type", "PKCS12");
        props.put("listener.name.mtls.ssl.truststore.location", certs.brokerTruststore.toString());
        props.put("listener.name.mtls.ssl.truststore.password", TestCertificates.PASSWORD);
        props.put("listener.name.mtls.ssl.principal.mapping.rules", "RULE:^CN=([^,]+),OU=eng,.*$/$1/L,DEFAULT");
        props.put("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
        props.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_JAAS);
        props.put("listener.name.sasl_ssl.plain.sasl.jaas.config", PLAIN_JAAS);
        props.put("offsets.topic.replication.factor", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        broker = Broker.start(props);
        broker.requestTrace().setEnabled(true);
        topic = TestDirs.uniqueTopic("secure");
        try (Admin admin = Clients.admin(bootstrap("PLAINTEXT"))) {
            Clients.createTopic(admin, topic, 2, Map.of());
            Clients.get(admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialUpsertion("carol", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096),
                            "carol-secret"),
                    new UserScramCredentialUpsertion("carol", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192),
                            "carol-secret"))).all());
        }
    }

    @AfterAll
    static void stop() {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            System.setErr(originalErr);
            TestDirs.deleteRecursively(dir);
        }
    }

    private static String bootstrap(String listener) {
        return broker.bootstrapServers(listener);
    }

    private static Map<String, Object> sasl(String protocol, String mechanism, String user, String password) {
        Map<String, Object> props = new HashMap<>();
        props.put("security.protocol", protocol);
        props.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        props.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        if (protocol.equals("SASL_SSL")) {
            props.putAll(certs.clientTls());
        }
        return props;
    }

    private static Map<String, Object> ssl() {
        Map<String, Object> props = new HashMap<>(certs.clientTls());
        props.put("security.protocol", "SSL");
        return props;
    }

    /** Produces {@code count} records and reads them back over the same listener with the same settings. */
    private static void roundTrip(String listener, Map<String, Object> security, String clientId, int count) {
        Map<String, Object> producerProps = new HashMap<>(security);
        producerProps.put("client.id", clientId);
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap(listener), producerProps)) {
            for (int i = 0; i < count; i++) {
                Clients.get(producer.send(new ProducerRecord<>(topic, i % 2, clientId + "-" + i, "value-" + i)));
            }
        }
        Map<String, Object> consumerProps = new HashMap<>(security);
        consumerProps.put("client.id", clientId + "-consumer");
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap(listener), consumerProps)) {
            List<ConsumerRecord<String, String>> all = Clients.readAll(consumer, Clients.partitions(topic, 2));
            assertThat(all.stream().map(ConsumerRecord::key).filter(k -> k.startsWith(clientId + "-")))
                    .hasSize(count);
        }
    }

    private static List<TraceRecord> tracedFor(String clientId) {
        return broker.requestTrace().entries().stream().filter(r -> clientId.equals(r.clientId())).toList();
    }

    private static List<String> brokerLogLinesWith(String... parts) {
        String text;
        synchronized (brokerLog) {
            text = brokerLog.toString(StandardCharsets.UTF_8);
        }
        return text.lines().filter(l -> java.util.Arrays.stream(parts).allMatch(l::contains)).toList();
    }

    @Test
    void javaClientsOverSsl() {
        roundTrip("SSL", ssl(), "ssl-client", 20);
        try (Admin admin = Admin.create(withBootstrap("SSL", ssl()))) {
            // Metadata on the SSL listener advertises the SSL listener
            assertThat(Clients.get(admin.describeCluster().nodes())).singleElement()
                    .satisfies(n -> assertThat(n.host() + ":" + n.port()).isEqualTo(bootstrap("SSL")));
        }
        // without a client certificate (ssl.client.auth=none) the connection is anonymous
        assertThat(tracedFor("ssl-client")).isNotEmpty().allSatisfy(r -> {
            assertThat(r.principal()).isEqualTo("User:ANONYMOUS");
            assertThat(r.listener()).isEqualTo("SSL");
        });
    }

    private static Map<String, Object> withBootstrap(String listener, Map<String, Object> security) {
        Map<String, Object> props = new HashMap<>(security);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(listener));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        return props;
    }

    @Test
    void pemKeystoreAndEnabledProtocolsAsKafkaReadsThem() {
        roundTrip("PEM", ssl(), "pem-client", 5);
        Map<String, Object> tls12 = ssl();
        tls12.put("ssl.enabled.protocols", "TLSv1.2");
        tls12.put("ssl.protocol", "TLSv1.2");
        assertThatThrownBy(() -> describeClusterOver("PEM", tls12)).isInstanceOf(SslAuthenticationException.class);
    }

    @Test
    void cipherSuitesAsKafkaReadsThem() {
        Map<String, Object> listed = ssl();
        listed.put("ssl.enabled.protocols", "TLSv1.2");
        listed.put("ssl.protocol", "TLSv1.2");
        listed.put("ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        roundTrip("CIPHERS", listed, "cipher-client", 5);
        Map<String, Object> other = new HashMap<>(listed);
        other.put("ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assertThatThrownBy(() -> describeClusterOver("CIPHERS", other)).isInstanceOf(SslAuthenticationException.class);
    }

    @Test
    void badSecuritySettingsFailTheStartNamingTheKey() {
        Map<String, String> base = new TreeMap<>(Map.of("broker.id", "7", "log.dirs", dir.resolve("bad").toString(),
                "listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0"));
        Map<String, String> noKeystore = new TreeMap<>(base);
        assertThatThrownBy(() -> Broker.start(noKeystore)).isInstanceOf(io.gregor.config.ConfigException.class)
                .hasMessageContaining("ssl.keystore.location");
        Map<String, String> wrongPassword = new TreeMap<>(base);
        wrongPassword.put("ssl.keystore.location", certs.brokerKeystore.toString());
        wrongPassword.put("ssl.keystore.password", "not-the-password");
        assertThatThrownBy(() -> Broker.start(wrongPassword)).isInstanceOf(io.gregor.config.ConfigException.class)
                .hasMessageContaining("SSL");
        Map<String, String> gssapi = new TreeMap<>(base);
        gssapi.put("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
        gssapi.put("sasl.enabled.mechanisms", "GSSAPI");
        assertThatThrownBy(() -> Broker.start(gssapi)).isInstanceOf(io.gregor.config.ConfigException.class)
                .hasMessageContaining("sasl.enabled.mechanisms").hasMessageContaining("GSSAPI");
        Map<String, String> noUsers = new TreeMap<>(base);
        noUsers.put("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
        noUsers.put("sasl.enabled.mechanisms", "PLAIN");
        assertThatThrownBy(() -> Broker.start(noUsers)).isInstanceOf(io.gregor.config.ConfigException.class)
                .hasMessageContaining("listener.name.sasl_plaintext.plain.sasl.jaas.config");
    }

    @Test
    void saslPlainOverPlaintextAndSsl() {
        roundTrip("SASL_PLAINTEXT", sasl("SASL_PLAINTEXT", "PLAIN", "bob", "bob-secret"), "plain-client", 10);
        roundTrip("SASL_SSL", sasl("SASL_SSL", "PLAIN", "bob", "bob-secret"), "plain-ssl-client", 10);
        assertThat(tracedFor("plain-client")).isNotEmpty().allSatisfy(r -> {
            assertThat(r.principal()).isEqualTo("User:bob");
            assertThat(r.listener()).isEqualTo("SASL_PLAINTEXT");
        });
        assertThat(tracedFor("plain-ssl-client")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.principal()).isEqualTo("User:bob"));
    }

    @Test
    void scramSha256And512OverSaslSsl() {
        roundTrip("SASL_SSL", sasl("SASL_SSL", "SCRAM-SHA-256", "carol", "carol-secret"), "scram256-client", 10);
        roundTrip("SASL_SSL", sasl("SASL_SSL", "SCRAM-SHA-512", "carol", "carol-secret"), "scram512-client", 10);
        roundTrip("SASL_PLAINTEXT", sasl("SASL_PLAINTEXT", "SCRAM-SHA-512", "carol", "carol-secret"),
                "scram512-plain-client", 5);
        assertThat(tracedFor("scram512-client")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.principal()).isEqualTo("User:carol"));
    }

    @Test
    void kafkaConfigsToolManagesScramCredentials() {
        ToolRunner.Result add = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap("PLAINTEXT"),
                "--alter", "--add-config", "SCRAM-SHA-256=[iterations=4096,password=dave-secret],SCRAM-SHA-512=[password=dave-secret]",
                "--entity-type", "users", "--entity-name", "dave");
        assertThat(add.exitCode()).as(add.describe()).isZero();
        ToolRunner.Result describe = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server",
                bootstrap("PLAINTEXT"), "--describe", "--entity-type", "users", "--entity-name", "dave");
        assertThat(describe.exitCode()).as(describe.describe()).isZero();
        assertThat(describe.stdout()).as(describe.describe())
                .contains("SCRAM-SHA-256=iterations=4096").contains("SCRAM-SHA-512=iterations=4096");
        roundTrip("SASL_SSL", sasl("SASL_SSL", "SCRAM-SHA-256", "dave", "dave-secret"), "dave-client", 3);

        ToolRunner.Result delete = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, "--bootstrap-server", bootstrap("PLAINTEXT"),
                "--alter", "--delete-config", "SCRAM-SHA-256", "--entity-type", "users", "--entity-name", "dave");
        assertThat(delete.exitCode()).as(delete.describe()).isZero();
        assertThatThrownBy(() -> describeClusterOver("SASL_SSL", sasl("SASL_SSL", "SCRAM-SHA-256", "dave", "dave-secret")))
                .isInstanceOf(SaslAuthenticationException.class);
        roundTrip("SASL_SSL", sasl("SASL_SSL", "SCRAM-SHA-512", "dave", "dave-secret"), "dave-512-client", 3);
    }

    @Test
    void scramCredentialsAreDescribedAndValidated() throws Exception {
        try (Admin admin = Clients.admin(bootstrap("PLAINTEXT"))) {
            var described = Clients.get(admin.describeUserScramCredentials(List.of("carol")).all());
            assertThat(described.get("carol").credentialInfos()).extracting(ScramCredentialInfo::mechanism,
                    ScramCredentialInfo::iterations).containsExactlyInAnyOrder(
                    org.assertj.core.groups.Tuple.tuple(ScramMechanism.SCRAM_SHA_256, 4096),
                    org.assertj.core.groups.Tuple.tuple(ScramMechanism.SCRAM_SHA_512, 8192));
            assertThatThrownBy(() -> admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("erin",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 1000), "pw"))).all().get())
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.UnacceptableCredentialException.class)
                    .hasMessageContaining("Too few iterations");
            assertThatThrownBy(() -> admin.describeUserScramCredentials(List.of("nobody")).description("nobody").get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.ResourceNotFoundException.class);
        }
    }

    private static void describeClusterOver(String listener, Map<String, Object> security) {
        Map<String, Object> props = withBootstrap(listener, security);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void wrongPasswordFailsFastWithKafkasMessage() {
        long began = System.nanoTime();
        assertThatThrownBy(() -> describeClusterOver("SASL_SSL", sasl("SASL_SSL", "PLAIN", "bob", "wrong")))
                .isInstanceOf(SaslAuthenticationException.class)
                .hasMessageContaining("Authentication failed: Invalid username or password");
        assertThatThrownBy(() -> describeClusterOver("SASL_PLAINTEXT",
                sasl("SASL_PLAINTEXT", "SCRAM-SHA-256", "carol", "wrong")))
                .isInstanceOf(SaslAuthenticationException.class)
                .hasMessageContaining("Authentication failed during authentication due to invalid credentials "
                        + "with SASL mechanism SCRAM-SHA-256");
        assertThatThrownBy(() -> describeClusterOver("SASL_PLAINTEXT",
                sasl("SASL_PLAINTEXT", "SCRAM-SHA-512", "nobody", "whatever")))
                .isInstanceOf(SaslAuthenticationException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(FAST);
    }

    @Test
    void mutualTlsMapsTheCertificateToAPrincipal() {
        Map<String, Object> alice = ssl();
        alice.put("ssl.keystore.location", certs.aliceKeystore.toString());
        alice.put("ssl.keystore.password", TestCertificates.PASSWORD);
        alice.put("ssl.keystore.type", "PKCS12");
        roundTrip("MTLS", alice, "mtls-alice", 5);
        // CN=Alice,OU=eng,O=Gregor through RULE:^CN=([^,]+),OU=eng,.*$/$1/L
        assertThat(tracedFor("mtls-alice")).isNotEmpty().allSatisfy(r -> {
            assertThat(r.principal()).isEqualTo("User:alice");
            assertThat(r.listener()).isEqualTo("MTLS");
        });

        Map<String, Object> mallory = ssl();
        mallory.put("ssl.keystore.location", certs.malloryKeystore.toString());
        mallory.put("ssl.keystore.password", TestCertificates.PASSWORD);
        mallory.put("ssl.keystore.type", "PKCS12");
        long began = System.nanoTime();
        assertThatThrownBy(() -> describeClusterOver("MTLS", mallory)).isInstanceOf(SslAuthenticationException.class);
        // no certificate at all, where one is required
        assertThatThrownBy(() -> describeClusterOver("MTLS", ssl())).isInstanceOf(SslAuthenticationException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(FAST);
    }

    private static int port(String listener) {
        String b = bootstrap(listener);
        return Integer.parseInt(b.substring(b.lastIndexOf(':') + 1));
    }

    private static void assertOneLogLine(int clientPort, String... parts) {
        List<String> must = new ArrayList<>(List.of(parts));
        must.add(":" + clientPort);
        await("one broker log line for the connection from port " + clientPort).atMost(Duration.ofSeconds(10))
                .until(() -> !brokerLogLinesWith(must.toArray(String[]::new)).isEmpty());
        assertThat(brokerLogLinesWith(":" + clientPort + " ")).as("log lines naming the connection").hasSize(1);
    }

    @Test
    void plaintextClientOnATlsPortIsClosedWithOneLogLine() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(port("SSL"), Duration.ofSeconds(10))) {
            raw.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("raw").setClientSoftwareVersion("1"));
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
            assertOneLogLine(raw.localPort(), "Failed authentication with", "SSL handshake failed");
        }
    }

    @Test
    void randomBytesAsATlsHandshakeAreClosedWithOneLogLine() throws Exception {
        byte[] garbage = new byte[300];
        new Random(13).nextBytes(garbage);
        garbage[0] = 0x16; // a TLS handshake record type, then nonsense
        try (RawKafkaConnection raw = new RawKafkaConnection(port("MTLS"), Duration.ofSeconds(10))) {
            raw.writeRaw(garbage);
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
            assertOneLogLine(raw.localPort(), "Failed authentication with", "SSL handshake failed");
        }
    }

    @Test
    void requestsBeforeAuthenticationCloseTheConnection() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(port("SASL_PLAINTEXT"), Duration.ofSeconds(10))) {
            ApiVersionsResponseData versions = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("raw").setClientSoftwareVersion("1"),
                    ApiVersionsResponseData::new);
            assertThat(versions.errorCode()).isZero();
            assertThat(versions.apiKeys().find(ApiKeys.SASL_HANDSHAKE.id)).isNotNull();
            raw.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData());
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
            assertOneLogLine(raw.localPort(), "Unexpected Kafka request of type METADATA during SASL handshake.");
        }
    }

    @Test
    void garbageInTheSaslExchangeIsClosedWithOneLogLine() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(port("SASL_PLAINTEXT"), Duration.ofSeconds(10))) {
            SaslHandshakeResponseData handshake = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"), SaslHandshakeResponseData::new);
            assertThat(handshake.errorCode()).isZero();
            assertThat(handshake.mechanisms()).containsExactly("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
            byte[] garbage = new byte[64];
            new Random(7).nextBytes(garbage);
            raw.writeFrame(garbage);
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
            assertOneLogLine(raw.localPort(), "Failed authentication with");
        }
        // a well-formed SaslAuthenticate whose token is nonsense is answered with Kafka's error, then closed
        try (RawKafkaConnection raw = new RawKafkaConnection(port("SASL_PLAINTEXT"), Duration.ofSeconds(10))) {
            raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"),
                    SaslHandshakeResponseData::new);
            SaslAuthenticateResponseData answer = raw.roundTrip(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes("nonsense".getBytes(StandardCharsets.UTF_8)),
                    SaslAuthenticateResponseData::new);
            assertThat(Errors.forCode(answer.errorCode())).isEqualTo(Errors.SASL_AUTHENTICATION_FAILED);
            assertThat(answer.errorMessage()).startsWith("Invalid SASL/PLAIN response: expected 3 tokens");
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
        // an unknown mechanism gets Kafka's list of the enabled ones
        try (RawKafkaConnection raw = new RawKafkaConnection(port("SASL_PLAINTEXT"),
                Duration.ofSeconds(10))) {
            SaslHandshakeResponseData handshake = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("GSSAPI"), SaslHandshakeResponseData::new);
            assertThat(Errors.forCode(handshake.errorCode())).isEqualTo(Errors.UNSUPPORTED_SASL_MECHANISM);
            assertThat(handshake.mechanisms()).containsExactly("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
    }

    @Test
    void legacyHandshakeV0ThenBareTokens() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(port("SASL_PLAINTEXT"), Duration.ofSeconds(10))) {
            SaslHandshakeResponseData handshake = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 0,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"), SaslHandshakeResponseData::new);
            assertThat(handshake.errorCode()).isZero();
            raw.writeFrame("\0bob\0bob-secret".getBytes(StandardCharsets.UTF_8));
            assertThat(raw.receiveRawFrame()).isEmpty(); // PLAIN's empty final challenge, size-prefixed
            MetadataResponseData metadata = raw.roundTrip(ApiKeys.METADATA, (short) 12, new MetadataRequestData(),
                    MetadataResponseData::new);
            assertThat(metadata.brokers()).hasSize(1);
        }
    }

    @Test
    void saslRequestsOnAPlaintextListenerAreAnIllegalState() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(port("PLAINTEXT"), Duration.ofSeconds(10))) {
            SaslHandshakeResponseData handshake = raw.roundTrip(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"), SaslHandshakeResponseData::new);
            assertThat(Errors.forCode(handshake.errorCode())).isEqualTo(Errors.ILLEGAL_SASL_STATE);
            SaslAuthenticateResponseData authenticate = raw.roundTrip(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(new byte[0]), SaslAuthenticateResponseData::new);
            assertThat(Errors.forCode(authenticate.errorCode())).isEqualTo(Errors.ILLEGAL_SASL_STATE);
        }
    }

    private static List<String> librdkafkaSasl(String mechanism, String user, String password) {
        return List.of("-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=" + mechanism,
                "-X", "sasl.username=" + user, "-X", "sasl.password=" + password,
                "-X", "ssl.ca.location=" + certs.brokerCertPem);
    }

    private static ToolRunner.Result kcat(String stdin, List<String> security, String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/kcat", "-b", bootstrap("SASL_SSL")));
        cmd.addAll(security);
        cmd.addAll(List.of(args));
        return ToolRunner.run(cmd, stdin, Duration.ofSeconds(60));
    }

    @Test
    void kcatOverSaslSslWithPlain() {
        String kcatTopic = TestDirs.uniqueTopic("kcat-secure");
        Clients.createTopic(bootstrap("PLAINTEXT"), kcatTopic, 1);
        // PLAIN for librdkafka: Debian's librdkafka 2.0.2 repeats the client nonce in its final SCRAM message, which
        // Kafka rejects since its SCRAM nonce fix (CVE-2024-56128) and Gregor, running Kafka's ScramSaslServer, too
        ToolRunner.Result produce = kcat("k1:one\nk2:two\n", librdkafkaSasl("PLAIN", "admin", "admin-secret"),
                "-t", kcatTopic, "-P", "-K:");
        assertThat(produce.exitCode()).as(produce.describe()).isZero();
        ToolRunner.Result consume = kcat(null, librdkafkaSasl("PLAIN", "bob", "bob-secret"),
                "-t", kcatTopic, "-C", "-e", "-o", "beginning", "-q", "-f", "%k=%s\\n");
        assertThat(consume.exitCode()).as(consume.describe()).isZero();
        assertThat(consume.stdoutLines()).as(consume.describe()).containsExactly("k1=one", "k2=two");
        ToolRunner.Result denied = kcat(null, librdkafkaSasl("PLAIN", "bob", "not-his-password"), "-L");
        assertThat(denied.exitCode()).as(denied.describe()).isNotZero();
        assertThat(denied.stdout() + denied.stderr()).as(denied.describe())
                .contains("Authentication failed: Invalid username or password");
    }

    @Test
    void confluentKafkaPythonOverSaslSsl() {
        String pyTopic = TestDirs.uniqueTopic("python-secure");
        Clients.createTopic(bootstrap("PLAINTEXT"), pyTopic, 1);
        String script = String.join("\n",
                "import sys",
                "from confluent_kafka import Producer, Consumer",
                "bootstrap, topic, ca = sys.argv[1], sys.argv[2], sys.argv[3]",
                "common = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_SSL',",
                "          'sasl.mechanisms': 'PLAIN', 'sasl.username': 'bob',",
                "          'sasl.password': 'bob-secret', 'ssl.ca.location': ca}",
                "p = Producer(dict(common))",
                "for i in range(5):",
                "    p.produce(topic, key='k%d' % i, value='v%d' % i)",
                "assert p.flush(30) == 0, 'undelivered records'",
                "c = Consumer(dict(common, **{'group.id': 'py-secure', 'auto.offset.reset': 'earliest'}))",
                "c.subscribe([topic])",
                "got = []",
                "import time",
                "deadline = time.time() + 60",
                "while len(got) < 5 and time.time() < deadline:",
                "    m = c.poll(1.0)",
                "    if m is not None and m.error() is None:",
                "        got.append(m.value().decode())",
                "c.close()",
                "print(','.join(got))");
        ToolRunner.Result run = ToolRunner.run(List.of("/usr/bin/python3", "-c", script, bootstrap("SASL_SSL"), pyTopic,
                certs.brokerCertPem.toString()), null, Duration.ofSeconds(90));
        assertThat(run.exitCode()).as(run.describe()).isZero();
        assertThat(run.stdoutLines()).as(run.describe()).containsExactly("v0,v1,v2,v3,v4");
    }

    /** Copies what the JVM writes to System.err into a buffer too. */
    private static final class TeeStream extends java.io.OutputStream {
        private final PrintStream original;
        private final ByteArrayOutputStream copy;

        TeeStream(PrintStream original, ByteArrayOutputStream copy) {
            this.original = original;
            this.copy = copy;
        }

        @Override
        public void write(int b) {
            original.write(b);
            synchronized (copy) {
                copy.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            original.write(b, off, len);
            synchronized (copy) {
                copy.write(b, off, len);
            }
        }
    }
}
