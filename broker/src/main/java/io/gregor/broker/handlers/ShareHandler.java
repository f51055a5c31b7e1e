package io.gregor.broker.handlers;

import io.gregor.broker.Topics;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.share.LatestOffsets;
import io.gregor.broker.share.SharePartitionManager;
import io.gregor.broker.share.state.ShareStatePersister;
import io.gregor.coordinator.share.ShareGroupCoordinator;
import io.gregor.coordinator.share.ShareGroupMetadataStore;
import io.gregor.coordinator.share.ShareStateStore;
import io.gregor.wire.ApiHandler;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AlterShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.AlterShareGroupOffsetsResponseData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.DeleteShareGroupOffsetsResponseData;
import org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.DescribeShareGroupOffsetsResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ShareGroupDescribeRequestData;
import org.apache.kafka.common.message.ShareGroupDescribeResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Share groups (KIP-932) on the wire: membership (ShareGroupHeartbeat, ShareGroupDescribe) on the group's
 * coordinator, records (ShareFetch, ShareAcknowledge) on the partition leaders, the share-group offset admin
 * APIs, and share groups in ListGroups and DeleteGroups (wrapping the classic groups' handlers).
 */
public final class ShareHandler {
    private final ShareGroupCoordinator groups;
    private final SharePartitionManager partitions;
    private final ShareStatePersister states;
    private final Topics topics;
    /** NONE when this broker coordinates the group now (the leader of its __consumer_offsets partition). */
    private final Function<String, Errors> coordinatorError;
    private final LatestOffsets latestOffsets;

    public ShareHandler(ShareGroupCoordinator groups, SharePartitionManager partitions, ShareStatePersister states,
                        Topics topics, Function<String, Errors> coordinatorError, LatestOffsets latestOffsets) {
        this.latestOffsets = latestOffsets;
        this.groups = groups;
        this.partitions = partitions;
        this.states = states;
        this.topics = topics;
        this.coordinatorError = coordinatorError;
    }

    /** Registers after the classic group handler, whose ListGroups and DeleteGroups it extends. */
    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.SHARE_GROUP_HEARTBEAT, (short) 1, (short) 1, this::heartbeat);
        registry.register(ApiKeys.SHARE_GROUP_DESCRIBE, (short) 1, (short) 1, this::describe);
        registry.register(ApiKeys.SHARE_FETCH, (short) 1, (short) 2, request -> {
            ShareFetchRequestData data = request.body();
            Errors refused = shareReadError(request, data.groupId(), data.topics().stream()
                    .map(ShareFetchRequestData.FetchTopic::topicId).toList());
            return refused != Errors.NONE ? done(new ShareFetchResponseData().setErrorCode(refused.code())
                    .setErrorMessage(refused.message())) : partitions.fetch(data, request.apiVersion());
        });
        registry.register(ApiKeys.SHARE_ACKNOWLEDGE, (short) 1, (short) 2, request -> {
            ShareAcknowledgeRequestData data = request.body();
            Errors refused = shareReadError(request, data.groupId(), data.topics().stream()
                    .map(ShareAcknowledgeRequestData.AcknowledgeTopic::topicId).toList());
            return refused != Errors.NONE ? done(new ShareAcknowledgeResponseData().setErrorCode(refused.code())
                    .setErrorMessage(refused.message())) : partitions.acknowledge(data, request.apiVersion());
        });
        registry.register(ApiKeys.DESCRIBE_SHARE_GROUP_OFFSETS, (short) 0, (short) 1, this::describeOffsets);
        registry.register(ApiKeys.ALTER_SHARE_GROUP_OFFSETS, (short) 0, (short) 0, this::alterOffsets);
        registry.register(ApiKeys.DELETE_SHARE_GROUP_OFFSETS, (short) 0, (short) 0, this::deleteOffsets);
        ApiRegistry.Entry list = registry.lookup(ApiKeys.LIST_GROUPS);
        if (list != null) {
            registry.register(ApiKeys.LIST_GROUPS, list.minVersion(), list.maxVersion(), listGroups(list.handler()));
        }
        ApiRegistry.Entry delete = registry.lookup(ApiKeys.DELETE_GROUPS);
        if (delete != null) {
            registry.register(ApiKeys.DELETE_GROUPS, delete.minVersion(), delete.maxVersion(),
                    deleteGroups(delete.handler()));
        }
    }

    private CompletionStage<ApiMessage> heartbeat(KafkaRequest request) {
        ShareGroupHeartbeatRequestData data = request.body();
        Errors error = data.groupId() == null ? Errors.NONE
                : !request.authorize(AclOperation.READ, ResourceType.GROUP, data.groupId()) ? Errors.GROUP_AUTHORIZATION_FAILED
                : data.subscribedTopicNames() != null && data.subscribedTopicNames().stream()
                        .anyMatch(t -> !request.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t))
                        ? Errors.TOPIC_AUTHORIZATION_FAILED
                : coordinatorError.apply(data.groupId());
        if (error != Errors.NONE) {
            return done(new org.apache.kafka.common.message.ShareGroupHeartbeatResponseData()
                    .setErrorCode(error.code()).setErrorMessage(error.message()));
        }
        String host = request.connection().clientAddress() == null ? ""
                : "/" + request.connection().clientAddress().getAddress().getHostAddress();
        return done(groups.heartbeat(data.groupId(), data.memberId(), data.memberEpoch(), data.rackId(),
                data.subscribedTopicNames(), request.clientId(), host));
    }

    private CompletionStage<ApiMessage> describe(KafkaRequest request) {
        ShareGroupDescribeRequestData data = request.body();
        ShareGroupDescribeResponseData response = new ShareGroupDescribeResponseData();
        for (String groupId : data.groupIds()) {
            Errors error = request.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, groupId)
                    ? coordinatorError.apply(groupId) : Errors.GROUP_AUTHORIZATION_FAILED;
            response.groups().add(error == Errors.NONE ? groups.describe(groupId)
                    : new ShareGroupDescribeResponseData.DescribedGroup().setGroupId(groupId)
                            .setErrorCode(error.code()).setErrorMessage(error.message()).setGroupState("")
                            .setAssignorName(""));
        }
        return done(response);
    }

    // ------------------------------------------------------------------------------------- offsets

    private CompletionStage<ApiMessage> describeOffsets(KafkaRequest request) {
        DescribeShareGroupOffsetsRequestData data = request.body();
        DescribeShareGroupOffsetsResponseData response = new DescribeShareGroupOffsetsResponseData();
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestGroup g : data.groups()) {
            DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseGroup out =
                    new DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseGroup()
                            .setGroupId(g.groupId());
            response.groups().add(out);
            Errors error = request.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId())
                    ? coordinatorError.apply(g.groupId()) : Errors.GROUP_AUTHORIZATION_FAILED;
            if (error != Errors.NONE) {
                out.setErrorCode(error.code()).setErrorMessage(error.message());
                continue;
            }
            if (!groups.isShareGroup(g.groupId())) {
                out.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                        .setErrorMessage("Group " + g.groupId() + " not found.");
                continue;
            }
            // the share partitions with state, as the group persisted them; their start offsets from their share
            // coordinators
            Map<Uuid, ShareGroupMetadataStore.TopicPartitions> initialized = groups.initialized(g.groupId());
            if (g.topics() == null) {
                initialized.forEach((id, parts) -> topics.topic(id).ifPresent(t -> out.topics().add(
                        describeTopic(g.groupId(), t.name(), id, new TreeSet<>(parts.partitions()), reads))));
            } else {
                for (DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestTopic t : g.topics()) {
                    Optional<TopicMetadata> meta = topics.topic(t.topicName());
                    Uuid id = meta.map(TopicMetadata::topicId).orElse(Uuid.ZERO_UUID);
                    out.topics().add(describeTopic(g.groupId(), t.topicName(), id, t.partitions(), reads));
                }
            }
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseTopic describeTopic(
            String groupId, String name, Uuid id, Collection<Integer> parts,
            List<CompletableFuture<Void>> reads) {
        DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseTopic topic =
                new DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseTopic()
                        .setTopicName(name).setTopicId(id);
        for (int p : parts) {
            DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponsePartition out =
                    new DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponsePartition()
                            .setPartitionIndex(p).setStartOffset(-1).setLeaderEpoch(-1).setLag(-1);
            topic.partitions().add(out);
            if (id.equals(Uuid.ZERO_UUID)) {
                out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                continue;
            }
            ShareStateStore.Key key = new ShareStateStore.Key(groupId, id, p);
            // each read fills only its own partition's answer
            reads.add(states.summary(key).thenCompose(summary -> {
                if (summary.isEmpty()) {
                    return CompletableFuture.<Void>completedFuture(null); // not initialized yet: no start offset
                }
                long start = summary.get().startOffset();
                long completed = Math.max(0, summary.get().deliveryCompleteCount());
                Optional<long[]> live = partitions.startAndCompleted(key);
                if (live.isPresent()) {
                    start = live.get()[0];
                    completed = live.get()[1];
                }
                int leaderEpoch = summary.get().leaderEpoch();
                out.setStartOffset(start).setLeaderEpoch(leaderEpoch);
                long lastStart = start;
                long done = completed;
                // Kafka's lag: the partition's latest offset (from its leader, wherever it is) less the start
                // offset and the records delivered for good above it
                return latestOffsets.of(name, p).handle((latest, e) -> {
                    if (e == null) {
                        out.setLag(latest - lastStart - done);
                    } else {
                        Errors error = errorOf(e);
                        out.setStartOffset(-1).setLeaderEpoch(-1).setErrorCode(error.code())
                                .setErrorMessage(error.message());
                    }
                    return null;
                });
            }).exceptionally(e -> {
                Errors error = errorOf(e);
                out.setErrorCode(error.code()).setErrorMessage(error.message());
                return null;
            }));
        }
        return topic;
    }

    private CompletionStage<ApiMessage> alterOffsets(KafkaRequest request) {
        AlterShareGroupOffsetsRequestData data = request.body();
        AlterShareGroupOffsetsResponseData response = new AlterShareGroupOffsetsResponseData();
        Errors error = request.authorize(AclOperation.READ, ResourceType.GROUP, data.groupId())
                ? groupError(data.groupId(), true) : Errors.GROUP_AUTHORIZATION_FAILED;
        if (error != Errors.NONE) {
            return done(response.setErrorCode(error.code()).setErrorMessage(error.message()));
        }
        List<ShareStateStore.Key> changed = new ArrayList<>();
        Map<Uuid, ShareGroupMetadataStore.TopicPartitions> altered = new TreeMap<>();
        Map<Uuid, Map<Integer, Long>> offsets = new HashMap<>();
        Map<Uuid, Map<Integer, AlterShareGroupOffsetsResponseData.AlterShareGroupOffsetsResponsePartition>> answers =
                new HashMap<>();
        for (AlterShareGroupOffsetsRequestData.AlterShareGroupOffsetsRequestTopic t : data.topics()) {
            Optional<TopicMetadata> meta = topics.topic(t.topicName());
            AlterShareGroupOffsetsResponseData.AlterShareGroupOffsetsResponseTopic out =
                    new AlterShareGroupOffsetsResponseData.AlterShareGroupOffsetsResponseTopic()
                            .setTopicName(t.topicName()).setTopicId(meta.map(TopicMetadata::topicId).orElse(Uuid.ZERO_UUID));
            response.responses().add(out);
            Set<Integer> parts = new TreeSet<>();
            for (AlterShareGroupOffsetsRequestData.AlterShareGroupOffsetsRequestPartition p : t.partitions()) {
                AlterShareGroupOffsetsResponseData.AlterShareGroupOffsetsResponsePartition po =
                        new AlterShareGroupOffsetsResponseData.AlterShareGroupOffsetsResponsePartition()
                                .setPartitionIndex(p.partitionIndex());
                out.partitions().add(po);
                if (meta.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= meta.get().partitionCount()) {
                    po.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage(Errors.UNKNOWN_TOPIC_OR_PARTITION.message());
                    continue;
                }
                Uuid id = meta.get().topicId();
                changed.add(new ShareStateStore.Key(data.groupId(), id, p.partitionIndex()));
                parts.add(p.partitionIndex());
                offsets.computeIfAbsent(id, k -> new HashMap<>()).put(p.partitionIndex(), p.startOffset());
                answers.computeIfAbsent(id, k -> new HashMap<>()).put(p.partitionIndex(), po);
            }
            if (!parts.isEmpty()) {
                altered.put(meta.get().topicId(), new ShareGroupMetadataStore.TopicPartitions(t.topicName(),
                        Set.copyOf(parts)));
            }
        }
        if (altered.isEmpty()) {
            return done(response);
        }
        // Kafka's reset: the partitions are initialized again with the new start offsets and the group epoch as
        // state epoch (the share-partition leaders of the empty group have dropped their copies; a newer state
        // epoch fences the writes of any left behind)
        return groups.initialize(data.groupId(), altered, groups.groupEpoch(data.groupId()),
                        (id, p) -> offsets.get(id).get(p)).handle((failed, e) -> {
            partitions.forget(changed);
            if (e != null) {
                Errors we = errorOf(e);
                response.setErrorCode(we.code()).setErrorMessage(we.message());
                answers.values().forEach(m -> m.values().forEach(po -> po.setErrorCode(we.code())
                        .setErrorMessage(we.message())));
                return response;
            }
            failed.forEach((id, byPartition) -> byPartition.forEach((p, pe) -> {
                Errors pErr = errorOf(pe);
                answers.get(id).get(p).setErrorCode(pErr.code()).setErrorMessage(pErr.message());
            }));
            return response;
        });
    }

    private CompletionStage<ApiMessage> deleteOffsets(KafkaRequest request) {
        DeleteShareGroupOffsetsRequestData data = request.body();
        DeleteShareGroupOffsetsResponseData response = new DeleteShareGroupOffsetsResponseData();
        Errors error = request.authorize(AclOperation.DELETE, ResourceType.GROUP, data.groupId())
                ? groupError(data.groupId(), true) : Errors.GROUP_AUTHORIZATION_FAILED;
        if (error != Errors.NONE) {
            return done(response.setErrorCode(error.code()).setErrorMessage(error.message()));
        }
        ShareGroupMetadataStore.SharePartitions current = groups.sharePartitions(data.groupId());
        List<ShareStateStore.Key> deleted = new ArrayList<>();
        Map<Uuid, String> deleting = new TreeMap<>();
        Map<Uuid, DeleteShareGroupOffsetsResponseData.DeleteShareGroupOffsetsResponseTopic> answers = new HashMap<>();
        Map<Uuid, List<CompletableFuture<Void>>> deletes = new HashMap<>();
        for (DeleteShareGroupOffsetsRequestData.DeleteShareGroupOffsetsRequestTopic t : data.topics()) {
            Optional<TopicMetadata> meta = topics.topic(t.topicName());
            DeleteShareGroupOffsetsResponseData.DeleteShareGroupOffsetsResponseTopic out =
                    new DeleteShareGroupOffsetsResponseData.DeleteShareGroupOffsetsResponseTopic()
                            .setTopicName(t.topicName()).setTopicId(meta.map(TopicMetadata::topicId).orElse(Uuid.ZERO_UUID));
            response.responses().add(out);
            if (meta.isEmpty()) {
                out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                        .setErrorMessage(Errors.UNKNOWN_TOPIC_OR_PARTITION.message());
                continue;
            }
            Uuid id = meta.get().topicId();
            // Kafka: the initialized partitions' state is deleted; a topic still deleting (an earlier delete that
            // failed) is deleted again on all its partitions; any other has no offsets to delete
            ShareGroupMetadataStore.TopicPartitions parts = current.initialized().get(id);
            Collection<Integer> toDelete = parts != null ? parts.partitions()
                    : current.deleting().containsKey(id)
                    ? IntStream.range(0, meta.get().partitionCount()).boxed().toList() : null;
            if (toDelete == null) {
                out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                        .setErrorMessage("There is no offset information to delete.");
                continue;
            }
            deleting.put(id, t.topicName());
            answers.put(id, out);
            toDelete.forEach(p -> deleted.add(new ShareStateStore.Key(data.groupId(), id, p)));
        }
        if (deleting.isEmpty()) {
            return done(response);
        }
        partitions.forget(deleted);
        return groups.startDeleting(data.groupId(), deleting).thenCompose(v -> {
            deleted.forEach(k -> deletes.computeIfAbsent(k.topicId(), x -> new ArrayList<>()).add(states.delete(k)));
            List<CompletableFuture<Void>> topicsDone = new ArrayList<>();
            List<Uuid> done = Collections.synchronizedList(new ArrayList<>());
            deletes.forEach((id, futures) -> topicsDone.add(CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                    .handle((x, e) -> {
                        if (e != null) {
                            Errors te = errorOf(e);
                            answers.get(id).setErrorCode(te.code()).setErrorMessage(te.message());
                        } else {
                            done.add(id);
                        }
                        return null;
                    })));
            return CompletableFuture.allOf(topicsDone.toArray(CompletableFuture[]::new))
                    .thenCompose(x -> groups.deleted(data.groupId(), done));
        }).handle((v, e) -> {
            if (e != null) {
                Errors we = errorOf(e);
                response.setErrorCode(we.code()).setErrorMessage(we.message());
            }
            return response;
        });
    }

    /** NONE when this broker coordinates {@code groupId}, a share group (with no members when {@code mustBeEmpty}). */
    /**
     * Kafka's checks for reading through a share group: READ on the group, READ on every topic named (the whole
     * request is refused when one is not readable, so nothing of it is acquired or acknowledged).
     */
    private Errors shareReadError(KafkaRequest request, String groupId, List<Uuid> topicIds) {
        if (groupId != null && !request.authorize(AclOperation.READ, ResourceType.GROUP, groupId)) {
            return Errors.GROUP_AUTHORIZATION_FAILED;
        }
        for (Uuid id : topicIds) {
            Optional<TopicMetadata> topic = topics.topic(id);
            if (topic.isPresent() && !request.authorize(AclOperation.READ, ResourceType.TOPIC, topic.get().name())) {
                return Errors.TOPIC_AUTHORIZATION_FAILED;
            }
        }
        return Errors.NONE;
    }

    private Errors groupError(String groupId, boolean mustBeEmpty) {
        Errors error = coordinatorError.apply(groupId);
        if (error != Errors.NONE) {
            return error;
        }
        if (!groups.isShareGroup(groupId)) {
            return Errors.GROUP_ID_NOT_FOUND;
        }
        if (mustBeEmpty && groups.hasMembers(groupId)) {
            return Errors.NON_EMPTY_GROUP;
        }
        return Errors.NONE;
    }

    // ----------------------------------------------------------------------- ListGroups / DeleteGroups

    private ApiHandler listGroups(ApiHandler classic) {
        return request -> {
            ListGroupsRequestData data = request.body();
            short version = request.apiVersion();
            List<String> types = version >= 5 ? data.typesFilter() : List.of();
            List<String> statesFilter = version >= 4 ? data.statesFilter() : List.of();
            boolean wantShare = types.isEmpty() || types.stream().anyMatch(t -> t.equalsIgnoreCase("share"));
            boolean wantOthers = types.isEmpty() || types.stream().anyMatch(t -> !t.equalsIgnoreCase("share"));
            CompletionStage<? extends ApiMessage> others = wantOthers ? classic.handle(request)
                    : CompletableFuture.completedFuture(new ListGroupsResponseData());
            return others.thenApply(m -> {
                ListGroupsResponseData response = (ListGroupsResponseData) m;
                if (wantShare && response.errorCode() == Errors.NONE.code()) {
                    for (ShareGroupCoordinator.Listed g : groups.list()) {
                        if (coordinatorError.apply(g.groupId()) != Errors.NONE) {
                            continue;
                        }
                        if (!statesFilter.isEmpty() && statesFilter.stream().noneMatch(s -> s.equalsIgnoreCase(g.state()))) {
                            continue;
                        }
                        ListGroupsResponseData.ListedGroup listed = new ListGroupsResponseData.ListedGroup()
                                .setGroupId(g.groupId()).setProtocolType("share");
                        if (version >= 4) {
                            listed.setGroupState(g.state());
                        }
                        if (version >= 5) {
                            listed.setGroupType("share");
                        }
                        response.groups().add(listed);
                    }
                }
                return response;
            });
        };
    }

    private ApiHandler deleteGroups(ApiHandler classic) {
        return request -> {
            DeleteGroupsRequestData data = request.body();
            List<String> share = data.groupsNames().stream().filter(groups::isShareGroup).toList();
            if (share.isEmpty()) {
                return classic.handle(request);
            }
            List<String> others = data.groupsNames().stream().filter(g -> !share.contains(g)).toList();
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            DeleteGroupsResponseData shareResults = new DeleteGroupsResponseData();
            for (String groupId : share) {
                Errors error = coordinatorError.apply(groupId);
                if (error == Errors.NONE) {
                    // the state of every share partition initialized or being initialized, as Kafka deletes it
                    ShareGroupMetadataStore.SharePartitions sp = groups.sharePartitions(groupId);
                    Set<ShareStateStore.Key> all = new LinkedHashSet<>();
                    sp.initialized().forEach((id, parts) -> parts.partitions()
                            .forEach(p -> all.add(new ShareStateStore.Key(groupId, id, p))));
                    sp.initializing().forEach((id, parts) -> parts.partitions()
                            .forEach(p -> all.add(new ShareStateStore.Key(groupId, id, p))));
                    List<ShareStateStore.Key> keys = List.copyOf(all);
                    error = groups.delete(groupId);
                    if (error == Errors.NONE) {
                        partitions.forget(keys);
                        keys.forEach(k -> writes.add(states.delete(k)));
                    }
                }
                shareResults.results().add(new DeleteGroupsResponseData.DeletableGroupResult().setGroupId(groupId)
                        .setErrorCode(error.code()));
            }
            CompletionStage<? extends ApiMessage> rest;
            if (others.isEmpty()) {
                rest = CompletableFuture.completedFuture(new DeleteGroupsResponseData());
            } else {
                data.setGroupsNames(others);
                rest = classic.handle(request);
            }
            return rest.thenCombine(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)), (m, v) -> {
                DeleteGroupsResponseData response = (DeleteGroupsResponseData) m;
                shareResults.results().forEach(r -> response.results().add(r.duplicate()));
                return response;
            });
        };
    }

    private static CompletionStage<ApiMessage> done(ApiMessage message) {
        return CompletableFuture.completedFuture(message);
    }

    /** Kafka's error for a failed future's cause (a CompletionException wraps what went wrong). */
    private static Errors errorOf(Throwable e) {
        return Errors.forException(e.getCause() == null ? e : e.getCause());
    }
}
