package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.Resource;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One decoded request and what a handler needs to know about where it came from. The body may hold
 * views into {@code frame} (produce records), so the frame is released only once the request is done.
 */
public final class KafkaRequest {
    private final RequestHeader header;
    private final ApiMessage body;
    private final ByteBuf frame;
    private final ConnectionInfo connection;
    private final int bodyStart;
    private final long receivedNanos;
    private final int sizeInBytes;
    /** Set before the handler runs (the registry's); allow-all until then and without an authorizer. */
    private RequestAuthorizer authorizer = RequestAuthorizer.ALLOW_ALL;

    KafkaRequest(RequestHeader header, ApiMessage body, ByteBuf frame, int bodyStart, ConnectionInfo connection,
                 long receivedNanos) {
        this.header = header;
        this.body = body;
        this.frame = frame;
        this.bodyStart = bodyStart;
        this.connection = connection;
        this.receivedNanos = receivedNanos;
        this.sizeInBytes = frame.writerIndex();
    }

    public RequestHeader header() {
        return header;
    }

    public ApiKeys apiKey() {
        return header.apiKey();
    }

    public short apiVersion() {
        return header.apiVersion();
    }

    public String clientId() {
        return header.clientId();
    }

    @SuppressWarnings("unchecked")
    public <T extends ApiMessage> T body() {
        return (T) body;
    }

    public ConnectionInfo connection() {
        return connection;
    }

    /**
     * The authorization check point: whether this request's principal, from its host, may perform
     * {@code operation} on the resource (Kafka's ACL semantics; always true without an authorizer). Handlers
     * answer a false with the resource type's error: TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED,
     * CLUSTER_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED (see {@link #authorizationError}).
     */
    public boolean authorize(AclOperation operation, ResourceType type, String name) {
        return authorizer.authorize(connection, operation, type, name);
    }

    /** {@link #authorize} on the cluster resource ({@code kafka-cluster}). */
    public boolean authorizeCluster(AclOperation operation) {
        return authorizer.authorize(connection, operation, ResourceType.CLUSTER, Resource.CLUSTER_NAME);
    }

    /**
     * For APIs Kafka refuses as a whole: throws ClusterAuthorizationException unless {@code operation} is allowed on
     * the cluster; the request is then answered with its error response (CLUSTER_AUTHORIZATION_FAILED).
     */
    public void requireCluster(AclOperation operation) {
        if (!authorizeCluster(operation)) {
            throw new org.apache.kafka.common.errors.ClusterAuthorizationException(
                    "Request " + apiKey() + " needs " + operation + " on the cluster");
        }
    }

    /** Whether {@code operation} is allowed on at least one resource of {@code type} (Kafka's authorizeByResourceType). */
    public boolean authorizeAny(AclOperation operation, ResourceType type) {
        return authorizer.authorizeAny(connection, operation, type);
    }

    /**
     * Kafka's authorized-operations bit field for a resource (Metadata, DescribeCluster, DescribeGroups when asked):
     * bit {@code op.code()} set for each operation of the resource type that this request's principal may perform.
     */
    public int authorizedOperations(ResourceType type, String name) {
        int bits = 0;
        for (AclOperation operation : SUPPORTED_OPERATIONS.getOrDefault(type, java.util.Set.of())) {
            if (authorize(operation, type, name)) {
                bits |= 1 << operation.code();
            }
        }
        return bits;
    }

    /** Per resource type, the operations Kafka reports in authorized-operations fields (Kafka's AclEntry). */
    private static final java.util.Map<ResourceType, java.util.Set<AclOperation>> SUPPORTED_OPERATIONS = java.util.Map.of(
            ResourceType.TOPIC, java.util.EnumSet.of(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
                    AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS,
                    AclOperation.ALTER_CONFIGS),
            ResourceType.GROUP, java.util.EnumSet.of(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE),
            ResourceType.CLUSTER, java.util.EnumSet.of(AclOperation.CREATE, AclOperation.CLUSTER_ACTION,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE,
                    AclOperation.ALTER, AclOperation.DESCRIBE),
            ResourceType.TRANSACTIONAL_ID, java.util.EnumSet.of(AclOperation.DESCRIBE, AclOperation.WRITE),
            ResourceType.DELEGATION_TOKEN, java.util.EnumSet.of(AclOperation.DESCRIBE),
            ResourceType.USER, java.util.EnumSet.of(AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS));

    /** Whether an authorizer is configured at all. */
    public boolean authorizerEnabled() {
        return authorizer.enabled();
    }

    /** Kafka's error for a refused operation on a resource of {@code type}. */
    public static org.apache.kafka.common.protocol.Errors authorizationError(ResourceType type) {
        return switch (type) {
            case TOPIC -> org.apache.kafka.common.protocol.Errors.TOPIC_AUTHORIZATION_FAILED;
            case GROUP -> org.apache.kafka.common.protocol.Errors.GROUP_AUTHORIZATION_FAILED;
            case TRANSACTIONAL_ID -> org.apache.kafka.common.protocol.Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
            case DELEGATION_TOKEN -> org.apache.kafka.common.protocol.Errors.DELEGATION_TOKEN_AUTHORIZATION_FAILED;
            default -> org.apache.kafka.common.protocol.Errors.CLUSTER_AUTHORIZATION_FAILED;
        };
    }

    void authorizer(RequestAuthorizer authorizer) {
        this.authorizer = authorizer;
    }

    public long receivedNanos() {
        return receivedNanos;
    }

    /** Bytes of the request frame, counted against the connection's in-flight bound. */
    int frameSize() {
        return frame.capacity();
    }

    /** The request's size on the wire, header and body (Kafka's RequestBytes). */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    /** The body's bytes, for re-parsing with kafka-clients' request classes to build an error answer. */
    ByteBuffer bodyBuffer() {
        return frame.nioBuffer(bodyStart, frame.writerIndex() - bodyStart);
    }

    void release() {
        frame.release();
    }

    /**
     * Who sent a request: the connection's id, peer address, the listener it arrived on with that listener's
     * security protocol, and the principal the connection authenticated as (User:ANONYMOUS on PLAINTEXT, or
     * on SSL without a client certificate). What an authorizer checks.
     */
    public record ConnectionInfo(String id, InetSocketAddress clientAddress, String listenerName,
                                 SecurityProtocol securityProtocol, KafkaPrincipal principal) {
        public ConnectionInfo(String id, InetSocketAddress clientAddress, String listenerName) {
            this(id, clientAddress, listenerName, SecurityProtocol.PLAINTEXT, KafkaPrincipal.ANONYMOUS);
        }

        ConnectionInfo withPrincipal(KafkaPrincipal authenticated) {
            return new ConnectionInfo(id, clientAddress, listenerName, securityProtocol, authenticated);
        }
    }
}
