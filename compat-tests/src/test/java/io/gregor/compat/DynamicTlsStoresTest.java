package io.gregor.compat;

import io.gregor.broker.Broker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TLS listener's keystore changed at runtime with the stock {@code kafka-configs} tool
 * ({@code listener.name.ssl.ssl.keystore.location}, KIP-226): new connections get the new certificate while an
 * open one keeps producing; a keystore whose DN differs, or a wrong password, is refused with Kafka's errors
 * and the old keystore still serves; the cluster default and the unprefixed key are refused as Kafka does.
 */
class DynamicTlsStoresTest {
    private Path dir;
    private Broker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
        if (dir != null) {
            TestDirs.deleteRecursively(dir);
        }
    }

    private ToolRunner.Result configs(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = broker.bootstrapServers("PLAINTEXT");
        System.arraycopy(args, 0, all, 2, args.length);
        return ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, all);
    }

    private ToolRunner.Result alterBroker0(String config) {
        return configs("--entity-type", "brokers", "--entity-name", "0", "--alter", "--add-config", config);
    }

    private static void assertRefused(ToolRunner.Result result, String... parts) {
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stdout() + result.stderr()).as(result.describe()).contains(parts);
    }

    /** The certificate the SSL listener serves a new connection (the inspection trusts whatever it is shown). */
    private X509Certificate servedCertificate() throws Exception {
        String[] hostPort = broker.bootstrapServers("SSL").split(":");
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(hostPort[0],
                Integer.parseInt(hostPort[1]))) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private KafkaProducer<String, String> sslProducer(Path truststore) {
        Map<String, Object> props = new HashMap<>();
        props.put("security.protocol", "SSL");
        props.put("ssl.truststore.location", truststore.toString());
        props.put("ssl.truststore.password", TestCertificates.PASSWORD);
        props.put("ssl.truststore.type", "JKS");
        props.put("retries", 0);
        return Clients.producer(broker.bootstrapServers("SSL"), props);
    }

    @Test
    void keystoreChangedAtRuntimeServesNewConnectionsAndRefusesAnIncompatibleOne() throws Exception {
        dir = TestDirs.newDataDir("dyn-tls");
        TestCertificates certs = TestCertificates.create(TestDirs.mkdirs(dir.resolve("certs")));
        Path renewed = certs.newBrokerKeystore("renewed", "CN=localhost,O=Gregor");
        Path otherDn = certs.newBrokerKeystore("other-dn", "CN=someone-else,O=Gregor");
        Path trustsRenewedOnly = certs.truststoreTrustingOnly(renewed, "renewed");

        Map<String, String> props = new TreeMap<>();
        props.put("broker.id", "0");
        props.put("log.dirs", dir.resolve("data").toString());
        props.put("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0");
        props.put("listener.name.ssl.ssl.keystore.type", "PKCS12");
        props.put("listener.name.ssl.ssl.keystore.location", certs.brokerKeystore.toString());
        props.put("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD);
        props.put("listener.name.ssl.ssl.key.password", TestCertificates.PASSWORD);
        props.put("offsets.topic.replication.factor", "1");
        broker = Broker.start(props);
        String topic = TestDirs.uniqueTopic("dyn-tls");
        Clients.createTopic(broker.bootstrapServers("PLAINTEXT"), topic, 1);

        X509Certificate original = TestCertificates.certificateOf(certs.brokerKeystore);
        assertThat(servedCertificate()).isEqualTo(original);
        // trusts the original certificate only: a new connection of it would fail after the change
        try (KafkaProducer<String, String> before = sslProducer(certs.clientTruststore)) {
            Clients.get(before.send(new ProducerRecord<>(topic, "before", "1")));

            ToolRunner.Result alter = alterBroker0("listener.name.ssl.ssl.keystore.location=" + renewed);
            assertThat(alter.exitCode()).as(alter.describe()).isZero();
            assertThat(alter.stdout()).as(alter.describe()).contains("Completed updating config for broker 0.");

            // right after the tool returned, new connections see the renewed certificate
            assertThat(servedCertificate()).isEqualTo(TestCertificates.certificateOf(renewed));
            // the open connection keeps working
            Clients.get(before.send(new ProducerRecord<>(topic, "before", "2")));
        }
        try (KafkaProducer<String, String> after = sslProducer(trustsRenewedOnly)) {
            Clients.get(after.send(new ProducerRecord<>(topic, "after", "3")));
        }

        // a keystore renewed in place under the same name: the same alter again reloads it, as in Kafka
        Path renewedAgain = certs.newBrokerKeystore("renewed-again", "CN=localhost,O=Gregor");
        java.nio.file.Files.copy(renewedAgain, renewed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        // a later modification time than the one loaded, whatever the file system's clock granularity
        java.nio.file.Files.setLastModifiedTime(renewed, java.nio.file.attribute.FileTime.fromMillis(
                java.nio.file.Files.getLastModifiedTime(renewed).toMillis() + 10_000));
        ToolRunner.Result reload = alterBroker0("listener.name.ssl.ssl.keystore.location=" + renewed);
        assertThat(reload.exitCode()).as(reload.describe()).isZero();
        assertThat(servedCertificate()).isEqualTo(TestCertificates.certificateOf(renewedAgain));

        // Kafka's SslFactory refuses a keystore whose certificate DN differs, with its message
        assertRefused(alterBroker0("listener.name.ssl.ssl.keystore.location=" + otherDn),
                "Validation of dynamic config update of SSLFactory failed",
                "Keystore DistinguishedName does not match", "Invalid dynamic configuration");
        assertRefused(alterBroker0("listener.name.ssl.ssl.keystore.password=not-the-password"),
                "Validation of dynamic config update of SSLFactory failed", "Invalid dynamic configuration");
        assertThat(servedCertificate()).isEqualTo(TestCertificates.certificateOf(renewedAgain));
        try (KafkaProducer<String, String> after = sslProducer(certs.truststoreTrustingOnly(renewedAgain, "again"))) {
            Clients.get(after.send(new ProducerRecord<>(topic, "after", "4")));
        }

        // Kafka's rules: stores per broker and per listener only
        assertRefused(configs("--entity-type", "brokers", "--entity-default", "--alter", "--add-config",
                        "listener.name.ssl.ssl.keystore.location=" + renewed),
                "Cannot update these configs at default cluster level, broker id must be specified: "
                        + "Set(listener.name.ssl.ssl.keystore.location)");
        assertRefused(alterBroker0("ssl.keystore.location=" + renewed),
                "These security configs can be dynamically updated only per-listener using the listener prefix: "
                        + "Set(ssl.keystore.location)");
        // other TLS settings of an existing listener need a restart, as in Kafka
        assertRefused(alterBroker0("listener.name.ssl.ssl.enabled.protocols=TLSv1.2"),
                "Configs cannot be updated dynamically for existing listener ListenerName(SSL)");

        try (Admin admin = Clients.admin(broker.bootstrapServers("PLAINTEXT"))) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            ConfigEntry location = config.get("listener.name.ssl.ssl.keystore.location");
            assertThat(location.value()).isEqualTo(renewed.toString());
            assertThat(location.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG);
        }
    }
}
