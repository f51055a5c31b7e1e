package io.gregor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * What the TLS and SASL_SSL rows need, made once at bench start with the JDK's keytool in the run's output dir:
 * a self-signed broker key for 127.0.0.1 (both brokers use the same), a client truststore with its certificate,
 * and the SCRAM-SHA-256 user the SASL_SSL clients log in as (created on each broker through the Admin API).
 */
final class BenchTls {
    static final String PASSWORD = "bench-secret";
    static final String SCRAM_USER = "bench";
    static final String SCRAM_PASSWORD = "bench-user-secret";
    static final String MECHANISM = "SCRAM-SHA-256";

    final Path keystore;
    final Path truststore;

    private BenchTls(Path keystore, Path truststore) {
        this.keystore = keystore;
        this.truststore = truststore;
    }

    static BenchTls create(Path dir) throws IOException, InterruptedException {
        Path tlsDir = Files.createDirectories(dir.resolve("tls"));
        Path keystore = tlsDir.resolve("broker.p12");
        Path cert = tlsDir.resolve("broker.pem");
        Path truststore = tlsDir.resolve("client-truststore.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        keytool(tlsDir, keytool, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "30",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool(tlsDir, keytool, "-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(),
                "-storepass", PASSWORD, "-file", cert.toString());
        keytool(tlsDir, keytool, "-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(),
                "-storetype", "PKCS12", "-keystore", truststore.toString(), "-storepass", PASSWORD);
        return new BenchTls(keystore, truststore);
    }

    private static void keytool(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("keytool.out").toFile())).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: see " + dir.resolve("keytool.out"));
        }
    }

    /**
     * The broker settings both brokers take (Kafka's keys): SSL and SASL_SSL listeners beside PLAINTEXT, which
     * stays the inter-broker one; SCRAM-SHA-256 with the login module Kafka's broker wants for it.
     */
    Map<String, String> brokerSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("ssl.keystore.type", "PKCS12");
        s.put("ssl.keystore.location", keystore.toString());
        s.put("ssl.keystore.password", PASSWORD);
        s.put("ssl.key.password", PASSWORD);
        s.put("sasl.enabled.mechanisms", MECHANISM);
        s.put("listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        return s;
    }

    static String listeners(int port, int sslPort, int saslSslPort) {
        return "PLAINTEXT://127.0.0.1:" + port + ",SSL://127.0.0.1:" + sslPort + ",SASL_SSL://127.0.0.1:" + saslSslPort;
    }

    /** A client's settings for {@code protocol} (SSL or SASL_SSL), as a tool's config file takes them. */
    Map<String, Object> clientProps(String protocol) {
        Map<String, Object> p = new HashMap<>();
        p.put("security.protocol", protocol);
        p.put("ssl.truststore.type", "PKCS12");
        p.put("ssl.truststore.location", truststore.toString());
        p.put("ssl.truststore.password", PASSWORD);
        if (protocol.equals("SASL_SSL")) {
            p.put("sasl.mechanism", MECHANISM);
            p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + SCRAM_USER + "\" password=\"" + SCRAM_PASSWORD + "\";");
        }
        return p;
    }

    /** {@link #clientProps} written as a properties file for Kafka's tools (--command-config). */
    Path clientConfigFile(Path dir, String protocol) throws IOException {
        Properties props = new Properties();
        clientProps(protocol).forEach((k, v) -> props.setProperty(k, v.toString()));
        Path file = dir.resolve(protocol.toLowerCase() + "-client.properties");
        try (var out = Files.newBufferedWriter(file)) {
            props.store(out, "bench client settings for " + protocol);
        }
        return file;
    }

    /** Gregor's start script takes the settings as --override key=value. */
    static List<String> overrides(Map<String, String> settings) {
        List<String> out = new ArrayList<>();
        settings.forEach((k, v) -> {
            out.add("--override");
            out.add(k + "=" + v);
        });
        return out;
    }
}
