package io.gregor.coordinator.consumer;

import java.util.Locale;

/**
 * group.consumer.migration.policy: whether a non-empty classic group converts to a consumer group when a
 * consumer-protocol member joins it (upgrade), and back when its last consumer-protocol member leaves
 * (downgrade). Kafka's default is bidirectional.
 */
public enum MigrationPolicy {
    BIDIRECTIONAL(true, true), UPGRADE(true, false), DOWNGRADE(false, true), DISABLED(false, false);

    private final boolean upgrade;
    private final boolean downgrade;

    MigrationPolicy(boolean upgrade, boolean downgrade) {
        this.upgrade = upgrade;
        this.downgrade = downgrade;
    }

    public boolean isUpgradeEnabled() {
        return upgrade;
    }

    public boolean isDowngradeEnabled() {
        return downgrade;
    }

    /** Case-insensitive, as Kafka parses it (the config validation has already refused other names). */
    public static MigrationPolicy parse(String name) {
        return name == null ? BIDIRECTIONAL : valueOf(name.trim().toUpperCase(Locale.ROOT));
    }
}
