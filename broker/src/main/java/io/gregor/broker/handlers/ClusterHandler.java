package io.gregor.broker.handlers;

import org.apache.kafka.common.resource.Resource;
import io.gregor.broker.Topics;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.Partition;
import io.gregor.config.BrokerConfig;
import io.gregor.storage.LogManager;
import io.gregor.storage.TopicPartition;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the cluster looks like: Metadata (with auto topic creation), DescribeCluster and DescribeLogDirs.
 * Without a cluster one broker leads every partition and is its only replica; in a cluster every broker
 * describes all live brokers and every partition's leader, replicas and ISR from the shared metadata.
 */
public final class ClusterHandler {
    private static final Logger log = LoggerFactory.getLogger(ClusterHandler.class);

    private final BrokerConfig config;
    private final Topics topics;
    private final LogManager logs;
    private final int brokerId;
    private final String clusterId;
    private final Map<String, InetSocketAddress> advertised;

    /**
     * @param advertised per listener name, the address clients are told to use; filled in once the
     *                   listeners are bound, since a listener may ask for port 0
     */
    public ClusterHandler(BrokerConfig config, Topics topics, LogManager logs, int brokerId, String clusterId,
                          Map<String, InetSocketAddress> advertised) {
        this.config = config;
        this.topics = topics;
        this.logs = logs;
        this.brokerId = brokerId;
        this.clusterId = clusterId;
        this.advertised = advertised;
    }

