package io.gregor.broker.authz;

import io.gregor.broker.zk.Json;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.SecurityUtils;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's ZooKeeper-mode ACL layout and JSON (kafka.zk.ZkData, AclEntry in Kafka 3.9): one znode per resource
 * pattern, {@code /kafka-acl/<Type>/<name>} for literal and {@code /kafka-acl-extended/prefixed/<Type>/<name>} for
 * prefixed patterns, holding {@code {"version":1,"acls":[{"principal":..,"permissionType":..,"operation":..,"host":..}]}};
 * a change is announced under {@code /kafka-acl-changes} or {@code /kafka-acl-extended-changes}.
 */
public final class AclJson {
    public static final String LITERAL_ACLS = "/kafka-acl";
    public static final String EXTENDED_ACLS = "/kafka-acl-extended";
    public static final String PREFIXED_ACLS = EXTENDED_ACLS + "/prefixed";
    public static final String LITERAL_CHANGES = "/kafka-acl-changes";
    public static final String EXTENDED_CHANGES = "/kafka-acl-extended-changes";
    public static final String CHANGE_PREFIX = "acl_changes_";

    private AclJson() {
    }

    public static String encode(Set<AccessControlEntry> entries) {
        List<Object> acls = new ArrayList<>();
        for (AccessControlEntry e : entries) {
            Map<String, Object> acl = new LinkedHashMap<>();
            acl.put("principal", e.principal());
            acl.put("permissionType", SecurityUtils.permissionTypeName(e.permissionType()));
            acl.put("operation", SecurityUtils.operationName(e.operation()));
            acl.put("host", e.host());
            acls.add(acl);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("acls", acls);
        return Json.write(json);
    }

    public static Set<AccessControlEntry> decode(String text) {
        Set<AccessControlEntry> entries = new HashSet<>();
        if (text == null || text.isBlank()) {
            return entries;
        }
        if (Json.parse(text) instanceof Map<?, ?> json && json.get("acls") instanceof List<?> acls) {
            for (Object o : acls) {
                if (o instanceof Map<?, ?> acl) {
                    entries.add(new AccessControlEntry(
                            SecurityUtils.parseKafkaPrincipal(String.valueOf(acl.get("principal"))).toString(),
                            String.valueOf(acl.get("host")),
                            SecurityUtils.operation(String.valueOf(acl.get("operation"))),
                            SecurityUtils.permissionType(String.valueOf(acl.get("permissionType")))));
                }
            }
        }
        return entries;
    }

    /** The znode of a resource pattern's ACLs. */
    public static String path(ResourcePattern resource) {
        String base = resource.patternType() == PatternType.LITERAL ? LITERAL_ACLS : PREFIXED_ACLS;
        return base + "/" + SecurityUtils.resourceTypeName(resource.resourceType()) + "/" + resource.name();
    }

    /** The resource pattern of an ACL znode's path, null for any other path. */
    public static ResourcePattern resourceOf(String path) {
        String[] parts = path.split("/", -1);
        // "", "kafka-acl", Type, name  |  "", "kafka-acl-extended", "prefixed", Type, name
        if (path.startsWith(LITERAL_ACLS + "/") && parts.length >= 4) {
            return pattern(parts[2], String.join("/", List.of(parts).subList(3, parts.length)), PatternType.LITERAL);
        }
        if (path.startsWith(PREFIXED_ACLS + "/") && parts.length >= 5) {
            return pattern(parts[3], String.join("/", List.of(parts).subList(4, parts.length)), PatternType.PREFIXED);
        }
        return null;
    }

    private static ResourcePattern pattern(String typeName, String name, PatternType patternType) {
        ResourceType type = SecurityUtils.resourceType(typeName);
        return type == ResourceType.UNKNOWN || name.isEmpty() ? null : new ResourcePattern(type, name, patternType);
    }

    /** The change notification Kafka writes: {@code TOPIC:name} for literal, JSON for prefixed patterns. */
    public static String changeNotification(ResourcePattern resource) {
        if (resource.patternType() == PatternType.LITERAL) {
            return resource.resourceType().toString() + ":" + resource.name();
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("resourceType", resource.resourceType().name());
        json.put("name", resource.name());
        json.put("patternType", resource.patternType().name());
        return Json.write(json);
    }
}
