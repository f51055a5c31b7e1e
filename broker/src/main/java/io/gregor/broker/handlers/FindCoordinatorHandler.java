package io.gregor.broker.handlers;

import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.InternalTopic;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.utils.Utils;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * FindCoordinator for every coordinator type this broker runs (GROUP, TRANSACTION, SHARE): a key's coordinator is
 * the leader of partition abs(key.hashCode()) % partitions of the type's internal topic.
 */
public final class FindCoordinatorHandler {
    private final Map<CoordinatorType, InternalTopic> topics;
    private final int brokerId;
    private final Map<String, InetSocketAddress> advertised;

    public FindCoordinatorHandler(Map<CoordinatorType, InternalTopic> topics, int brokerId,
                                  Map<String, InetSocketAddress> advertised) {
        this.topics = Map.copyOf(topics);
        this.brokerId = brokerId;
        this.advertised = advertised;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.FIND_COORDINATOR, (short) 0, (short) 6, this::findCoordinator);
    }

    /** The partition of a group id or transactional id: Kafka's Utils.abs(hashCode) % partitions. */
    public static int partitionFor(String key, int partitionCount) {
        return Utils.abs(key.hashCode()) % partitionCount;
    }

    private CompletionStage<FindCoordinatorResponseData> findCoordinator(KafkaRequest request) {
        FindCoordinatorRequestData data = request.body();
        short version = request.apiVersion();
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        InetSocketAddress endpoint = advertised.get(request.connection().listenerName());
        if (version < 4) {
            FindCoordinatorResponseData.Coordinator c = authorizedCoordinatorFor(request, data.key(),
                    version >= 1 ? data.keyType() : 0, endpoint);
            response.setErrorCode(c.errorCode()).setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port());
            if (version >= 1) {
                response.setErrorMessage(c.errorMessage());
            }
        } else {
            for (String key : data.coordinatorKeys()) {
                response.coordinators().add(authorizedCoordinatorFor(request, key, data.keyType(), endpoint));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    /** A group's coordinator needs DESCRIBE on the group, a transactional id's DESCRIBE on the id (as in Kafka). */
    private FindCoordinatorResponseData.Coordinator authorizedCoordinatorFor(KafkaRequest request, String key, byte keyType,
                                                                             InetSocketAddress endpoint) {
        if (keyType == CoordinatorType.SHARE.id()) {
            // share coordinators are found by share-partition leaders only, as in Kafka: CLUSTER_ACTION
            Errors refused = !request.authorizeCluster(AclOperation.CLUSTER_ACTION) ? Errors.CLUSTER_AUTHORIZATION_FAILED
                    : !isShareKey(key) ? Errors.INVALID_REQUEST : Errors.NONE;
            if (refused != Errors.NONE) {
                return new FindCoordinatorResponseData.Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1)
                        .setErrorCode(refused.code()).setErrorMessage(refused == Errors.INVALID_REQUEST
                                ? "A share coordinator key is groupId:topicId:partition" : refused.message());
            }
        }
        ResourceType type = keyType == CoordinatorType.GROUP.id() ? ResourceType.GROUP
                : keyType == CoordinatorType.TRANSACTION.id() ? ResourceType.TRANSACTIONAL_ID : null;
        if (type != null && !request.authorize(AclOperation.DESCRIBE, type, key)) {
            Errors refused = KafkaRequest.authorizationError(type);
            return new FindCoordinatorResponseData.Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1)
                    .setErrorCode(refused.code()).setErrorMessage(refused.message());
        }
        return coordinatorFor(key, keyType, endpoint, request.connection().listenerName());
    }

    /** Kafka's share-partition key: "groupId:topicId:partition" (the group id may hold colons itself). */
    private static boolean isShareKey(String key) {
        int last = key == null ? -1 : key.lastIndexOf(':');
        int middle = last <= 0 ? -1 : key.lastIndexOf(':', last - 1);
        if (middle <= 0) {
            return false;
        }
        try {
            org.apache.kafka.common.Uuid.fromString(key.substring(middle + 1, last));
            return Integer.parseInt(key.substring(last + 1)) >= 0;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private FindCoordinatorResponseData.Coordinator coordinatorFor(String key, byte keyType, InetSocketAddress endpoint,
                                                           String listenerName) {
        InternalTopic topic = null;
        for (Map.Entry<CoordinatorType, InternalTopic> e : topics.entrySet()) {
            if (e.getKey().id() == keyType) {
                topic = e.getValue();
            }
        }
        if (topic == null) {
            return new FindCoordinatorResponseData.Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1)
                    .setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Unsupported coordinator type " + keyType);
        }
        return topic.locate(key, partitionFor(key, topic.partitionCount()), brokerId, endpoint, listenerName);
    }
}