    /** Brokers are described with the endpoint of the listener the request came in on, as Kafka does. */
    private InetSocketAddress endpoint(KafkaRequest request) {
        return advertised.get(request.connection().listenerName());
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.METADATA, (short) 0, Short.MAX_VALUE,
                request -> metadata(request).thenApply(response -> withAuthorizedOperations(request, response)));
        registry.register(ApiKeys.DESCRIBE_CLUSTER, (short) 0, Short.MAX_VALUE,
                request -> describeCluster(request).thenApply(response -> {
                    DescribeClusterRequestData data = request.body();
                    return data.includeClusterAuthorizedOperations() && response.errorCode() == Errors.NONE.code()
                            ? response.setClusterAuthorizedOperations(
                            request.authorizedOperations(ResourceType.CLUSTER, Resource.CLUSTER_NAME))
                            : response;
                }));
        registry.register(ApiKeys.DESCRIBE_LOG_DIRS, (short) 1, Short.MAX_VALUE, this::describeLogDirs);
    }

    private CompletionStage<MetadataResponseData> metadata(KafkaRequest request) {
        MetadataRequestData data = request.body();
        short version = request.apiVersion();
        MetadataStore store = topics.store();
        MetadataResponseData response = new MetadataResponseData()
                .setClusterId(clusterId)
                .setControllerId(store.clustered() ? store.controllerId() : brokerId);
        if (store.clustered()) {
            for (BrokerInfo registered : store.liveBrokers()) {
                BrokerInfo b = registered.on(request.connection().listenerName());
                if (b == null) {
                    continue;
                }
                response.brokers().add(new MetadataResponseData.MetadataResponseBroker()
                        .setNodeId(b.id()).setHost(b.host()).setPort(b.port()).setRack(b.rack()));
            }
        } else {
            InetSocketAddress endpoint = endpoint(request);
            response.brokers().add(new MetadataResponseData.MetadataResponseBroker()
                    .setNodeId(brokerId).setHost(endpoint.getHostString()).setPort(endpoint.getPort())
                    .setRack(config.rack().orElse(null)));
        }
        // v0 asks for all topics with an empty list; v1+ with null.
        boolean all = data.topics() == null || (version == 0 && data.topics().isEmpty());
        if (all) {
            // a topic the client may not describe is left out, as if it did not exist
            topics.all().stream().sorted(Comparator.comparing(TopicMetadata::name))
                    .filter(t -> request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t.name()))
                    .forEach(t -> response.topics().add(describe(t)));
            return CompletableFuture.completedFuture(response);
        }
        boolean autoCreate = (version < 4 || data.allowAutoTopicCreation()) && config.autoCreateTopicsEnable();
        for (MetadataRequestData.MetadataRequestTopic requested : data.topics()) {
            // Kafka's checks: ids only from v12, and a topic needs a name or an id
            boolean hasId = requested.topicId() != null && !Uuid.ZERO_UUID.equals(requested.topicId());
            if (hasId && version < 12) {
                throw new InvalidRequestException("Topic IDs are not supported in requests for version " + version);
            }
            if (requested.name() == null && !hasId) {
                throw new InvalidRequestException(version < 12 ? "Topic name can not be null for version " + version
                        : "A topic has neither a name nor a topic id");
            }
        }
        for (MetadataRequestData.MetadataRequestTopic requested : data.topics()) {
            String name = requested.name();
            // a topic asked for by id comes with a null name or, from Java clients, the field's default ""
            if ((name == null || name.isEmpty()) && requested.topicId() != null
                    && !Uuid.ZERO_UUID.equals(requested.topicId())) {
                // topic ids are not secret: an unauthorized one is answered with the id (Kafka does so)
                response.topics().add(topics.topic(requested.topicId()).map(t ->
                                request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t.name()) ? describe(t)
                                        : new MetadataResponseTopic().setTopicId(t.topicId()).setName(null)
                                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()))
                        .orElseGet(() -> new MetadataResponseTopic().setTopicId(requested.topicId()).setName(null)
                                .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())));
                continue;
            }
            // refused before looking the topic up: whether it exists is not revealed
            if (!request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
                response.topics().add(new MetadataResponseTopic().setName(name)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                continue;
            }
            TopicMetadata topic = topics.topic(name).orElse(null);
            if (topic == null && autoCreate && !request.authorizeCluster(AclOperation.CREATE)
                    && !request.authorize(AclOperation.CREATE, ResourceType.TOPIC, name)) {
                // auto-creation needs CREATE on the cluster or the topic
                response.topics().add(new MetadataResponseTopic().setName(name)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                continue;
            }
            if (topic == null && autoCreate) {
                try {
                    topic = topics.autoCreate(name);
                } catch (ApiException e) {
                    // Created meanwhile by another request: describe that one.
                    topic = topics.topic(name).orElse(null);
                    if (topic == null) {
                        log.info("Auto-creation of topic '{}' refused: {}", name, e.getMessage());
                        response.topics().add(new MetadataResponseTopic().setName(name)
                                .setErrorCode(Errors.forException(e).code()));
                        continue;
                    }
                }
            }
            response.topics().add(topic != null ? describe(topic)
                    : new MetadataResponseTopic().setName(name).setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
        }
        return CompletableFuture.completedFuture(response);
    }

    /** The authorized-operations fields a client asked for (topics from v8; the cluster in v8-v10). */
    private static MetadataResponseData withAuthorizedOperations(KafkaRequest request, MetadataResponseData response) {
        MetadataRequestData data = request.body();
        short version = request.apiVersion();
        if (version >= 8 && data.includeTopicAuthorizedOperations()) {
            for (MetadataResponseTopic t : response.topics()) {
                if (t.errorCode() == Errors.NONE.code() && t.name() != null) {
                    t.setTopicAuthorizedOperations(request.authorizedOperations(ResourceType.TOPIC, t.name()));
                }
            }
        }
        if (version >= 8 && version <= 10 && data.includeClusterAuthorizedOperations()) {
            response.setClusterAuthorizedOperations(request.authorizedOperations(ResourceType.CLUSTER, Resource.CLUSTER_NAME));
        }
        return response;
    }

    private MetadataResponseTopic describe(TopicMetadata topic) {
        MetadataResponseTopic t = new MetadataResponseTopic()
                .setName(topic.name()).setTopicId(topic.topicId()).setIsInternal(topic.isInternal());
        MetadataStore store = topics.store();
        if (store.clustered()) {
            java.util.Set<Integer> live = new java.util.HashSet<>();
            store.liveBrokers().forEach(b -> live.add(b.id()));
            for (int p = 0; p < topic.partitionCount(); p++) {
                List<Integer> replicas = store.replicas(topic.name(), p);
                PartitionState s = store.partitionState(topic.name(), p).orElse(null);
                MetadataResponsePartition mp = new MetadataResponsePartition().setPartitionIndex(p)
                        .setReplicaNodes(replicas)
                        .setOfflineReplicas(replicas.stream().filter(r -> !live.contains(r)).toList());
                if (s == null || s.leader() == PartitionState.NO_LEADER) {
                    mp.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1)
                            .setLeaderEpoch(s == null ? -1 : s.leaderEpoch())
                            .setIsrNodes(s == null ? List.of() : s.isr());
                } else {
                    mp.setLeaderId(s.leader()).setLeaderEpoch(s.leaderEpoch()).setIsrNodes(s.isr());
                }
                t.partitions().add(mp);
            }
            return t;
        }
        for (int p = 0; p < topic.partitionCount(); p++) {
            int epoch = topics.partition(topic.name(), p).map(Partition::leaderEpoch).orElse(0);
            t.partitions().add(new MetadataResponsePartition()
                    .setPartitionIndex(p).setLeaderId(brokerId).setLeaderEpoch(epoch)
                    .setReplicaNodes(List.of(brokerId)).setIsrNodes(List.of(brokerId)).setOfflineReplicas(List.of()));
        }
        return t;
    }

    private CompletionStage<DescribeClusterResponseData> describeCluster(KafkaRequest request) {
        DescribeClusterRequestData data = request.body();
        MetadataStore store = topics.store();
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setEndpointType(data.endpointType()).setClusterId(clusterId)
                .setControllerId(store.clustered() ? store.controllerId() : brokerId);
        // Endpoint type 2 asks for KRaft controllers, which a broker without a quorum does not have.
        if (data.endpointType() == 2) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.UNSUPPORTED_ENDPOINT_TYPE.code())
                    .setErrorMessage("This broker has no KRaft controllers to describe"));
        }
        if (store.clustered()) {
            for (BrokerInfo registered : store.liveBrokers()) {
                BrokerInfo b = registered.on(request.connection().listenerName());
                if (b == null) {
                    continue;
                }
                response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                        .setBrokerId(b.id()).setHost(b.host()).setPort(b.port()).setRack(b.rack()));
            }
            return CompletableFuture.completedFuture(response);
        }
        InetSocketAddress endpoint = endpoint(request);
        response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                .setBrokerId(brokerId).setHost(endpoint.getHostString()).setPort(endpoint.getPort())
                .setRack(config.rack().orElse(null)));
        return CompletableFuture.completedFuture(response);
    }

    private CompletionStage<DescribeLogDirsResponseData> describeLogDirs(KafkaRequest request) {
        DescribeLogDirsRequestData data = request.body();
        if (!request.authorizeCluster(AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(new DescribeLogDirsResponseData()
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        Map<Path, Map<String, List<DescribeLogDirsResponseData.DescribeLogDirsPartition>>> byDir = new HashMap<>();
        for (Path dir : logs.logDirs()) {
            byDir.put(dir, new HashMap<>());
        }
        List<TopicPartition> wanted = new ArrayList<>();
        if (data.topics() == null) {
            for (TopicMetadata t : topics.all()) {
                for (int p = 0; p < t.partitionCount(); p++) {
                    wanted.add(new TopicPartition(t.name(), p));
                }
            }
        } else {
            for (DescribeLogDirsRequestData.DescribableLogDirTopic t : data.topics()) {
                for (int p : t.partitions()) {
                    wanted.add(new TopicPartition(t.topic(), p));
                }
            }
        }
        for (TopicPartition tp : wanted) {
            logs.get(tp).ifPresent(log -> byDir.computeIfAbsent(logs.logDirOf(tp), d -> new HashMap<>())
                    .computeIfAbsent(tp.topic(), k -> new ArrayList<>())
                    .add(new DescribeLogDirsResponseData.DescribeLogDirsPartition()
                            .setPartitionIndex(tp.partition()).setPartitionSize(log.sizeInBytes())
                            .setOffsetLag(0).setIsFutureKey(false)));
        }
        DescribeLogDirsResponseData response = new DescribeLogDirsResponseData();
        byDir.forEach((dir, topicsInDir) -> {
            DescribeLogDirsResponseData.DescribeLogDirsResult result = new DescribeLogDirsResponseData.DescribeLogDirsResult()
                    .setLogDir(dir.toAbsolutePath().toString());
            try {
                var store = Files.getFileStore(dir);
                result.setTotalBytes(store.getTotalSpace()).setUsableBytes(store.getUsableSpace());
            } catch (IOException e) {
                result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
            }
            topicsInDir.forEach((name, parts) -> result.topics().add(
                    new DescribeLogDirsResponseData.DescribeLogDirsTopic().setName(name).setPartitions(parts)));
            response.results().add(result);
        });
        return CompletableFuture.completedFuture(response);
    }
}
