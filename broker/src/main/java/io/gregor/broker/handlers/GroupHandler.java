package io.gregor.broker.handlers;

import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.coordinator.CommittedOffset;
import io.gregor.coordinator.GroupCoordinator;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Consumer groups on the wire: the classic group APIs (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup), offsets (OffsetCommit, OffsetFetch, OffsetDelete) and group admin (ListGroups,
 * DescribeGroups, DeleteGroups), all served by the {@link GroupCoordinator}. The coordinator of a group is
 * the leader of its {@code __consumer_offsets} partition; requests for groups coordinated elsewhere get
 * NOT_COORDINATOR (COORDINATOR_LOAD_IN_PROGRESS while the partition loads).
 */
public final class GroupHandler {
    private static final Logger log = LoggerFactory.getLogger(GroupHandler.class);

    private final GroupCoordinator coordinator;
    /**
     * Adds the group's offsets partition to a transactions-v2 producer's transaction (TxnOffsetCommit v5), or
     * checks that an older client's AddOffsetsToTxn put it there (below v5, under verification).
     */
    private final ProduceHandler.TransactionVerifier transactions;
    /** transaction.partition.verification.enable: TxnOffsetCommit below v5 is verified too, as Kafka does. */
    private final boolean verifyTransactionsV1;
    private final String offsetsTopic;

    /** Told how many offsets each OffsetCommit committed (group-coordinator-metrics' offset-commit-rate). */
    private final java.util.function.IntConsumer offsetCommits;

    /** Names of topic ids and ids of names, for OffsetCommit and OffsetFetch v10, which name topics by id only. */
    private final Topics topics;

