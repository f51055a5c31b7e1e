package io.gregor.broker.authz;

import io.gregor.broker.metadata.MetadataStore;
import io.gregor.wire.KafkaRequest;
import io.gregor.wire.RequestAuthorizer;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gregor's built-in ACL authorizer, what {@code authorizer.class.name} names (Kafka's StandardAuthorizer or
 * AclAuthorizer class names): Kafka's ACL semantics over the ACLs in the {@link MetadataStore}. A request is
 * allowed when its principal is a super user, or when an ALLOW ACL matches and no DENY does; an ACL matches by
 * resource (literal name, the literal wildcard {@code *}, or a prefix), principal (or {@code User:*}), host (or
 * {@code *}) and operation (ALL; READ, WRITE, DELETE and ALTER allow DESCRIBE; ALTER_CONFIGS allows
 * DESCRIBE_CONFIGS). A resource no ACL matches at all is open only with {@code allow.everyone.if.no.acl.found}.
 * Reads use an immutable snapshot, rebuilt when the store reports a change (here or on another broker).
 */
public final class AclAuthorizer implements RequestAuthorizer {
    private static final Logger log = LoggerFactory.getLogger(AclAuthorizer.class);
    /** Kafka's kafka.authorizer.logger; denials at DEBUG (a Metadata for all topics would log one per hidden topic). */
    private static final Logger authorizerLog = LoggerFactory.getLogger("kafka.authorizer.logger");
    private static final String WILDCARD = ResourcePattern.WILDCARD_RESOURCE;
    private static final String WILDCARD_PRINCIPAL = "User:*";
    private static final Set<AclOperation> IMPLIES_DESCRIBE = EnumSet.of(AclOperation.DESCRIBE, AclOperation.READ,
            AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER);
    private static final Set<AclOperation> IMPLIES_DESCRIBE_CONFIGS = EnumSet.of(AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS);

    private final MetadataStore store;
    private final Set<String> superUsers;
    private final boolean allowIfNoAclFound;
    private volatile Snapshot snapshot = new Snapshot(Map.of());

    public AclAuthorizer(MetadataStore store, Set<String> superUsers, boolean allowIfNoAclFound) {
        this.store = store;
        this.superUsers = Set.copyOf(superUsers);
        this.allowIfNoAclFound = allowIfNoAclFound;
    }

    /** Loads the stored ACLs and follows their changes. */
    public AclAuthorizer start() {
        store.listenAcls(changed -> reload());
        reload();
        log.info("ACL authorizer: {} ACL(s) on {} resource pattern(s); super users {}; allow.everyone.if.no.acl.found={}",
                snapshot.count(), snapshot.acls.size(), superUsers, allowIfNoAclFound);
        return this;
    }

    private synchronized void reload() {
        snapshot = new Snapshot(store.acls());
    }

    @Override
    public boolean authorize(KafkaRequest.ConnectionInfo who, AclOperation operation, ResourceType type, String name) {
        String principal = who.principal().toString();
        if (superUsers.contains(principal)) {
            return true;
        }
        boolean allowed = decide(snapshot, principal, hostOf(who), operation, type, name);
        if (!allowed && authorizerLog.isDebugEnabled()) {
            authorizerLog.debug("Principal = {} is Denied operation = {} from host = {} on resource = {}:LITERAL:{}",
                    principal, operation, hostOf(who), type, name);
        }
        return allowed;
    }

    private boolean decide(Snapshot s, String principal, String host, AclOperation operation, ResourceType type,
                           String name) {
        boolean anyAclOnResource = false;
        boolean allowed = false;
        for (Set<AccessControlEntry> entries : s.matching(type, name)) {
            for (AccessControlEntry acl : entries) {
                anyAclOnResource = true;
                if (!matches(acl, principal, host)) {
                    continue;
                }
                if (acl.permissionType() == AclPermissionType.DENY) {
                    if (acl.operation() == AclOperation.ALL || acl.operation() == operation) {
                        return false; // deny wins
                    }
                } else if (acl.permissionType() == AclPermissionType.ALLOW && allows(acl.operation(), operation)) {
                    allowed = true;
                }
            }
        }
        return allowed || (!anyAclOnResource && allowIfNoAclFound);
    }

