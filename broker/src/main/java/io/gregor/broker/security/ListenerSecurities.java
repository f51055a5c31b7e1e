package io.gregor.broker.security;

import java.util.Map;

import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigException;
import io.gregor.config.Endpoint;
import io.gregor.wire.security.ListenerSecurity;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.authenticator.CredentialCache;

/**
 * Builds each listener's {@link ListenerSecurity} from the broker's configuration, with Kafka's
 * {@code listener.name.<name>.} overrides applied; any setting Kafka's own parts reject (a missing
 * keystore, a wrong password, an unknown mechanism) fails the start naming the key and the listener.
 */
public final class ListenerSecurities {
    private ListenerSecurities() {
    }

    public static ListenerSecurity forListener(BrokerConfig config, Endpoint listener, CredentialCache credentials) {
        SecurityProtocol protocol = SecurityProtocol.forName(listener.securityProtocol());
        Map<String, String> settings = config.listenerConfigs(listener.listenerName());
        try {
            return ListenerSecurity.create(listener.listenerName(), protocol, settings, credentials);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new ConfigException("listeners", listener.connectionString(), e.getMessage());
        } catch (KafkaException | IllegalArgumentException e) {
            // SslFactory's failures (unreadable keystore, bad password) name the cause, not always the key
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new ConfigException("listeners", listener.connectionString(), "the " + protocol
                    + " settings of listener " + listener.listenerName() + " (ssl.*/sasl.*, or listener.name."
                    + listener.listenerName().toLowerCase(java.util.Locale.ROOT) + ".*) are invalid: " + e.getMessage()
                    + (root != e ? " (" + root + ")" : ""));
        }
    }
}
