package io.gregor.coordinator.consumer;

import java.util.Locale;

/** The server-side assignors Gregor offers, by the names Kafka gives them. */
public final class Assignors {
    private static final Assignor UNIFORM = new UniformAssignor();
    private static final Assignor RANGE = new RangeAssignor();

    private Assignors() {
    }

    /**
     * The assignor of that name ("uniform", "range") or of Kafka's class name for it
     * (group.consumer.assignors accepts both); null when unknown.
     */
    public static Assignor byName(String name) {
        if (name == null) {
            return null;
        }
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "uniform", "org.apache.kafka.coordinator.group.assignor.uniformassignor" -> UNIFORM;
            case "range", "org.apache.kafka.coordinator.group.assignor.rangeassignor" -> RANGE;
            default -> null;
        };
    }
}
