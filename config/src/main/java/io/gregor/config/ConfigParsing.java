package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Parses string properties against a ConfigDef key by key, so every failure can name its key. */
final class ConfigParsing {
    private ConfigParsing() {
    }

    /** Parsed values for every key of {@code def}: supplied value, else default (null when there is none). */
    static Map<String, Object> parse(ConfigDef def, Map<String, String> props) {
        Map<String, Object> values = new HashMap<>();
        for (ConfigKey key : def.configKeys().values()) {
            String raw = props.get(key.name);
            Object value;
            if (raw != null) {
                value = parseOne(key, raw);
            } else if (key.defaultValue == ConfigDef.NO_DEFAULT_VALUE) {
                throw new ConfigException(key.name,
                        "Missing required configuration \"" + key.name + "\" which has no default value.");
            } else {
                value = key.defaultValue;
            }
            values.put(key.name, value);
        }
        return values;
    }

    static Object parseOne(ConfigKey key, String raw) {
        try {
            Object value = ConfigDef.parseType(key.name, raw, key.type);
            if (key.validator != null) {
                key.validator.ensureValid(key.name, value);
            }
            return value;
        } catch (org.apache.kafka.common.config.ConfigException e) {
            // Kafka's message already reads "Invalid value X for configuration KEY: reason".
            throw new ConfigException(key.name, e.getMessage());
        }
    }

    /** Kafka's string form of a parsed value (lists comma-joined); null stays null. */
    static String asString(Object value, ConfigDef.Type type) {
        return value == null ? null : ConfigDef.convertToString(value, type);
    }

    /** Validators run against defaults too, so keys whose default is "unset" (null) must accept null. */
    static ConfigDef.Validator nullOr(ConfigDef.Validator validator) {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                if (value != null) {
                    validator.ensureValid(name, value);
                }
            }

            @Override
            public String toString() {
                return validator + " or unset";
            }
        };
    }

    static ConfigDef.Validator oneOf(String... allowed) {
        return ConfigDef.ValidString.in(allowed);
    }

    static List<String> names(ConfigDef def) {
        return def.configKeys().keySet().stream().sorted().toList();
    }
}
