package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;

/** A config's value type; ids are Kafka's DescribeConfigs wire values. */
public enum ConfigType {
    UNKNOWN(0), BOOLEAN(1), STRING(2), INT(3), SHORT(4), LONG(5), DOUBLE(6), LIST(7), CLASS(8), PASSWORD(9);

    private final byte id;

    ConfigType(int id) {
        this.id = (byte) id;
    }

    public byte id() {
        return id;
    }

    static ConfigType of(ConfigDef.Type type) {
        return switch (type) {
            case BOOLEAN -> BOOLEAN;
            case STRING -> STRING;
            case INT -> INT;
            case SHORT -> SHORT;
            case LONG -> LONG;
            case DOUBLE -> DOUBLE;
            case LIST -> LIST;
            case CLASS -> CLASS;
            case PASSWORD -> PASSWORD;
        };
    }
}
