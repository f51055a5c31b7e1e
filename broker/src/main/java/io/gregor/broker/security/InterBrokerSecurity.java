package io.gregor.broker.security;

import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigException;
import io.gregor.config.Endpoint;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.internals.BrokerSecurityConfigs;
import org.apache.kafka.common.network.ChannelBuilder;
import org.apache.kafka.common.network.ChannelBuilders;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.LogContext;

import java.util.Map;

/**
 * How this broker connects to the others: the inter-broker listener's name and security protocol, and
 * kafka-clients' client-side channel (TLS with the listener's truststore and keystore, SASL with
 * {@code sasl.mechanism.inter.broker.protocol} and the credentials of the listener's JAAS text, as
 * Kafka's brokers log in to each other). Every inter-broker client (replica fetchers, transaction
 * markers, partition verification) takes its channels from here.
 */
public final class InterBrokerSecurity {
    private final String listenerName;
    private final SecurityProtocol protocol;
    private final String saslMechanism;
    private final AbstractConfig config;

    private InterBrokerSecurity(String listenerName, SecurityProtocol protocol, String saslMechanism, AbstractConfig config) {
        this.listenerName = listenerName;
        this.protocol = protocol;
        this.saslMechanism = saslMechanism;
        this.config = config;
    }

    public static InterBrokerSecurity from(BrokerConfig brokerConfig) {
        Endpoint listener = brokerConfig.interBrokerListener();
        SecurityProtocol protocol = SecurityProtocol.forName(listener.securityProtocol());
        Map<String, String> settings = brokerConfig.listenerConfigs(listener.listenerName());
        // the listener's "<mechanism>.sasl.jaas.config" texts are passwords to Kafka's parsing, as on its brokers
        ConfigDef def = new ConfigDef(BrokerSecurityConfigs.CONFIG_DEF);
        settings.keySet().stream().filter(k -> k.endsWith("." + SaslConfigs.SASL_JAAS_CONFIG) && !def.names().contains(k))
                .forEach(k -> def.define(k, ConfigDef.Type.PASSWORD, null, ConfigDef.Importance.LOW, "JAAS text"));
        AbstractConfig config = new AbstractConfig(def, settings, false);
        String mechanism = config.getString(BrokerSecurityConfigs.SASL_MECHANISM_INTER_BROKER_PROTOCOL_CONFIG);
        boolean sasl = protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
        if (sasl && !config.getList(BrokerSecurityConfigs.SASL_ENABLED_MECHANISMS_CONFIG).contains(mechanism)) {
            throw new ConfigException(BrokerSecurityConfigs.SASL_MECHANISM_INTER_BROKER_PROTOCOL_CONFIG, mechanism,
                    "sasl.mechanism.inter.broker.protocol must be included in sasl.enabled.mechanisms when SASL is used "
                            + "for inter-broker communication");
        }
        return new InterBrokerSecurity(listener.listenerName(), protocol, mechanism, config);
    }

    public String listenerName() {
        return listenerName;
    }

    public SecurityProtocol protocol() {
        return protocol;
    }

    /** A new client-side channel builder for one inter-broker client (each Selector owns its own). */
    public ChannelBuilder channelBuilder(Time time, LogContext logContext) {
        return ChannelBuilders.clientChannelBuilder(protocol, JaasContext.Type.SERVER, config,
                ListenerName.normalised(listenerName), saslMechanism, time, logContext);
    }
}
