package io.gregor.config;

/** A broker or topic configuration problem. The message always names the offending key. */
public class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    public ConfigException(String key, Object value, String reason) {
        this(key, "Invalid value " + value + " for configuration " + key + (reason == null ? "" : ": " + reason));
    }

    /** The configuration key the problem is about. */
    public String key() {
        return key;
    }
}
