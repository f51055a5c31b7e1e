package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ListenersTest {
    private static BrokerConfig listeners(String value) {
        return BrokerConfig.of(Map.of("listeners", value));
    }

    @Test
    void emptyHostMeansAllInterfaces() {
        assertThat(listeners("PLAINTEXT://:9093").listeners())
                .containsExactly(new Endpoint("PLAINTEXT", "PLAINTEXT", "", 9093));
    }

    @Test
    void hostnameAndIpv4() {
        assertThat(listeners("PLAINTEXT://broker1.example:9092").listeners())
                .containsExactly(new Endpoint("PLAINTEXT", "PLAINTEXT", "broker1.example", 9092));
        assertThat(listeners("PLAINTEXT://127.0.0.1:0").listeners().get(0).port()).isZero();
    }

    @Test
    void ipv6HostIsUnbracketed() {
        Endpoint endpoint = listeners("PLAINTEXT://[::1]:9092").listeners().get(0);
        assertThat(endpoint.host()).isEqualTo("::1");
        assertThat(endpoint.port()).isEqualTo(9092);
        assertThat(endpoint.connectionString()).isEqualTo("PLAINTEXT://[::1]:9092");
        assertThat(listeners("PLAINTEXT://[fe80::1%eth0]:1").listeners().get(0).host()).isEqualTo("fe80::1%eth0");
    }

    @Test
    void unbracketedIpv6IsRejected() {
        assertThatThrownBy(() -> listeners("PLAINTEXT://::1:9092"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listeners");
    }

    @Test
    void multipleListenersWithCustomNamesMappedToPlaintext() {
        BrokerConfig config = BrokerConfig.of(Map.of(
                "listeners", "INTERNAL://127.0.0.1:9092, external://:9094",
                "listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
                "inter.broker.listener.name", "INTERNAL"));
        assertThat(config.listeners()).containsExactly(
                new Endpoint("INTERNAL", "PLAINTEXT", "127.0.0.1", 9092),
                new Endpoint("EXTERNAL", "PLAINTEXT", "", 9094));
    }

    @Test
    void everySecurityProtocolOfKafkasDefaultMapIsAListener() {
        BrokerConfig config = BrokerConfig.of(Map.of("listeners",
                "PLAINTEXT://:9092,SSL://:9093,SASL_PLAINTEXT://:9094,SASL_SSL://:9095"));
        assertThat(config.listeners()).extracting(Endpoint::securityProtocol)
                .containsExactly("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
        assertThat(config.interBrokerListener().listenerName()).isEqualTo("PLAINTEXT");
        BrokerConfig secure = BrokerConfig.of(Map.of("listeners", "SECURE://:9093,INTERNAL://:9094",
                "listener.security.protocol.map", "SECURE:SASL_SSL,INTERNAL:SSL", "inter.broker.listener.name", "internal"));
        assertThat(secure.listeners().get(0)).isEqualTo(new Endpoint("SECURE", "SASL_SSL", "", 9093));
        assertThat(secure.interBrokerListener()).isEqualTo(new Endpoint("INTERNAL", "SSL", "", 9094));
        assertThat(BrokerConfig.of(Map.of("listeners", "SSL://:9093", "security.inter.broker.protocol", "SSL"))
                .interBrokerListener().listenerName()).isEqualTo("SSL");
    }

    @Test
    void interBrokerListenerMustBeAdvertisedAndSetOnce() {
        assertThatThrownBy(() -> listeners("SSL://:9093"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("security.inter.broker.protocol");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listeners", "SSL://:9093", "inter.broker.listener.name", "OTHER")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("inter.broker.listener.name");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listeners", "SSL://:9093", "inter.broker.listener.name", "SSL",
                "security.inter.broker.protocol", "SSL")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("only one of");
    }

    @Test
    void perListenerOverridesWinOverTheBrokerWideKey() {
        BrokerConfig config = BrokerConfig.of(Map.of("listeners", "PLAINTEXT://:9092,SSL://:9093",
                "ssl.client.auth", "none", "listener.name.ssl.ssl.client.auth", "required",
                "listener.name.ssl.plain.sasl.jaas.config", "x"));
        assertThat(config.listenerConfigs("SSL")).containsEntry("ssl.client.auth", "required")
                .containsEntry("plain.sasl.jaas.config", "x").doesNotContainKey("listener.name.ssl.ssl.client.auth");
        assertThat(config.listenerConfigs("PLAINTEXT")).containsEntry("ssl.client.auth", "none")
                .doesNotContainKey("plain.sasl.jaas.config");
        assertThat(config.unknownKeys()).isEmpty();
    }

    @Test
    void listenerWithoutMappedProtocolNamesListeners() {
        assertThatThrownBy(() -> listeners("CLIENT://:9092"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listeners").hasMessageContaining("CLIENT");
    }

    @Test
    void malformedEntriesAreRejected() {
        for (String bad : new String[] {"localhost:9092", "PLAINTEXT://:port", "PLAINTEXT://host", "PLAINTEXT://:70000",
                "PLAINTEXT://[::1]9092", "PLAINTEXT://bad host:1"}) {
            assertThatThrownBy(() -> listeners(bad)).as(bad)
                    .isInstanceOf(ConfigException.class).hasMessageContaining("listeners");
        }
        assertThatThrownBy(() -> listeners(""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listeners");
    }

    @Test
    void duplicateListenerNamesAreAnError() {
        assertThatThrownBy(() -> listeners("PLAINTEXT://:9092,PLAINTEXT://:9093"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listeners").hasMessageContaining("PLAINTEXT");
    }

    @Test
    void badProtocolMapNamesItsKey() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listener.security.protocol.map", "PLAINTEXT:TLS")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listener.security.protocol.map");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listener.security.protocol.map", "PLAINTEXT")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listener.security.protocol.map");
    }

    @Test
    void advertisedListenersDefaultToListenersOrAreParsed() {
        BrokerConfig config = BrokerConfig.of(Map.of("listeners", "PLAINTEXT://0.0.0.0:9092",
                "advertised.listeners", "PLAINTEXT://broker.example:19092"));
        assertThat(config.listeners()).containsExactly(new Endpoint("PLAINTEXT", "PLAINTEXT", "0.0.0.0", 9092));
        assertThat(config.advertisedListeners())
                .containsExactly(new Endpoint("PLAINTEXT", "PLAINTEXT", "broker.example", 19092));
    }

    @Test
    void advertisedListenersMustBeRoutableAndKnown() {
        assertThatThrownBy(() -> listeners("PLAINTEXT://0.0.0.0:9092"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("advertised.listeners");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listeners", "PLAINTEXT://:9092",
                "listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT",
                "advertised.listeners", "OTHER://h:9092")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("advertised.listeners");
    }
}