    public GroupHandler(GroupCoordinator coordinator, ProduceHandler.TransactionVerifier transactions,
                        boolean verifyTransactionsV1, String offsetsTopic,
                        java.util.function.IntConsumer offsetCommits, Topics topics) {
        this.offsetCommits = offsetCommits;
        this.topics = topics;
        this.coordinator = coordinator;
        this.transactions = transactions;
        this.verifyTransactionsV1 = verifyTransactionsV1;
        this.offsetsTopic = offsetsTopic;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.JOIN_GROUP, (short) 0, (short) 9, this::joinGroup);
        registry.register(ApiKeys.SYNC_GROUP, (short) 0, (short) 5, this::syncGroup);
        registry.register(ApiKeys.HEARTBEAT, (short) 0, (short) 4, this::heartbeat);
        registry.register(ApiKeys.LEAVE_GROUP, (short) 0, (short) 5, this::leaveGroup);
        registry.register(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 0, (short) 1, this::consumerGroupHeartbeat);
        registry.register(ApiKeys.CONSUMER_GROUP_DESCRIBE, (short) 0, (short) 1, this::consumerGroupDescribe);
        // v10 of both names topics by id only: ids are named here, as Kafka's KafkaApis does, since the
        // coordinator keys offsets by name (the commit's topic id goes into the OffsetCommitValue v4 record)
        registry.register(ApiKeys.OFFSET_COMMIT, (short) 2, (short) 10, this::offsetCommit);
        registry.register(ApiKeys.OFFSET_FETCH, (short) 1, (short) 10, this::offsetFetch);
        registry.register(ApiKeys.LIST_GROUPS, (short) 0, (short) 5, this::listGroups);
        registry.register(ApiKeys.DESCRIBE_GROUPS, (short) 0, (short) 6, this::describeGroups);
        registry.register(ApiKeys.DELETE_GROUPS, (short) 0, (short) 3, this::deleteGroups);
        registry.register(ApiKeys.OFFSET_DELETE, (short) 0, (short) 0, this::offsetDelete);
        registry.register(ApiKeys.TXN_OFFSET_COMMIT, (short) 0, (short) 6, this::txnOffsetCommit);
    }

    /** NONE if this broker coordinates the group now; else the error that sends the client to look again. */
    private Errors notHere(String groupId) {
        return coordinator.coordinatorError(groupId);
    }

    /**
     * GROUP_AUTHORIZATION_FAILED when the client may not perform {@code operation} on the group (checked first, as
     * Kafka does, so a refused client learns nothing about the group); else {@link #notHere}.
     */
    private Errors groupError(KafkaRequest request, AclOperation operation, String groupId) {
        return request.authorize(operation, ResourceType.GROUP, groupId) ? notHere(groupId)
                : Errors.GROUP_AUTHORIZATION_FAILED;
    }

    // ------------------------------------------------------------------ membership

    private CompletionStage<? extends ApiMessage> joinGroup(KafkaRequest request) {
        JoinGroupRequestData data = request.body();
        Errors error = groupError(request, AclOperation.READ, data.groupId());
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(error.code())
                    .setGenerationId(-1).setMemberId(data.memberId()).setLeader("")
                    .setProtocolName(request.apiVersion() >= 7 ? null : ""));
        }
        return coordinator.joinGroup(data, request.apiVersion(), request.clientId(), clientHost(request));
    }

    private CompletionStage<? extends ApiMessage> syncGroup(KafkaRequest request) {
        SyncGroupRequestData data = request.body();
        Errors error = groupError(request, AclOperation.READ, data.groupId());
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(error.code())
                    .setAssignment(new byte[0]));
        }
        return coordinator.syncGroup(data, request.apiVersion());
    }

    private CompletionStage<? extends ApiMessage> heartbeat(KafkaRequest request) {
        HeartbeatRequestData data = request.body();
        Errors error = groupError(request, AclOperation.READ, data.groupId());
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new HeartbeatResponseData().setErrorCode(error.code()));
        }
        return CompletableFuture.completedFuture(coordinator.heartbeat(data, request.apiVersion()));
    }

    private CompletionStage<? extends ApiMessage> leaveGroup(KafkaRequest request) {
        LeaveGroupRequestData data = request.body();
        Errors error = groupError(request, AclOperation.READ, data.groupId());
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new LeaveGroupResponseData().setErrorCode(error.code()));
        }
        return coordinator.leaveGroup(data, request.apiVersion());
    }

    // ------------------------------------------------------------------ consumer protocol (KIP-848)

    private CompletionStage<ConsumerGroupHeartbeatResponseData> consumerGroupHeartbeat(KafkaRequest request) {
        ConsumerGroupHeartbeatRequestData data = request.body();
        Errors error = data.groupId() == null || data.groupId().isEmpty() ? Errors.NONE
                : groupError(request, AclOperation.READ, data.groupId());
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code()));
        }
        if (data.subscribedTopicNames() != null) {
            // as Kafka: a subscription naming a topic the member may not describe is refused whole
            List<String> refused = data.subscribedTopicNames().stream()
                    .filter(t -> !request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t)).toList();
            if (!refused.isEmpty()) {
                return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData()
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage("The following topics are not authorized: " + refused));
            }
        }
        // answered once the member's changes are replicated, on whichever thread completes that
        return coordinator.consumerGroupHeartbeat(data, request.apiVersion(), request.clientId(), clientHost(request));
    }

    private CompletionStage<ConsumerGroupDescribeResponseData> consumerGroupDescribe(KafkaRequest request) {
        ConsumerGroupDescribeRequestData data = request.body();
        ConsumerGroupDescribeResponseData response = new ConsumerGroupDescribeResponseData();
        for (String groupId : data.groupIds()) {
            Errors error = groupError(request, AclOperation.DESCRIBE, groupId);
            response.groups().add(error == Errors.NONE
                    ? coordinator.consumerGroupDescribe(groupId, request.apiVersion(), data.includeAuthorizedOperations())
                    : new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(groupId).setErrorCode(error.code()));
        }
        return CompletableFuture.completedFuture(response);
    }

    /** Kafka reports the client's address as InetAddress.toString(): "/127.0.0.1". */
    private static String clientHost(KafkaRequest request) {
        InetSocketAddress address = request.connection().clientAddress();
        return address == null || address.getAddress() == null ? "" : address.getAddress().toString();
    }

    // ------------------------------------------------------------------ offsets

    private CompletionStage<? extends ApiMessage> offsetCommit(KafkaRequest request) {
        OffsetCommitRequestData data = request.body();
        List<OffsetCommitResponseData.OffsetCommitResponseTopic> unknownIds =
                request.apiVersion() >= 10 ? nameCommittedTopics(data) : List.of();
        Errors error = groupError(request, AclOperation.READ, data.groupId());
        if (error != Errors.NONE) {
            OffsetCommitResponseData response = new OffsetCommitResponseData();
            response.topics().addAll(unknownIds);
            for (OffsetCommitRequestData.OffsetCommitRequestTopic t : data.topics()) {
                OffsetCommitResponseData.OffsetCommitResponseTopic rt =
                        new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
                for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                    rt.partitions().add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
                }
                response.topics().add(rt);
            }
            return CompletableFuture.completedFuture(response);
        }
        // topics the member may not read are refused (and not committed); the others go to the coordinator
        List<OffsetCommitRequestData.OffsetCommitRequestTopic> refused = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : data.topics()) {
            if (!request.authorize(AclOperation.READ, ResourceType.TOPIC, t.name())) {
                refused.add(t);
            }
        }
        if (!refused.isEmpty()) {
            OffsetCommitRequestData allowed = data.duplicate();
            allowed.topics().removeIf(t -> refused.stream().anyMatch(r -> r.name().equals(t.name())));
            CompletionStage<OffsetCommitResponseData> committed = allowed.topics().isEmpty()
                    ? CompletableFuture.completedFuture(new OffsetCommitResponseData())
                    : coordinator.commitOffsets(allowed, request.apiVersion());
            return committed.thenApply(response -> {
                for (OffsetCommitRequestData.OffsetCommitRequestTopic t : refused) {
                    OffsetCommitResponseData.OffsetCommitResponseTopic rt =
                            new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(t.name());
                    for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                        rt.partitions().add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                    }
                    response.topics().add(rt);
                }
                return response;
            });
        }
        // answered once the commit is replicated, on whichever thread completes that; no request thread waits
        return coordinator.commitOffsets(data, request.apiVersion()).thenApply(response -> {
            int committed = 0;
            for (OffsetCommitResponseData.OffsetCommitResponseTopic t : response.topics()) {
                for (OffsetCommitResponseData.OffsetCommitResponsePartition p : t.partitions()) {
                    if (p.errorCode() == Errors.NONE.code()) {
                        committed++;
                    }
                }
            }
            offsetCommits.accept(committed);
            response.topics().addAll(0, unknownIds);
            return response;
        });
    }

    /**
     * Names the topics of an OffsetCommit v10 by their ids; those whose id no topic here has leave the request
     * and are answered UNKNOWN_TOPIC_ID (the returned topics), as Kafka answers them.
     */
    private List<OffsetCommitResponseData.OffsetCommitResponseTopic> nameCommittedTopics(OffsetCommitRequestData data) {
        List<OffsetCommitResponseData.OffsetCommitResponseTopic> unknown = new ArrayList<>();
        for (java.util.Iterator<OffsetCommitRequestData.OffsetCommitRequestTopic> it = data.topics().iterator(); it.hasNext(); ) {
            OffsetCommitRequestData.OffsetCommitRequestTopic t = it.next();
            Optional<String> name = topics.topic(t.topicId()).map(TopicMetadata::name);
            if (name.isPresent()) {
                t.setName(name.get());
                continue;
            }
            it.remove();
            OffsetCommitResponseData.OffsetCommitResponseTopic rt =
                    new OffsetCommitResponseData.OffsetCommitResponseTopic().setTopicId(t.topicId());
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                rt.partitions().add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
            }
            unknown.add(rt);
        }
        return unknown;
    }

    private CompletionStage<TxnOffsetCommitResponseData> txnOffsetCommit(KafkaRequest request) {
        TxnOffsetCommitRequestData data = request.body();
        if (request.apiVersion() >= 6) {
            // v6 names topics by id only (KIP-1319): named here as for OffsetCommit v10
            List<TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> unknownIds = nameTxnCommittedTopics(data);
            return txnOffsetCommitByName(request, data).thenApply(response -> {
                response.topics().addAll(0, unknownIds);
                return response;
            });
        }
        return txnOffsetCommitByName(request, data);
    }

    private List<TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> nameTxnCommittedTopics(TxnOffsetCommitRequestData data) {
        List<TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> unknown = new ArrayList<>();
        for (java.util.Iterator<TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic> it = data.topics().iterator(); it.hasNext(); ) {
            TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t = it.next();
            Optional<String> name = topics.topic(t.topicId()).map(TopicMetadata::name);
            if (name.isPresent()) {
                t.setName(name.get());
                continue;
            }
            it.remove();
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic rt =
                    new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setTopicId(t.topicId());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                rt.partitions().add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
            }
            unknown.add(rt);
        }
        return unknown;
    }

    private CompletionStage<TxnOffsetCommitResponseData> txnOffsetCommitByName(KafkaRequest request,
                                                                              TxnOffsetCommitRequestData data) {
        // WRITE on the transactional id, then READ on the group, then READ on each topic (Kafka's order)
        Errors error = !request.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())
                ? Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : groupError(request, AclOperation.READ, data.groupId());
        if (error == Errors.NONE) {
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : data.topics()) {
                if (!request.authorize(AclOperation.READ, ResourceType.TOPIC, t.name())) {
                    error = Errors.TOPIC_AUTHORIZATION_FAILED;
                }
            }
        }
        if (error != Errors.NONE) {
            TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : data.topics()) {
                TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic rt =
                        new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
                for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                    rt.partitions().add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
                }
                response.topics().add(rt);
            }
            return CompletableFuture.completedFuture(response);
        }
        boolean transactionsV2 = request.apiVersion() >= 5;
        if (!transactionsV2 && !verifyTransactionsV1) {
            return coordinator.commitTransactionalOffsets(data, request.apiVersion());
        }
        // transactions v2 clients send no AddOffsetsToTxn: the group coordinator adds the partition, as in Kafka;
        // an older client's AddOffsetsToTxn must have added it to a transaction still ongoing (KIP-890 part 1)
        TopicPartition offsetsPartition = new TopicPartition(offsetsTopic, coordinator.partitionFor(data.groupId()));
        // taken before asking: a marker landing on the offsets partition meanwhile makes the write refused
        Object guard = coordinator.transactionVerificationGuard(data.groupId(), data.producerId(), data.producerEpoch());
        return transactions.verify(data.transactionalId(), data.producerId(), data.producerEpoch(), offsetsPartition,
                        !transactionsV2)
                .thenCompose(added -> {
                    if (added == Errors.NONE) {
                        return coordinator.commitTransactionalOffsets(data, request.apiVersion(), guard);
                    }
                    return CompletableFuture.completedFuture(allFailed(data, txnOffsetCommitError(added)));
                });
    }

    /** TxnOffsetCommit's errors for a failed add: the produce mapping, but coordinator trouble stays retriable here. */
    private static Errors txnOffsetCommitError(Errors produceError) {
        return produceError == Errors.NOT_ENOUGH_REPLICAS ? Errors.COORDINATOR_LOAD_IN_PROGRESS : produceError;
    }

    private static TxnOffsetCommitResponseData allFailed(TxnOffsetCommitRequestData data, Errors error) {
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : data.topics()) {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic rt =
                    new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                rt.partitions().add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
            }
            response.topics().add(rt);
        }
        return response;
    }

    private CompletionStage<OffsetFetchResponseData> offsetFetch(KafkaRequest request) {
        OffsetFetchRequestData data = request.body();
        short version = request.apiVersion();
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        if (version >= 8) {
            boolean byId = version >= 10;
            for (OffsetFetchRequestData.OffsetFetchRequestGroup g : data.groups()) {
                Map<String, List<Integer>> wanted = null;
                Map<String, Uuid> idsAsked = new java.util.HashMap<>();
                List<OffsetFetchResponseTopics> unknownIds = new ArrayList<>();
                if (g.topics() != null) {
                    wanted = new LinkedHashMap<>();
                    for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics()) {
                        String name = t.name();
                        if (byId) {
                            Optional<String> known = topics.topic(t.topicId()).map(TopicMetadata::name);
                            if (known.isEmpty()) {
                                unknownIds.add(unknownTopicId(t));
                                continue;
                            }
                            name = known.get();
                            idsAsked.put(name, t.topicId());
                        }
                        wanted.computeIfAbsent(name, k -> new ArrayList<>()).addAll(t.partitionIndexes());
                    }
                }
                OffsetFetchResponseGroup group = new OffsetFetchResponseGroup().setGroupId(g.groupId());
                Errors error = groupError(request, AclOperation.DESCRIBE, g.groupId());
                if (error == Errors.NONE && version >= 9) {
                    // a consumer-protocol member fetches at its current epoch (STALE_MEMBER_EPOCH otherwise)
                    error = coordinator.validateOffsetFetch(g.groupId(), g.memberId(), g.memberEpoch());
                }
                if (error != Errors.NONE) {
                    response.groups().add(group.setErrorCode(error.code()));
                    continue;
                }
                Set<TopicPartition> unstable = data.requireStable()
                        ? coordinator.pendingTransactionalOffsets(g.groupId()) : Set.of();
                boolean allTopics = wanted == null;
                fetch(g.groupId(), wanted).forEach((topic, partitions) -> {
                    // a topic the client may not describe: left out of "all", refused when asked for by name
                    boolean refused = !request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, topic);
                    if (refused && allTopics) {
                        return;
                    }
                    OffsetFetchResponseTopics t = new OffsetFetchResponseTopics().setName(topic);
                    if (byId) {
                        // all topics asked for: one deleted since its commit has no id and is left out, as in Kafka
                        Uuid id = idsAsked.containsKey(topic) ? idsAsked.get(topic)
                                : topics.topic(topic).map(TopicMetadata::topicId).orElse(Uuid.ZERO_UUID);
                        if (id.equals(Uuid.ZERO_UUID)) {
                            return;
                        }
                        t.setTopicId(id);
                    }
                    partitions.forEach((p, o) -> t.partitions().add(refused
                            ? new OffsetFetchResponsePartitions().setPartitionIndex(p).setCommittedOffset(-1)
                                    .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                            : unstable.contains(new TopicPartition(topic, p))
                            ? new OffsetFetchResponsePartitions().setPartitionIndex(p).setCommittedOffset(-1)
                                    .setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code())
                            : new OffsetFetchResponsePartitions()
                            .setPartitionIndex(p).setCommittedOffset(o == null ? -1 : o.offset())
                            .setCommittedLeaderEpoch(o == null ? -1 : o.leaderEpoch())
                            .setMetadata(o == null ? "" : o.metadata())));
                    group.topics().add(t);
                });
                group.topics().addAll(unknownIds);
                response.groups().add(group);
            }
            return CompletableFuture.completedFuture(response);
        }
        Errors error = groupError(request, AclOperation.DESCRIBE, data.groupId());
        if (error != Errors.NONE) {
            if (version >= 2) {
                return CompletableFuture.completedFuture(response.setErrorCode(error.code()));
            }
            // v1 has no top-level error: each asked-for partition carries it
            if (data.topics() != null) {
                for (OffsetFetchRequestData.OffsetFetchRequestTopic t : data.topics()) {
                    OffsetFetchResponseTopic rt = new OffsetFetchResponseTopic().setName(t.name());
                    for (int p : t.partitionIndexes()) {
                        rt.partitions().add(new OffsetFetchResponsePartition().setPartitionIndex(p)
                                .setCommittedOffset(-1).setMetadata("").setErrorCode(error.code()));
                    }
                    response.topics().add(rt);
                }
            }
            return CompletableFuture.completedFuture(response);
        }
        Map<String, List<Integer>> wanted = null;
        if (data.topics() != null) {
            wanted = new LinkedHashMap<>();
            for (OffsetFetchRequestData.OffsetFetchRequestTopic t : data.topics()) {
                wanted.computeIfAbsent(t.name(), k -> new ArrayList<>()).addAll(t.partitionIndexes());
            }
        }
        // requireStable (v7): partitions with transactional offsets still pending answer UNSTABLE_OFFSET_COMMIT
        Set<TopicPartition> unstable = version >= 7 && data.requireStable()
                ? coordinator.pendingTransactionalOffsets(data.groupId()) : Set.of();
        boolean allTopics = wanted == null;
        fetch(data.groupId(), wanted).forEach((topic, partitions) -> {
            boolean refused = !request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, topic);
            if (refused && allTopics) {
                return;
            }
            OffsetFetchResponseTopic t = new OffsetFetchResponseTopic().setName(topic);
            partitions.forEach((p, o) -> {
                OffsetFetchResponsePartition rp = new OffsetFetchResponsePartition().setPartitionIndex(p)
                        .setCommittedOffset(o == null ? -1 : o.offset()).setMetadata(o == null ? "" : o.metadata());
                if (refused) {
                    rp.setCommittedOffset(-1).setMetadata("").setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                }
                if (unstable.contains(new TopicPartition(topic, p))) {
                    rp.setCommittedOffset(-1).setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code());
                }
                if (version >= 5) {
                    rp.setCommittedLeaderEpoch(o == null ? -1 : o.leaderEpoch());
                }
                t.partitions().add(rp);
            });
            response.topics().add(t);
        });
        return CompletableFuture.completedFuture(response);
    }

    private static OffsetFetchResponseTopics unknownTopicId(OffsetFetchRequestData.OffsetFetchRequestTopics t) {
        OffsetFetchResponseTopics rt = new OffsetFetchResponseTopics().setTopicId(t.topicId());
        for (int p : t.partitionIndexes()) {
            rt.partitions().add(new OffsetFetchResponsePartitions().setPartitionIndex(p).setCommittedOffset(-1)
                    .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
        }
        return rt;
    }

    /** Topic to partition to offset (null: nothing committed), in request order, or sorted when all were asked for. */
    private Map<String, Map<Integer, CommittedOffset>> fetch(String groupId, Map<String, List<Integer>> wanted) {
        Map<TopicPartition, CommittedOffset> committed = coordinator.committedOffsets(groupId, wanted);
        Map<String, Map<Integer, CommittedOffset>> out;
        if (wanted == null) {
            out = new TreeMap<>();
            committed.forEach((tp, o) -> out.computeIfAbsent(tp.topic(), k -> new TreeMap<>()).put(tp.partition(), o));
        } else {
            out = new LinkedHashMap<>();
            wanted.forEach((topic, partitions) -> {
                Map<Integer, CommittedOffset> forTopic = out.computeIfAbsent(topic, k -> new LinkedHashMap<>());
                for (int p : partitions) {
                    forTopic.put(p, committed.get(new TopicPartition(topic, p)));
                }
            });
        }
        return out;
    }

    private CompletionStage<? extends ApiMessage> offsetDelete(KafkaRequest request) {
        OffsetDeleteRequestData data = request.body();
        Errors error = groupError(request, AclOperation.DELETE, data.groupId());
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new OffsetDeleteResponseData().setErrorCode(error.code()));
        }
        for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : data.topics()) {
            if (!request.authorize(AclOperation.READ, ResourceType.TOPIC, t.name())) {
                // Kafka refuses the topic's partitions; Gregor refuses the request rather than delete part of it
                return CompletableFuture.completedFuture(
                        new OffsetDeleteResponseData().setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
            }
        }
        return CompletableFuture.completedFuture(coordinator.deleteOffsets(data));
    }

    // ------------------------------------------------------------------ group admin

    private CompletionStage<ListGroupsResponseData> listGroups(KafkaRequest request) {
        ListGroupsRequestData data = request.body();
        short version = request.apiVersion();
        List<String> states = version >= 4 ? data.statesFilter() : List.of();
        List<String> types = version >= 5 ? data.typesFilter() : List.of();
        List<ListGroupsResponseData.ListedGroup> groups = coordinator.listGroups(states, types, version);
        // DESCRIBE on the cluster lists every group; without it, the groups the client may describe
        if (!request.authorizeCluster(AclOperation.DESCRIBE)) {
            groups = new ArrayList<>(groups);
            groups.removeIf(g -> !request.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId()));
        }
        return CompletableFuture.completedFuture(new ListGroupsResponseData().setGroups(groups));
    }

    private CompletionStage<DescribeGroupsResponseData> describeGroups(KafkaRequest request) {
        DescribeGroupsRequestData data = request.body();
        short version = request.apiVersion();
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        boolean includeOps = version >= 3 && data.includeAuthorizedOperations();
        for (String groupId : data.groups()) {
            Errors error = groupError(request, AclOperation.DESCRIBE, groupId);
            response.groups().add(error == Errors.NONE ? withAuthorizedOperations(request, includeOps,
                    coordinator.describeGroup(groupId, version, includeOps))
                    : new DescribeGroupsResponseData.DescribedGroup().setGroupId(groupId).setErrorCode(error.code())
                            .setGroupState("").setProtocolType("").setProtocolData(""));
        }
        return CompletableFuture.completedFuture(response);
    }

    /** What the client may do with the group, as Kafka reports it when asked (DescribeGroups v3+). */
    private static DescribeGroupsResponseData.DescribedGroup withAuthorizedOperations(KafkaRequest request,
            boolean includeOps, DescribeGroupsResponseData.DescribedGroup described) {
        return includeOps && request.authorizerEnabled() && described.errorCode() == Errors.NONE.code()
                ? described.setAuthorizedOperations(request.authorizedOperations(ResourceType.GROUP, described.groupId()))
                : described;
    }

    private CompletionStage<DeleteGroupsResponseData> deleteGroups(KafkaRequest request) {
        DeleteGroupsRequestData data = request.body();
        DeleteGroupsResponseData response = new DeleteGroupsResponseData();
        for (String groupId : data.groupsNames()) {
            Errors error = groupError(request, AclOperation.DELETE, groupId);
            response.results().add(error == Errors.NONE ? coordinator.deleteGroup(groupId)
                    : new DeleteGroupsResponseData.DeletableGroupResult().setGroupId(groupId).setErrorCode(error.code()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
