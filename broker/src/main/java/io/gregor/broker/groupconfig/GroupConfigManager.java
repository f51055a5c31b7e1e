package io.gregor.broker.groupconfig;

import io.gregor.broker.metadata.MetadataStore;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigEntry;
import io.gregor.config.ConfigException;
import io.gregor.config.GroupConfigs;
import io.gregor.coordinator.GroupSettings;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Kafka's GROUP config resource: each group's own configs, kept in the metadata store (a file of a single broker,
 * {@code /config/groups/<group>} in a ZooKeeper cluster, so every broker sees them and they survive restarts),
 * checked against the broker's current bounds, and read by the coordinators at each use.
 */
public final class GroupConfigManager implements GroupSettings {
    private static final Logger log = LoggerFactory.getLogger(GroupConfigManager.class);

    private final MetadataStore store;
    private final Supplier<BrokerConfig> broker;

    public GroupConfigManager(MetadataStore store, Supplier<BrokerConfig> broker) {
        this.store = store;
        this.broker = broker;
    }

    /** DescribeConfigs of a GROUP resource: every key with value, source and synonyms. */
    public List<ConfigEntry> describe(String group) {
        requireName(group, "Group name must not be empty");
        return GroupConfigs.describe(broker.get(), store.groupConfigs(group));
    }

    /** The groups with configs of their own. */
    public java.util.Collection<String> groupsWithConfigs() {
        return store.groupsWithConfigs();
    }

    /** The group's overrides as stored. */
    public Map<String, String> overrides(String group) {
        return store.groupConfigs(group);
    }

    /**
     * Replaces the group's overrides with {@code change} applied to them, after Kafka's checks of the result
     * (INVALID_CONFIG naming the key); with {@code validateOnly} nothing is written.
     */
    public synchronized void alter(String group, UnaryOperator<Map<String, String>> change, boolean validateOnly) {
        requireName(group, "Default group resources are not allowed.");
        Map<String, String> next = new TreeMap<>(change.apply(new TreeMap<>(store.groupConfigs(group))));
        try {
            GroupConfigs.validate(broker.get(), next);
        } catch (ConfigException e) {
            log.info("Refused to alter the configs of group '{}': {}", group, e.getMessage());
            throw new InvalidConfigurationException(e.getMessage());
        }
        if (!validateOnly) {
            store.setGroupConfigs(group, next);
            log.info("Configs of group '{}' set to {}", group, next);
        }
    }

    @Override
    public int intValue(String groupId, String key) {
        return GroupConfigs.intValue(broker.get(), store.groupConfigs(groupId), key);
    }

    @Override
    public String stringValue(String groupId, String key) {
        return GroupConfigs.stringValue(broker.get(), store.groupConfigs(groupId), key);
    }

    private static void requireName(String group, String message) {
        if (group == null || group.isEmpty()) {
            throw new InvalidRequestException(message);
        }
    }
}
