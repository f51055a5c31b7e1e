package io.gregor.wire.security;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.apache.kafka.common.config.SslClientAuth;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.internals.BrokerSecurityConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.security.GeneralSecurityException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's {@code ssl.engine.factory.class} for Gregor's TLS listeners: server engines from OpenSSL (BoringSSL
 * through netty-tcnative), which encrypts several times cheaper than the JDK's engine and works on the direct
 * buffers Netty reads files and sockets into. Kafka's {@link DefaultSslEngineFactory} still reads and checks
 * every ssl.* key (keystore types JKS/PKCS12/PEM, passwords, truststore, protocols, ciphers, client auth) and
 * decides when a reconfiguration rebuilds the factory; the OpenSSL context is made from the same key and trust
 * stores. Client engines (SslFactory's handshake check of a new keystore) stay the JDK's. Falls back to the JDK
 * engine, with one log line, when the native library cannot load, when {@code ssl.provider} names a JCA provider,
 * or when OpenSSL cannot honour the configured cipher suites exactly.
 */
public class OpenSslEngineFactory extends DefaultSslEngineFactory {
    private static final Logger log = LoggerFactory.getLogger(OpenSslEngineFactory.class);
    /** TLS 1.3 suites: BoringSSL always enables its three and does not let them be chosen. */
    private static final Set<String> TLS13_SUITES = Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    private SslContext openSsl;

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs); // Kafka's checks and stores; a bad setting fails here, naming its key
        openSsl = null;
        if (configs.get(SslConfigs.SSL_PROVIDER_CONFIG) != null) {
            log.info("TLS engine: the JDK's ({} names a JCA provider)", SslConfigs.SSL_PROVIDER_CONFIG);
            return;
        }
        if (!OpenSsl.isAvailable()) {
            log.info("TLS engine: the JDK's (OpenSSL unavailable: {})", String.valueOf(OpenSsl.unavailabilityCause()));
            return;
        }
        try {
            openSsl = build(configs);
            log.info("TLS engine: OpenSSL ({})", OpenSsl.versionString());
        } catch (GeneralSecurityException | SSLException | IllegalArgumentException e) {
            log.warn("TLS engine: the JDK's (OpenSSL cannot take these settings: {})", e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private SslContext build(Map<String, ?> configs) throws GeneralSecurityException, SSLException {
        if (keystore() == null) {
            throw new IllegalArgumentException("no keystore"); // a TLS listener always has one (ListenerSecurity)
        }
        String algorithm = (String) configs.get(SslConfigs.SSL_KEYMANAGER_ALGORITHM_CONFIG);
        KeyManagerFactory keys = KeyManagerFactory.getInstance(algorithm != null ? algorithm
                : KeyManagerFactory.getDefaultAlgorithm());
        keys.init(keystore(), keyPassword(configs));
        SslContextBuilder builder = SslContextBuilder.forServer(keys);
        String trustAlgorithm = (String) configs.get(SslConfigs.SSL_TRUSTMANAGER_ALGORITHM_CONFIG);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(trustAlgorithm != null ? trustAlgorithm
                : TrustManagerFactory.getDefaultAlgorithm());
        trust.init(truststore()); // null: the JDK's default CAs, as Kafka's factory does
        builder.trustManager(trust).sslProvider(SslProvider.OPENSSL);
        List<String> protocols = (List<String>) configs.get(SslConfigs.SSL_ENABLED_PROTOCOLS_CONFIG);
        if (protocols != null && !protocols.isEmpty()) {
            builder.protocols(protocols);
        }
        List<String> ciphers = (List<String>) configs.get(SslConfigs.SSL_CIPHER_SUITES_CONFIG);
        if (ciphers != null && !ciphers.isEmpty()) {
            boolean tls13 = protocols == null || protocols.isEmpty() || protocols.contains("TLSv1.3");
            if (tls13 && !ciphers.containsAll(TLS13_SUITES)) {
                // the JDK would offer only the listed TLS 1.3 suites (or no TLS 1.3 at all); BoringSSL cannot
                throw new IllegalArgumentException("ssl.cipher.suites leaves out TLS 1.3 suites, which BoringSSL "
                        + "always enables");
            }
            builder.ciphers(ciphers);
        }
        SslClientAuth auth = SslClientAuth.forConfig((String) configs.get(BrokerSecurityConfigs.SSL_CLIENT_AUTH_CONFIG));
        builder.clientAuth(auth == SslClientAuth.REQUIRED ? ClientAuth.REQUIRE
                : auth == SslClientAuth.REQUESTED ? ClientAuth.OPTIONAL : ClientAuth.NONE);
        SslContext context = builder.build();
        if (ciphers != null && !ciphers.isEmpty()) {
            Set<String> missing = new HashSet<>(ciphers);
            missing.removeAll(context.cipherSuites());
            missing.removeAll(TLS13_SUITES);
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("cipher suites not in OpenSSL: " + missing);
            }
        }
        return context;
    }

    /** The private key's password as Kafka's stores take it: ssl.key.password, else the keystore's password. */
    private static char[] keyPassword(Map<String, ?> configs) {
        Password key = (Password) configs.get(SslConfigs.SSL_KEY_PASSWORD_CONFIG);
        Password store = (Password) configs.get(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG);
        Password password = key != null ? key : store;
        return password == null ? null : password.value().toCharArray();
    }

    @Override
    public SSLEngine createServerSslEngine(String peerHost, int peerPort) {
        if (openSsl == null) {
            return super.createServerSslEngine(peerHost, peerPort);
        }
        return openSsl.newEngine(ByteBufAllocator.DEFAULT, peerHost, peerPort);
    }
}
