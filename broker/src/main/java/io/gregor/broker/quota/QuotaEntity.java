package io.gregor.broker.quota;

import org.apache.kafka.common.utils.internals.Sanitizer;

/**
 * What a client quota is set on, as Kafka's ClientQuotaEntity: a user, a client id, or both. A component
 * is absent (null) or named; {@link #DEFAULT} names the default entity, which Kafka writes as
 * {@code <default>} (ZooKeeper's /config/users/&lt;default&gt;).
 */
record QuotaEntity(String user, String clientId) {
    static final String DEFAULT = "<default>";

    QuotaEntity {
        if (user == null && clientId == null) {
            throw new IllegalArgumentException("a quota entity names a user, a client id or both");
        }
    }

    /**
     * The entity's path in Kafka's ZooKeeper layout below /config, names sanitized as Kafka sanitized them:
     * {@code users/<user>}, {@code clients/<id>} or {@code users/<user>/clients/<id>}.
     */
    String path() {
        if (clientId == null) {
            return "users/" + sanitize(user);
        }
        return user == null ? "clients/" + sanitize(clientId) : "users/" + sanitize(user) + "/clients/" + sanitize(clientId);
    }

    /** The entity at a path made by {@link #path()}; null when the path is not a client quota entity's. */
    static QuotaEntity fromPath(String path) {
        String[] parts = path.split("/");
        if (parts.length == 2 && parts[0].equals("users")) {
            return new QuotaEntity(desanitize(parts[1]), null);
        }
        if (parts.length == 2 && parts[0].equals("clients")) {
            return new QuotaEntity(null, desanitize(parts[1]));
        }
        if (parts.length == 4 && parts[0].equals("users") && parts[2].equals("clients")) {
            return new QuotaEntity(desanitize(parts[1]), desanitize(parts[3]));
        }
        return null;
    }

    private static String sanitize(String name) {
        return DEFAULT.equals(name) ? DEFAULT : Sanitizer.sanitize(name);
    }

    private static String desanitize(String name) {
        return DEFAULT.equals(name) ? DEFAULT : Sanitizer.desanitize(name);
    }

    boolean hasUser() {
        return user != null;
    }

    boolean hasClientId() {
        return clientId != null;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        if (user != null) {
            s.append("user=").append(user);
        }
        if (clientId != null) {
            s.append(s.length() > 0 ? ", " : "").append("client-id=").append(clientId);
        }
        return s.toString();
    }
}