    private static boolean matches(AccessControlEntry acl, String principal, String host) {
        return (acl.principal().equals(principal) || acl.principal().equals(WILDCARD_PRINCIPAL))
                && (acl.host().equals(WILDCARD) || acl.host().equals(host));
    }

    private static boolean allows(AclOperation granted, AclOperation wanted) {
        if (granted == AclOperation.ALL || granted == wanted) {
            return true;
        }
        return wanted == AclOperation.DESCRIBE ? IMPLIES_DESCRIBE.contains(granted)
                : wanted == AclOperation.DESCRIBE_CONFIGS && IMPLIES_DESCRIBE_CONFIGS.contains(granted);
    }

    /** Kafka's Authorizer.authorizeByResourceType: an ALLOW on some resource of the type that no DENY dominates. */
    @Override
    public boolean authorizeAny(KafkaRequest.ConnectionInfo who, AclOperation operation, ResourceType type) {
        String principal = who.principal().toString();
        if (superUsers.contains(principal)) {
            return true;
        }
        String host = hostOf(who);
        Snapshot s = snapshot;
        // a hard-coded name first, as Kafka does: allow.everyone.if.no.acl.found and the wildcards count
        if (decide(s, principal, host, operation, type, "hardcode")) {
            return true;
        }
        Set<String> denyLiteral = new HashSet<>();
        Set<String> denyPrefixed = new HashSet<>();
        List<ResourcePattern> allows = new ArrayList<>();
        for (Map.Entry<ResourcePattern, Set<AccessControlEntry>> e : s.acls.entrySet()) {
            ResourcePattern pattern = e.getKey();
            if (pattern.resourceType() != type) {
                continue;
            }
            for (AccessControlEntry acl : e.getValue()) {
                if (!matches(acl, principal, host)
                        || (acl.operation() != operation && acl.operation() != AclOperation.ALL)) {
                    continue;
                }
                if (acl.permissionType() == AclPermissionType.DENY) {
                    if (pattern.patternType() == PatternType.LITERAL && pattern.name().equals(WILDCARD)) {
                        return false;
                    }
                    (pattern.patternType() == PatternType.LITERAL ? denyLiteral : denyPrefixed).add(pattern.name());
                } else if (acl.permissionType() == AclPermissionType.ALLOW) {
                    if (pattern.patternType() == PatternType.LITERAL && pattern.name().equals(WILDCARD)) {
                        return true;
                    }
                    allows.add(pattern);
                }
            }
        }
        for (ResourcePattern allow : allows) {
            if (allow.patternType() == PatternType.LITERAL && denyLiteral.contains(allow.name())) {
                continue;
            }
            boolean dominated = false;
            for (int i = 1; i <= allow.name().length() && !dominated; i++) {
                dominated = denyPrefixed.contains(allow.name().substring(0, i));
            }
            if (!dominated) {
                return true;
            }
        }
        return false;
    }

    private static String hostOf(KafkaRequest.ConnectionInfo who) {
        InetSocketAddress address = who.clientAddress();
        return address == null || address.getAddress() == null ? "" : address.getAddress().getHostAddress();
    }

    // ---------------------------------------------------------------- the ACL APIs

    /** The ACLs matching a filter (DescribeAcls). */
    public List<AclBinding> acls(AclBindingFilter filter) {
        List<AclBinding> out = new ArrayList<>();
        snapshot.acls.forEach((pattern, entries) -> {
            for (AccessControlEntry entry : entries) {
                AclBinding binding = new AclBinding(pattern, entry);
                if (filter.matches(binding)) {
                    out.add(binding);
                }
            }
        });
        return out;
    }

