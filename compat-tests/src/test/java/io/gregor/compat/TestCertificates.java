package io.gregor.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keystores and truststores made with the JDK's keytool, as an operator would make them: a broker key
 * pair for 127.0.0.1/localhost (PKCS12), its certificate as PEM and in a client JKS truststore, and
 * client key pairs whose certificates the broker may or may not trust (mutual TLS).
 */
final class TestCertificates {
    static final String PASSWORD = "test-secret";

    final Path dir;
    final Path brokerKeystore;
    final Path brokerCertPem;
    final Path clientTruststore;
    /** Trusted by the broker's truststore; DN CN=Alice,OU=eng,O=Gregor. */
    final Path aliceKeystore;
    /** Not trusted by the broker. */
    final Path malloryKeystore;
    final Path brokerTruststore;

    private TestCertificates(Path dir) {
        this.dir = dir;
        brokerKeystore = dir.resolve("broker.p12");
        brokerCertPem = dir.resolve("broker.pem");
        clientTruststore = dir.resolve("client-trust.jks");
        aliceKeystore = dir.resolve("alice.p12");
        malloryKeystore = dir.resolve("mallory.p12");
        brokerTruststore = dir.resolve("broker-trust.p12");
    }

    static TestCertificates create(Path dir) {
        TestCertificates c = new TestCertificates(dir);
        c.keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3",
                "-dname", "CN=localhost,O=Gregor", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-storetype", "PKCS12", "-keystore", c.brokerKeystore.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD);
        c.keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", c.brokerKeystore.toString(),
                "-storepass", PASSWORD, "-file", c.brokerCertPem.toString());
        c.keytool("-importcert", "-noprompt", "-alias", "broker", "-file", c.brokerCertPem.toString(),
                "-storetype", "JKS", "-keystore", c.clientTruststore.toString(), "-storepass", PASSWORD);
        c.keytool("-genkeypair", "-alias", "alice", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3",
                "-dname", "CN=Alice,OU=eng,O=Gregor", "-storetype", "PKCS12",
                "-keystore", c.aliceKeystore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        Path alicePem = dir.resolve("alice.pem");
        c.keytool("-exportcert", "-rfc", "-alias", "alice", "-keystore", c.aliceKeystore.toString(),
                "-storepass", PASSWORD, "-file", alicePem.toString());
        c.keytool("-importcert", "-noprompt", "-alias", "alice", "-file", alicePem.toString(),
                "-storetype", "PKCS12", "-keystore", c.brokerTruststore.toString(), "-storepass", PASSWORD);
        c.keytool("-genkeypair", "-alias", "mallory", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3",
                "-dname", "CN=Mallory,OU=eng,O=Elsewhere", "-storetype", "PKCS12",
                "-keystore", c.malloryKeystore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        return c;
    }

    /**
     * Another broker key pair for 127.0.0.1/localhost in its own PKCS12 keystore (alias broker): a renewed
     * certificate with the same {@code dname}, or one with another DN.
     */
    Path newBrokerKeystore(String name, String dname) {
        Path keystore = dir.resolve(name + ".p12");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3",
                "-dname", dname, "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        return keystore;
    }

    /** A client JKS truststore that trusts only the certificate of {@code keystore} (alias broker). */
    Path truststoreTrustingOnly(Path keystore, String name) {
        Path pem = dir.resolve(name + ".pem");
        Path truststore = dir.resolve(name + "-trust.jks");
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(), "-storepass", PASSWORD,
                "-file", pem.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", pem.toString(), "-storetype", "JKS",
                "-keystore", truststore.toString(), "-storepass", PASSWORD);
        return truststore;
    }

    /** The certificate in {@code keystore} (alias broker). */
    static java.security.cert.X509Certificate certificateOf(Path keystore) {
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(keystore)) {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            store.load(in, PASSWORD.toCharArray());
            return (java.security.cert.X509Certificate) store.getCertificate("broker");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + command + "\n" + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The broker's key and certificate chain as PEM text, for Kafka's PEM keystore
     * ({@code ssl.keystore.type=PEM}, {@code ssl.keystore.key}, {@code ssl.keystore.certificate.chain}).
     */
    String[] brokerKeyAndChainPem() {
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(brokerKeystore)) {
                store.load(in, PASSWORD.toCharArray());
            }
            java.security.Key key = store.getKey("broker", PASSWORD.toCharArray());
            java.util.Base64.Encoder b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes());
            String keyPem = "-----BEGIN PRIVATE KEY-----\n" + b64.encodeToString(key.getEncoded())
                    + "\n-----END PRIVATE KEY-----";
            StringBuilder chain = new StringBuilder();
            for (java.security.cert.Certificate c : store.getCertificateChain("broker")) {
                chain.append("-----BEGIN CERTIFICATE-----\n").append(b64.encodeToString(c.getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
            }
            return new String[] {keyPem, chain.toString().trim()};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Client settings that trust the broker's certificate (Java client, JKS truststore). */
    java.util.Map<String, Object> clientTls() {
        return java.util.Map.of("ssl.truststore.location", clientTruststore.toString(),
                "ssl.truststore.password", PASSWORD, "ssl.truststore.type", "JKS");
    }
}
