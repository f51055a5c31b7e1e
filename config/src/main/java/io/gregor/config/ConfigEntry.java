package io.gregor.config;

import java.util.List;

/** One config as DescribeConfigs reports it; synonyms are in precedence order, the entry's own source first. */
public record ConfigEntry(String name, String value, ConfigSource source, boolean sensitive,
                          boolean readOnly, ConfigType type, String documentation, List<ConfigSynonym> synonyms) {
    public ConfigEntry {
        synonyms = List.copyOf(synonyms);
    }
}
