package io.gregor.config;

/** A key that contributes to a config entry's value, as DescribeConfigs reports it. */
public record ConfigSynonym(String name, String value, ConfigSource source) {}
