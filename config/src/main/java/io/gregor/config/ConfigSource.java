package io.gregor.config;

/** Where a config value came from; ids are Kafka's DescribeConfigs wire values. */
public enum ConfigSource {
    UNKNOWN(0), TOPIC_CONFIG(1), DYNAMIC_BROKER_CONFIG(2), DYNAMIC_DEFAULT_BROKER_CONFIG(3),
    STATIC_BROKER_CONFIG(4), DEFAULT_CONFIG(5), DYNAMIC_BROKER_LOGGER_CONFIG(6), CLIENT_METRICS_CONFIG(7),
    GROUP_CONFIG(8);

    private final byte id;

    ConfigSource(int id) {
        this.id = (byte) id;
    }

    public byte id() {
        return id;
    }
}
