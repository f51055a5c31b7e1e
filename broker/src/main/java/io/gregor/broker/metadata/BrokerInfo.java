package io.gregor.broker.metadata;

/** A live broker as registered in the cluster: id, the host and port clients and replicas connect to, rack. */
public record BrokerInfo(int id, String host, int port, String rack) {
}
