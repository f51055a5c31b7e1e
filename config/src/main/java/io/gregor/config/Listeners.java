package io.gregor.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Parses Kafka's listener notation: comma-separated {@code NAME://host:port}, host empty, a name or {@code [ipv6]}. */
final class Listeners {
    private Listeners() {
    }

    static final String PLAINTEXT = "PLAINTEXT";
    static final Set<String> KNOWN_PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");

    /** Listener name (upper-cased, as Kafka normalises it) to security protocol. */
    static Map<String, String> parseProtocolMap(String key, String value) {
        Map<String, String> map = new HashMap<>();
        for (String entry : value.split(",")) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            int colon = trimmed.indexOf(':');
            if (colon <= 0 || colon == trimmed.length() - 1) {
                throw new ConfigException(key, value, "entry '" + trimmed + "' is not NAME:PROTOCOL");
            }
            String name = trimmed.substring(0, colon).trim().toUpperCase(Locale.ROOT);
            String protocol = trimmed.substring(colon + 1).trim().toUpperCase(Locale.ROOT);
            if (!KNOWN_PROTOCOLS.contains(protocol)) {
                throw new ConfigException(key, value, "unknown security protocol " + protocol);
            }
            if (map.put(name, protocol) != null) {
                throw new ConfigException(key, value, "listener name " + name + " is mapped twice");
            }
        }
        return map;
    }

    static List<Endpoint> parse(String key, List<String> entries, Map<String, String> protocolMap) {
        List<Endpoint> endpoints = new ArrayList<>(entries.size());
        Set<String> names = new HashSet<>();
        for (String entry : entries) {
            Endpoint endpoint = parseOne(key, entry.trim(), protocolMap);
            if (!names.add(endpoint.listenerName())) {
                throw new ConfigException(key, String.join(",", entries),
                        "each listener must have a different name; " + endpoint.listenerName() + " appears twice");
            }
            endpoints.add(endpoint);
        }
        return List.copyOf(endpoints);
    }

    private static Endpoint parseOne(String key, String entry, Map<String, String> protocolMap) {
        int sep = entry.indexOf("://");
        if (sep <= 0) {
            throw new ConfigException(key, entry, "expected NAME://host:port");
        }
        String name = entry.substring(0, sep).toUpperCase(Locale.ROOT);
        String hostPort = entry.substring(sep + 3);
        String host;
        String port;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0 || close + 1 >= hostPort.length() || hostPort.charAt(close + 1) != ':') {
                throw new ConfigException(key, entry, "expected NAME://[ipv6]:port");
            }
            host = hostPort.substring(1, close);
            port = hostPort.substring(close + 2);
        } else {
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new ConfigException(key, entry, "expected NAME://host:port");
            }
            host = hostPort.substring(0, colon);
            port = hostPort.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new ConfigException(key, entry, "IPv6 hosts must be written in brackets, e.g. [::1]");
            }
        }
        if (host.chars().anyMatch(Character::isWhitespace) || host.indexOf('/') >= 0) {
            throw new ConfigException(key, entry, "invalid host '" + host + "'");
        }
        int portNumber;
        try {
            portNumber = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new ConfigException(key, entry, "port '" + port + "' is not a number");
        }
        if (portNumber < 0 || portNumber > 65535) {
            throw new ConfigException(key, entry, "port must be between 0 and 65535");
        }
        String protocol = protocolMap.get(name);
        if (protocol == null) {
            throw new ConfigException(key, entry,
                    "no security protocol is defined for listener " + name + " in listener.security.protocol.map");
        }
        return new Endpoint(name, protocol, host, portNumber);
    }
}
