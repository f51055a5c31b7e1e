package io.gregor.coordinator;

import java.util.Locale;

/** The classic group states, named as Kafka names them on the wire (DescribeGroups, ListGroups). */
public enum GroupState {
    EMPTY("Empty"),
    PREPARING_REBALANCE("PreparingRebalance"),
    COMPLETING_REBALANCE("CompletingRebalance"),
    STABLE("Stable"),
    DEAD("Dead");

    private final String wireName;

    GroupState(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** ListGroups' states filter compares names case-insensitively. */
    public boolean matches(String name) {
        return wireName.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT));
    }
}
