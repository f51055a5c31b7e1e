package io.gregor.wire.security;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.internals.BrokerSecurityConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.network.ConnectionMode;
import org.apache.kafka.common.network.ChannelBuilders;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.auth.AuthenticationContext;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.KafkaPrincipalBuilder;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.authenticator.CredentialCache;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule;
import org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslServer;
import org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.plain.internals.PlainServerCallbackHandler;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramServerCallbackHandler;
import org.apache.kafka.common.security.ssl.SslFactory;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;
import org.apache.kafka.common.security.token.delegation.internals.DelegationTokenCache;

import javax.net.ssl.SSLEngine;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import java.net.InetSocketAddress;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one listener needs to secure its connections, built once at start from that listener's settings
 * (Kafka's keys, {@code listener.name.<name>.} overrides already applied) with kafka-clients' own parts:
 * {@link SslFactory} for TLS engines (every keystore type and option behaves as in Kafka), Kafka's
 * principal builder (certificate DN through {@code ssl.principal.mapping.rules}, SASL authorization id),
 * and Kafka's PLAIN, SCRAM and OAUTHBEARER SASL servers. A bad setting fails here, naming its key.
 */
public final class ListenerSecurity implements AutoCloseable {
    /** The SASL mechanisms Gregor serves; others in sasl.enabled.mechanisms fail the start. */
    public static final List<String> SUPPORTED_MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
            OAuthBearerLoginModule.OAUTHBEARER_MECHANISM);

    private final String listenerName;
    private final SecurityProtocol protocol;
    private final SslFactory sslFactory;
    private final KafkaPrincipalBuilder principalBuilder;
    private final Map<String, ?> configs;
    /** Enabled mechanism to the callback handler its SASL servers share; insertion order = sasl.enabled.mechanisms. */
    private final Map<String, AuthenticateCallbackHandler> mechanisms;
    private final int saslMaxReceiveBytes;
    private final ReauthStats reauthStats = new ReauthStats();

    private ListenerSecurity(String listenerName, SecurityProtocol protocol, SslFactory sslFactory,
                             KafkaPrincipalBuilder principalBuilder, Map<String, ?> configs,
                             Map<String, AuthenticateCallbackHandler> mechanisms, int saslMaxReceiveBytes) {
        this.listenerName = listenerName;
        this.protocol = protocol;
        this.sslFactory = sslFactory;
        this.principalBuilder = principalBuilder;
        this.configs = configs;
        this.mechanisms = mechanisms;
        this.saslMaxReceiveBytes = saslMaxReceiveBytes;
    }

    /** A PLAINTEXT listener: no TLS, no SASL, every connection is User:ANONYMOUS. */
    public static ListenerSecurity plaintext(String listenerName) {
        return new ListenerSecurity(listenerName, SecurityProtocol.PLAINTEXT, null, null, Map.of(), Map.of(), 0);
    }

    /**
     * @param settings    the listener's effective settings as strings (Kafka's key names)
     * @param credentials SCRAM credentials by mechanism name, kept current by the broker
     * @throws ConfigException naming the key at fault
     */
    public static ListenerSecurity create(String listenerName, SecurityProtocol protocol, Map<String, String> settings,
                                          CredentialCache credentials) {
        if (protocol == SecurityProtocol.PLAINTEXT) {
            return plaintext(listenerName);
        }
        Map<String, Object> configs = parse(settings);
        SslFactory ssl = null;
        if (protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL) {
            if (configs.get("ssl.keystore.location") == null && configs.get("ssl.keystore.key") == null) {
                throw new ConfigException("ssl.keystore.location", null,
                        "listener " + listenerName + " uses " + protocol + " and needs a keystore "
                                + "(ssl.keystore.location or ssl.keystore.key, possibly as listener.name."
                                + listenerName.toLowerCase(Locale.ROOT) + ".ssl.keystore.location)");
            }
            // OpenSSL engines unless the listener names its own factory; Kafka's SslFactory still owns the settings
            // and their reconfiguration (it makes a new factory of this class when they change)
            if (configs.get(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG) == null) {
                configs.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, OpenSslEngineFactory.class);
            }
            ssl = new SslFactory(ConnectionMode.SERVER);
            ssl.configure(configs);
        }
        String rules = (String) configs.get(BrokerSecurityConfigs.SSL_PRINCIPAL_MAPPING_RULES_CONFIG);
        KafkaPrincipalBuilder principals;
        try {
            principals = ChannelBuilders.createPrincipalBuilder(configs, null, SslPrincipalMapper.fromRules(rules));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(BrokerSecurityConfigs.SSL_PRINCIPAL_MAPPING_RULES_CONFIG, rules, e.getMessage());
        }
        Map<String, AuthenticateCallbackHandler> mechanisms = new LinkedHashMap<>();
        if (protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL) {
            @SuppressWarnings("unchecked")
            List<String> enabled = (List<String>) configs.get(BrokerSecurityConfigs.SASL_ENABLED_MECHANISMS_CONFIG);
            if (enabled.isEmpty()) {
                throw new ConfigException(BrokerSecurityConfigs.SASL_ENABLED_MECHANISMS_CONFIG, enabled,
                        "listener " + listenerName + " uses " + protocol + " and needs at least one SASL mechanism");
            }
            ListenerName name = ListenerName.normalised(listenerName);
            DelegationTokenCache tokens = new DelegationTokenCache(ScramMechanism.mechanismNames());
            for (String mechanism : enabled) {
                mechanisms.put(mechanism, callbackHandler(name, mechanism, configs, credentials, tokens));
            }
        }
        for (String mechanism : mechanisms.keySet()) {
            connectionsMaxReauthMs(configs, mechanism); // a malformed value fails the start, naming its key
        }
        int maxReceive = (Integer) configs.get(BrokerSecurityConfigs.SASL_SERVER_MAX_RECEIVE_SIZE_CONFIG);
        return new ListenerSecurity(listenerName, protocol, ssl, principals, configs, mechanisms, maxReceive);
    }

    private static AuthenticateCallbackHandler callbackHandler(ListenerName listener, String mechanism,
                                                               Map<String, Object> configs, CredentialCache credentials,
                                                               DelegationTokenCache tokens) {
        if (mechanism.equals(PlainSaslServer.PLAIN_MECHANISM)) {
            JaasContext jaas;
            try {
                jaas = JaasContext.loadServerContext(listener, mechanism, configs);
            } catch (IllegalArgumentException | SecurityException e) {
                throw new ConfigException("listener.name." + listener.value().toLowerCase(Locale.ROOT)
                        + ".plain.sasl.jaas.config", null, "PLAIN needs its users in a JAAS configuration "
                        + "(org.apache.kafka.common.security.plain.PlainLoginModule required user_NAME=\"PASSWORD\";): "
                        + e.getMessage());
            }
            PlainServerCallbackHandler handler = new PlainServerCallbackHandler();
            handler.configure(configs, mechanism, jaas.configurationEntries());
            return handler;
        }
        if (ScramMechanism.isScram(mechanism)) {
            CredentialCache.Cache<ScramCredential> cache = credentials.cache(mechanism, ScramCredential.class);
            if (cache == null) {
                cache = credentials.createCache(mechanism, ScramCredential.class);
            }
            ScramServerCallbackHandler handler = new ScramServerCallbackHandler(cache, tokens);
            handler.configure(configs, mechanism, List.of());
            return handler;
        }
        if (mechanism.equals(OAuthBearerLoginModule.OAUTHBEARER_MECHANISM)) {
            return oauthBearerHandler(listener, configs);
        }
        throw new ConfigException(BrokerSecurityConfigs.SASL_ENABLED_MECHANISMS_CONFIG, mechanism,
                "SASL mechanism " + mechanism + " is not supported by Gregor; supported are " + SUPPORTED_MECHANISMS);
    }

    /**
     * OAUTHBEARER as Kafka's broker sets it up: the token validator named by
     * {@code listener.name.<l>.oauthbearer.sasl.server.callback.handler.class}, by default Kafka's unsecured JWS
     * validator (for development: it checks a token's claims, expiry and scope, not a signature), configured from
     * the mechanism's JAAS text ({@code unsecuredValidator*} options).
     */
    private static AuthenticateCallbackHandler oauthBearerHandler(ListenerName listener, Map<String, Object> configs) {
        String mechanism = OAuthBearerLoginModule.OAUTHBEARER_MECHANISM;
        String prefix = "listener.name." + listener.value().toLowerCase(Locale.ROOT) + ".oauthbearer.";
        JaasContext jaas;
        try {
            jaas = JaasContext.loadServerContext(listener, mechanism, configs);
        } catch (IllegalArgumentException | SecurityException e) {
            throw new ConfigException(prefix + SaslConfigs.SASL_JAAS_CONFIG, null, "OAUTHBEARER needs a JAAS configuration "
                    + "(org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;): " + e.getMessage());
        }
        String handlerKey = "oauthbearer." + BrokerSecurityConfigs.SASL_SERVER_CALLBACK_HANDLER_CLASS_CONFIG;
        Object handlerClass = configs.get(handlerKey);
        AuthenticateCallbackHandler handler;
        if (handlerClass == null || handlerClass.toString().isBlank()) {
            handler = new OAuthBearerUnsecuredValidatorCallbackHandler();
        } else {
            try {
                handler = Utils.newInstance(handlerClass.toString(), AuthenticateCallbackHandler.class);
            } catch (ClassNotFoundException | RuntimeException e) {
                throw new ConfigException(prefix + BrokerSecurityConfigs.SASL_SERVER_CALLBACK_HANDLER_CLASS_CONFIG,
                        handlerClass, "cannot make the OAUTHBEARER token validator: " + e);
            }
        }
        try {
            handler.configure(configs, mechanism, jaas.configurationEntries());
        } catch (RuntimeException e) {
            throw new ConfigException(prefix + SaslConfigs.SASL_JAAS_CONFIG, null,
                    "the OAUTHBEARER validator refused its configuration: " + e.getMessage());
        }
        return handler;
    }

    /** Kafka's parsing of the broker security keys; unknown keys (mechanism-prefixed JAAS texts) pass through. */
    private static Map<String, Object> parse(Map<String, String> settings) {
        AbstractConfig parsed = new AbstractConfig(BrokerSecurityConfigs.CONFIG_DEF, settings, false);
        Map<String, Object> configs = new HashMap<>(settings);
        configs.putAll(parsed.values());
        settings.forEach((k, v) -> {
            // JaasContext reads "<mechanism>.sasl.jaas.config" as a Password, as Kafka's broker config types it
            if (k.endsWith("." + SaslConfigs.SASL_JAAS_CONFIG)) {
                configs.put(k, new Password(v));
            }
        });
        return configs;
    }

    public String listenerName() {
        return listenerName;
    }

    public SecurityProtocol protocol() {
        return protocol;
    }

    public boolean tls() {
        return sslFactory != null;
    }

    public boolean sasl() {
        return !mechanisms.isEmpty();
    }

    /** A server-mode engine with the listener's protocols, ciphers and client-auth mode. */
    public SSLEngine newSslEngine(InetSocketAddress peer) {
        String host = peer == null ? null : peer.getHostString();
        return sslFactory.createSslEngine(host, peer == null ? -1 : peer.getPort());
    }

    /**
     * Kafka's check of new TLS stores for this listener (its settings with a dynamic
     * {@code listener.name.<name>.ssl.keystore.location} and the like applied): its SslFactory refuses a store it
     * cannot load, or a keystore whose certificate DN or SANs differ from the current one. Nothing changes.
     *
     * @throws ConfigException with Kafka's message
     */
    public void validateReconfiguration(Map<String, String> settings) {
        if (sslFactory != null) {
            sslFactory.validateReconfiguration(parse(settings));
        }
    }

    /** Applies new TLS stores (checked as above): new connections get them, open ones keep their sessions. */
    public void reconfigure(Map<String, String> settings) {
        if (sslFactory != null) {
            sslFactory.reconfigure(parse(settings));
        }
    }

    public KafkaPrincipal principal(AuthenticationContext context) {
        return principalBuilder.build(context);
    }

    public List<String> enabledMechanisms() {
        return new ArrayList<>(mechanisms.keySet());
    }

    /** A new SASL server for one connection, or null when the mechanism is not enabled on this listener. */
    public SaslServer newSaslServer(String mechanism) throws SaslException {
        AuthenticateCallbackHandler handler = mechanisms.get(mechanism);
        if (handler == null) {
            return null;
        }
        if (mechanism.equals(PlainSaslServer.PLAIN_MECHANISM)) {
            return new PlainSaslServer(handler);
        }
        if (mechanism.equals(OAuthBearerLoginModule.OAUTHBEARER_MECHANISM)) {
            return new OAuthBearerSaslServer(handler);
        }
        try {
            return new ScramSaslServer(ScramMechanism.forMechanismName(mechanism), configs, handler);
        } catch (NoSuchAlgorithmException e) {
            throw new SaslException("Hash algorithm not supported for mechanism " + mechanism, e);
        }
    }

    /**
     * connections.max.reauth.ms for a mechanism's sessions: {@code <mechanism>.connections.max.reauth.ms} (lower
     * case, as Kafka reads it, possibly listener-prefixed) or else the listener's; 0 means sessions do not expire.
     */
    public long connectionsMaxReauthMs(String mechanism) {
        return connectionsMaxReauthMs(configs, mechanism);
    }

    private static long connectionsMaxReauthMs(Map<String, ?> configs, String mechanism) {
        String key = mechanism.toLowerCase(Locale.ROOT) + "." + BrokerSecurityConfigs.CONNECTIONS_MAX_REAUTH_MS_CONFIG;
        Object value = configs.get(key);
        if (value == null) {
            key = BrokerSecurityConfigs.CONNECTIONS_MAX_REAUTH_MS_CONFIG;
            value = configs.get(key);
        }
        if (value == null) {
            return 0;
        }
        try {
            return value instanceof Number n ? n.longValue() : Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, value, "not a number of milliseconds");
        }
    }

    public ReauthStats reauthStats() {
        return reauthStats;
    }

    /** sasl.server.max.receive.size: the largest frame accepted before authentication completes. */
    public int saslMaxReceiveBytes() {
        return saslMaxReceiveBytes;
    }

    @Override
    public void close() {
        if (sslFactory != null) {
            sslFactory.close();
        }
        for (AuthenticateCallbackHandler handler : mechanisms.values()) {
            try {
                handler.close();
            } catch (RuntimeException ignored) {
                // nothing to release that matters at shutdown
            }
        }
    }
}