    /** Adds ACLs, one write per resource pattern (CreateAcls); adding an existing ACL is a no-op. */
    public void create(List<AclBinding> bindings) {
        Map<ResourcePattern, List<AccessControlEntry>> byResource = new HashMap<>();
        for (AclBinding b : bindings) {
            byResource.computeIfAbsent(b.pattern(), p -> new ArrayList<>()).add(b.entry());
        }
        byResource.forEach((pattern, entries) -> store.updateAcls(pattern, current -> {
            Set<AccessControlEntry> next = new HashSet<>(current);
            next.addAll(entries);
            return next;
        }));
        reload();
    }

    /** Removes the ACLs each filter matches (DeleteAcls); per filter, the ACLs it removed. */
    public List<List<AclBinding>> delete(List<AclBindingFilter> filters) {
        List<List<AclBinding>> deleted = new ArrayList<>();
        Map<ResourcePattern, Set<AccessControlEntry>> toRemove = new HashMap<>();
        for (AclBindingFilter filter : filters) {
            List<AclBinding> matched = acls(filter);
            deleted.add(matched);
            for (AclBinding b : matched) {
                toRemove.computeIfAbsent(b.pattern(), p -> new HashSet<>()).add(b.entry());
            }
        }
        toRemove.forEach((pattern, entries) -> store.updateAcls(pattern, current -> {
            Set<AccessControlEntry> next = new HashSet<>(current);
            next.removeAll(entries);
            return next;
        }));
        reload();
        return deleted;
    }

    /** The ACLs indexed for matching: literal names per type, and prefixes per type in order. */
    private static final class Snapshot {
        final Map<ResourcePattern, Set<AccessControlEntry>> acls;
        final Map<ResourceType, Map<String, Set<AccessControlEntry>>> literal = new EnumMap<>(ResourceType.class);
        final Map<ResourceType, NavigableMap<String, Set<AccessControlEntry>>> prefixed = new EnumMap<>(ResourceType.class);

        Snapshot(Map<ResourcePattern, Set<AccessControlEntry>> acls) {
            this.acls = Map.copyOf(acls);
            this.acls.forEach((pattern, entries) -> {
                if (entries.isEmpty()) {
                    return;
                }
                if (pattern.patternType() == PatternType.LITERAL) {
                    literal.computeIfAbsent(pattern.resourceType(), t -> new HashMap<>()).put(pattern.name(), Set.copyOf(entries));
                } else if (pattern.patternType() == PatternType.PREFIXED) {
                    prefixed.computeIfAbsent(pattern.resourceType(), t -> new TreeMap<>()).put(pattern.name(), Set.copyOf(entries));
                }
            });
        }

        int count() {
            return acls.values().stream().mapToInt(Set::size).sum();
        }

        /** The ACL sets whose pattern matches the resource: its literal name, the wildcard, and its prefixes. */
        List<Set<AccessControlEntry>> matching(ResourceType type, String name) {
            List<Set<AccessControlEntry>> out = null;
            Map<String, Set<AccessControlEntry>> literals = literal.get(type);
            if (literals != null) {
                out = add(out, literals.get(name));
                if (!WILDCARD.equals(name)) {
                    out = add(out, literals.get(WILDCARD));
                }
            }
            NavigableMap<String, Set<AccessControlEntry>> prefixes = prefixed.get(type);
            if (prefixes != null) {
                // every prefix of name sorts at or before it
                for (Map.Entry<String, Set<AccessControlEntry>> e : prefixes.headMap(name, true).entrySet()) {
                    if (name.startsWith(e.getKey())) {
                        out = add(out, e.getValue());
                    }
                }
            }
            return out == null ? Collections.emptyList() : out;
        }

        private static List<Set<AccessControlEntry>> add(List<Set<AccessControlEntry>> out, Set<AccessControlEntry> entries) {
            if (entries == null) {
                return out;
            }
            List<Set<AccessControlEntry>> list = out == null ? new ArrayList<>(2) : out;
            list.add(entries);
            return list;
        }
    }
}
