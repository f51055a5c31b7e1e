package io.gregor.broker.authz;

import io.gregor.broker.metadata.LocalMetadataStore;
import io.gregor.wire.KafkaRequest.ConnectionInfo;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.apache.kafka.common.acl.AclOperation.ALTER;
import static org.apache.kafka.common.acl.AclOperation.ALTER_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.DELETE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.acl.AclPermissionType.ALLOW;
import static org.apache.kafka.common.acl.AclPermissionType.DENY;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;

/** Kafka's ACL matching rules, on ACLs kept in a real single-broker metadata store. */
class AclAuthorizerTest {
    @TempDir
    Path dir;
    private LocalMetadataStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private AclAuthorizer authorizer(boolean allowIfNoAcl) {
        store = new LocalMetadataStore(dir.resolve("meta"));
        return new AclAuthorizer(store, Set.of("User:admin"), allowIfNoAcl).start();
    }

    private static ConnectionInfo user(String name, String ip) {
        return new ConnectionInfo("c", new InetSocketAddress(ip, 5000), "SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT,
                new KafkaPrincipal(KafkaPrincipal.USER_TYPE, name));
    }

    private static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, String host,
                                  AclOperation operation, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, host, operation, permission));
    }

    @Test
    void impliedOperationsPrefixesWildcardsAndHosts() {
        AclAuthorizer a = authorizer(false);
        a.create(List.of(
                acl(TOPIC, "orders-", PatternType.PREFIXED, "User:alice", "*", WRITE, ALLOW),
                acl(TOPIC, "*", PatternType.LITERAL, "User:*", "*", ALTER_CONFIGS, ALLOW),
                acl(GROUP, "billing", PatternType.LITERAL, "User:alice", "10.0.0.1", READ, ALLOW)));
        ConnectionInfo alice = user("alice", "127.0.0.1");
        assertThat(a.authorize(alice, WRITE, TOPIC, "orders-eu")).isTrue();
        assertThat(a.authorize(alice, DESCRIBE, TOPIC, "orders-eu")).as("WRITE implies DESCRIBE").isTrue();
        assertThat(a.authorize(alice, READ, TOPIC, "orders-eu")).isFalse();
        assertThat(a.authorize(alice, WRITE, TOPIC, "order")).as("shorter than the prefix").isFalse();
        assertThat(a.authorize(user("bob", "127.0.0.1"), DESCRIBE_CONFIGS, TOPIC, "anything"))
                .as("User:* on the literal wildcard; ALTER_CONFIGS implies DESCRIBE_CONFIGS").isTrue();
        assertThat(a.authorize(user("bob", "127.0.0.1"), DESCRIBE, TOPIC, "anything")).isFalse();
        assertThat(a.authorize(alice, READ, GROUP, "billing")).as("from another host").isFalse();
        assertThat(a.authorize(user("alice", "10.0.0.1"), READ, GROUP, "billing")).isTrue();
        assertThat(a.authorize(user("admin", "127.0.0.1"), DELETE, GROUP, "billing")).as("super user").isTrue();
        // KIP-679: WRITE on some topic lets an idempotent producer in
        assertThat(a.authorizeAny(alice, WRITE, TOPIC)).isTrue();
        assertThat(a.authorizeAny(user("carol", "127.0.0.1"), WRITE, TOPIC)).isFalse();
    }

    @Test
    void denyWinsAndDeletionTakesEffect() {
        AclAuthorizer a = authorizer(false);
        a.create(List.of(
                acl(TOPIC, "t", PatternType.LITERAL, "User:*", "*", AclOperation.ALL, ALLOW),
                acl(TOPIC, "t", PatternType.PREFIXED, "User:bob", "*", WRITE, DENY),
                acl(TOPIC, "t", PatternType.LITERAL, "User:bob", "*", ALTER, ALLOW)));
        assertThat(a.authorize(user("bob", "127.0.0.1"), WRITE, TOPIC, "t")).isFalse();
        assertThat(a.authorize(user("bob", "127.0.0.1"), READ, TOPIC, "t")).isTrue();
        assertThat(a.authorize(user("carol", "127.0.0.1"), WRITE, TOPIC, "t")).isTrue();
        // a DENY on a prefix dominates bob's literal ALLOW when asked by resource type
        assertThat(a.authorizeAny(user("bob", "127.0.0.1"), WRITE, TOPIC)).isFalse();

        List<List<AclBinding>> deleted = a.delete(List.of(new AclBindingFilter(
                new org.apache.kafka.common.resource.ResourcePatternFilter(TOPIC, "t", PatternType.ANY),
                new org.apache.kafka.common.acl.AccessControlEntryFilter("User:bob", null, AclOperation.ANY,
                        AclPermissionType.ANY))));
        assertThat(deleted.get(0)).hasSize(2);
        assertThat(a.authorize(user("bob", "127.0.0.1"), WRITE, TOPIC, "t")).isTrue();
        // what is left is on disk: a new store sees the same
        AclAuthorizer reloaded = new AclAuthorizer(new LocalMetadataStore(dir.resolve("meta")), Set.of(), false).start();
        assertThat(reloaded.acls(AclBindingFilter.ANY)).singleElement()
                .satisfies(b -> assertThat(b.entry().principal()).isEqualTo("User:*"));
    }

    @Test
    void aResourceWithoutAclsFollowsAllowEveryoneIfNoAclFound() {
        AclAuthorizer open = authorizer(true);
        open.create(List.of(acl(TOPIC, "guarded", PatternType.LITERAL, "User:alice", "*", READ, ALLOW)));
        assertThat(open.authorize(user("bob", "127.0.0.1"), READ, TOPIC, "free")).isTrue();
        assertThat(open.authorize(user("bob", "127.0.0.1"), READ, TOPIC, "guarded")).as("an ACL matches it").isFalse();
        store.close();
        store = null;
        AclAuthorizer closed = new AclAuthorizer(new LocalMetadataStore(dir.resolve("meta")), Set.of(), false).start();
        assertThat(closed.authorize(user("bob", "127.0.0.1"), READ, TOPIC, "free")).isFalse();
    }
}
