package io.gregor.config;

/** One listener, e.g. {@code PLAINTEXT://127.0.0.1:9092}. An empty host means all interfaces. */
public record Endpoint(String listenerName, String securityProtocol, String host, int port) {

    /** The listener in Kafka's {@code NAME://host:port} notation (IPv6 hosts bracketed). */
    public String connectionString() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return listenerName + "://" + h + ":" + port;
    }
}
