package io.gregor.wire;

import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Decides whether the sender of a request may perform an operation on a resource. Handlers ask through
 * {@link KafkaRequest#authorize}; the broker sets one on the {@link ApiRegistry} when
 * {@code authorizer.class.name} is configured, otherwise every request is allowed (Kafka without an authorizer).
 */
public interface RequestAuthorizer {
    RequestAuthorizer ALLOW_ALL = new RequestAuthorizer() {
        @Override
        public boolean authorize(KafkaRequest.ConnectionInfo who, AclOperation operation, ResourceType type, String name) {
            return true;
        }

        @Override
        public boolean enabled() {
            return false;
        }
    };

    boolean authorize(KafkaRequest.ConnectionInfo who, AclOperation operation, ResourceType type, String name);

    /**
     * Kafka's authorizeByResourceType: whether {@code operation} is allowed on at least one resource of {@code type}
     * (an ALLOW that no DENY covers), e.g. WRITE on some topic for an idempotent producer's InitProducerId.
     */
    default boolean authorizeAny(KafkaRequest.ConnectionInfo who, AclOperation operation, ResourceType type) {
        return true;
    }

    /** False when no authorizer is configured: the ACL APIs then answer SECURITY_DISABLED, as Kafka's do. */
    default boolean enabled() {
        return true;
    }
}
