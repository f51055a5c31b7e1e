package io.gregor.broker.metadata;

import java.net.InetSocketAddress;
import java.util.Map;

/**
 * A live broker as registered in the cluster: id, rack, and the advertised address of each of its listeners
 * ({@code endpoints}, by listener name); {@code host}/{@code port} are its first listener's.
 */
public record BrokerInfo(int id, String host, int port, String rack, Map<String, InetSocketAddress> endpoints) {
    public BrokerInfo(int id, String host, int port, String rack) {
        this(id, host, port, rack, Map.of());
    }

    /**
     * This broker as reached through the listener named {@code listenerName}: what clients of that listener
     * and the inter-broker listener's users connect to, as Kafka answers per listener. Null when the broker
     * has no such listener (Kafka leaves it out of that listener's metadata).
     */
    public BrokerInfo on(String listenerName) {
        if (endpoints.isEmpty()) {
            return this; // registered without listener names: the one address there is
        }
        InetSocketAddress a = endpoints.get(listenerName);
        return a == null ? null : new BrokerInfo(id, a.getHostString(), a.getPort(), rack, endpoints);
    }
}
