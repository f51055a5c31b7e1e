package io.gregor.broker.share.state;

import io.gregor.coordinator.share.ShareStateStore;
import io.gregor.coordinator.share.ShareStateStore.Key;
import io.gregor.coordinator.share.ShareStateStore.ShareState;
import io.gregor.coordinator.share.ShareStateStore.StateBatch;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteShareGroupStateRequestData;
import org.apache.kafka.common.message.DeleteShareGroupStateResponseData;
import org.apache.kafka.common.message.InitializeShareGroupStateRequestData;
import org.apache.kafka.common.message.InitializeShareGroupStateResponseData;
import org.apache.kafka.common.message.ReadShareGroupStateRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateResponseData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryResponseData;
import org.apache.kafka.common.message.WriteShareGroupStateRequestData;
import org.apache.kafka.common.message.WriteShareGroupStateResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiPredicate;
import java.util.function.Supplier;

/**
 * The share coordinator's state RPCs (KIP-932: InitializeShareGroupState, ReadShareGroupState,
 * WriteShareGroupState, DeleteShareGroupState, ReadShareGroupStateSummary), served by the leader of the
 * key's {@code __share_group_state} partition; any other broker answers NOT_COORDINATOR. The persister of this
 * broker calls the same methods in-process when it is the coordinator, so both paths are one.
 */
public final class ShareStateService {
    private static final Logger log = LoggerFactory.getLogger(ShareStateService.class);

    private static final String READ_UNINITIALIZED = "Read operation on uninitialized share partition not allowed.";
    private static final String WRITE_UNINITIALIZED = "Write operation on uninitialized share partition not allowed.";

    private final ShareStateStore store;
    private final BiPredicate<Uuid, Integer> partitionExists;

    /** A partition's outcome: the state it answers with (may be null) or its error. */
    private record Outcome(Errors error, String message, ShareState state) {
    }

    public ShareStateService(ShareStateStore store, BiPredicate<Uuid, Integer> partitionExists) {
        this.store = store;
        this.partitionExists = partitionExists;
    }

    public void register(ApiRegistry registry) {
        // only brokers (share-partition leaders) call these, as in Kafka: CLUSTER_ACTION on the cluster
        registry.register(ApiKeys.INITIALIZE_SHARE_GROUP_STATE, (short) 0, Short.MAX_VALUE,
                r -> cluster(r, () -> initialize(r.body())));
        registry.register(ApiKeys.READ_SHARE_GROUP_STATE, (short) 0, Short.MAX_VALUE,
                r -> cluster(r, () -> read(r.body())));
        registry.register(ApiKeys.WRITE_SHARE_GROUP_STATE, (short) 0, Short.MAX_VALUE,
                r -> cluster(r, () -> write(r.body())));
        registry.register(ApiKeys.DELETE_SHARE_GROUP_STATE, (short) 0, Short.MAX_VALUE,
                r -> cluster(r, () -> delete(r.body())));
        registry.register(ApiKeys.READ_SHARE_GROUP_STATE_SUMMARY, (short) 0, Short.MAX_VALUE,
                r -> cluster(r, () -> summary(r.body())));
    }

    private static <T> CompletableFuture<T> cluster(KafkaRequest request, Supplier<CompletableFuture<T>> handler) {
        request.requireCluster(AclOperation.CLUSTER_ACTION);
        return handler.get();
    }

    public CompletableFuture<InitializeShareGroupStateResponseData> initialize(InitializeShareGroupStateRequestData request) {
        InitializeShareGroupStateResponseData response = new InitializeShareGroupStateResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (InitializeShareGroupStateRequestData.InitializeStateData t : request.topics()) {
            InitializeShareGroupStateResponseData.InitializeStateResult result =
                    new InitializeShareGroupStateResponseData.InitializeStateResult().setTopicId(t.topicId());
            response.results().add(result);
            for (InitializeShareGroupStateRequestData.PartitionData p : t.partitions()) {
                all.add(apply(request.groupId(), t.topicId(), p.partition(), key -> store
                        .initialize(key, p.stateEpoch(), p.startOffset()).thenApply(v -> null)).thenAccept(o -> add(response,
                        () -> result.partitions().add(new InitializeShareGroupStateResponseData.PartitionResult()
                                .setPartition(p.partition()).setErrorCode(o.error().code()).setErrorMessage(o.message())))));
            }
        }
        return allOf(all).thenApply(v -> response);
    }

    public CompletableFuture<ReadShareGroupStateResponseData> read(ReadShareGroupStateRequestData request) {
        ReadShareGroupStateResponseData response = new ReadShareGroupStateResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ReadShareGroupStateRequestData.ReadStateData t : request.topics()) {
            ReadShareGroupStateResponseData.ReadStateResult result =
                    new ReadShareGroupStateResponseData.ReadStateResult().setTopicId(t.topicId());
            response.results().add(result);
            for (ReadShareGroupStateRequestData.PartitionData p : t.partitions()) {
                all.add(apply(request.groupId(), t.topicId(), p.partition(), true,
                        key -> initializedWithEpochs(key, p.leaderEpoch(), 0, READ_UNINITIALIZED), key -> store
                        .readForLeader(key, p.leaderEpoch()).thenApply(s -> s.orElse(null))).thenAccept(o -> {
                    // never initialized: Kafka's share coordinator refuses the read (INVALID_REQUEST), start offset -1
                    boolean uninitialized = o.error() == Errors.NONE && o.state() == null;
                    ReadShareGroupStateResponseData.PartitionResult pr = new ReadShareGroupStateResponseData.PartitionResult()
                            .setPartition(p.partition())
                            .setErrorCode(uninitialized ? Errors.INVALID_REQUEST.code() : o.error().code())
                            .setErrorMessage(uninitialized ? READ_UNINITIALIZED : o.message())
                            .setStateEpoch(o.state() == null ? 0 : o.state().stateEpoch())
                            .setStartOffset(o.state() == null ? -1 : o.state().startOffset());
                    if (o.state() != null) {
                        for (StateBatch b : o.state().batches()) {
                            pr.stateBatches().add(new ReadShareGroupStateResponseData.StateBatch()
                                    .setFirstOffset(b.firstOffset()).setLastOffset(b.lastOffset())
                                    .setDeliveryState(b.deliveryState()).setDeliveryCount(b.deliveryCount()));
                        }
                    }
                    add(response, () -> result.partitions().add(pr));
                }));
            }
        }
        return allOf(all).thenApply(v -> response);
    }

    public CompletableFuture<WriteShareGroupStateResponseData> write(WriteShareGroupStateRequestData request) {
        WriteShareGroupStateResponseData response = new WriteShareGroupStateResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (WriteShareGroupStateRequestData.WriteStateData t : request.topics()) {
            WriteShareGroupStateResponseData.WriteStateResult result =
                    new WriteShareGroupStateResponseData.WriteStateResult().setTopicId(t.topicId());
            response.results().add(result);
            for (WriteShareGroupStateRequestData.PartitionData p : t.partitions()) {
                List<StateBatch> batches = new ArrayList<>(p.stateBatches().size());
                for (WriteShareGroupStateRequestData.StateBatch b : p.stateBatches()) {
                    batches.add(new StateBatch(b.firstOffset(), b.lastOffset(), b.deliveryState(), b.deliveryCount()));
                }
                all.add(apply(request.groupId(), t.topicId(), p.partition(), true,
                        key -> initializedWithEpochs(key, p.leaderEpoch(), p.stateEpoch(), WRITE_UNINITIALIZED),
                        key -> store.write(key, p.stateEpoch(),
                        p.leaderEpoch(), p.startOffset(), batches).thenApply(v -> null)).thenAccept(o -> add(response,
                        () -> result.partitions().add(new WriteShareGroupStateResponseData.PartitionResult()
                                .setPartition(p.partition()).setErrorCode(o.error().code()).setErrorMessage(o.message())))));
            }
        }
        return allOf(all).thenApply(v -> response);
    }

    public CompletableFuture<DeleteShareGroupStateResponseData> delete(DeleteShareGroupStateRequestData request) {
        DeleteShareGroupStateResponseData response = new DeleteShareGroupStateResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (DeleteShareGroupStateRequestData.DeleteStateData t : request.topics()) {
            DeleteShareGroupStateResponseData.DeleteStateResult result =
                    new DeleteShareGroupStateResponseData.DeleteStateResult().setTopicId(t.topicId());
            response.results().add(result);
            for (DeleteShareGroupStateRequestData.PartitionData p : t.partitions()) {
                // a deleted topic's state is deleted too: no existence check here
                all.add(apply(request.groupId(), t.topicId(), p.partition(), false,
                        key -> store.delete(List.of(key)).thenApply(v -> null)).thenAccept(o -> add(response,
                        () -> result.partitions().add(new DeleteShareGroupStateResponseData.PartitionResult()
                                .setPartition(p.partition()).setErrorCode(o.error().code()).setErrorMessage(o.message())))));
            }
        }
        return allOf(all).thenApply(v -> response);
    }

    public CompletableFuture<ReadShareGroupStateSummaryResponseData> summary(ReadShareGroupStateSummaryRequestData request) {
        ReadShareGroupStateSummaryResponseData response = new ReadShareGroupStateSummaryResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ReadShareGroupStateSummaryRequestData.ReadStateSummaryData t : request.topics()) {
            ReadShareGroupStateSummaryResponseData.ReadStateSummaryResult result =
                    new ReadShareGroupStateSummaryResponseData.ReadStateSummaryResult().setTopicId(t.topicId());
            response.results().add(result);
            for (ReadShareGroupStateSummaryRequestData.PartitionData p : t.partitions()) {
                all.add(apply(request.groupId(), t.topicId(), p.partition(),
                        key -> CompletableFuture.completedFuture(store.summary(key).orElse(null))).thenAccept(o -> {
                    ShareState s = o.state();
                    add(response, () -> result.partitions().add(new ReadShareGroupStateSummaryResponseData.PartitionResult()
                            .setPartition(p.partition()).setErrorCode(o.error().code()).setErrorMessage(o.message())
                            .setStateEpoch(s == null ? 0 : s.stateEpoch())
                            .setLeaderEpoch(s == null ? -1 : s.leaderEpoch())
                            .setStartOffset(s == null ? -1 : s.startOffset())
                            .setDeliveryCompleteCount(s == null ? -1 : deliveryComplete(s))));
                }));
            }
        }
        return allOf(all).thenApply(v -> response);
    }

    private static int deliveryComplete(ShareState s) {
        return ShareStateStore.deliveryComplete(s);
    }

    private CompletableFuture<Outcome> apply(String groupId, Uuid topicId, int partition,
                                             java.util.function.Function<Key, CompletableFuture<ShareState>> op) {
        return apply(groupId, topicId, partition, true, op);
    }

    private CompletableFuture<Outcome> apply(String groupId, Uuid topicId, int partition, boolean mustExist,
                                             java.util.function.Function<Key, CompletableFuture<ShareState>> op) {
        return apply(groupId, topicId, partition, mustExist, key -> null, op);
    }

    /**
     * Kafka's ShareCoordinatorShard checks of a read or write before the topic's existence: negative epochs, then a
     * key never initialized, are INVALID_REQUEST (so a write for an unknown topic id is too); null when they pass.
     */
    private Outcome initializedWithEpochs(Key key, int leaderEpoch, int stateEpoch, String uninitialized) {
        if (leaderEpoch < 0) {
            return new Outcome(Errors.INVALID_REQUEST, "Leader epoch cannot be negative.", null);
        }
        if (stateEpoch < 0) {
            return new Outcome(Errors.INVALID_REQUEST, "State epoch cannot be negative.", null);
        }
        return store.summary(key).isEmpty() ? new Outcome(Errors.INVALID_REQUEST, uninitialized, null) : null;
    }

    /** Kafka's checks of a partition's request, then {@code op}; an exception of either becomes the partition's error. */
    private CompletableFuture<Outcome> apply(String groupId, Uuid topicId, int partition, boolean mustExist,
                                             java.util.function.Function<Key, Outcome> shardChecks,
                                             java.util.function.Function<Key, CompletableFuture<ShareState>> op) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new Outcome(Errors.INVALID_GROUP_ID, "Group id must be set.", null));
        }
        if (topicId == null || Uuid.ZERO_UUID.equals(topicId) || partition < 0) {
            return CompletableFuture.completedFuture(new Outcome(Errors.INVALID_REQUEST,
                    "Topic id and partition must be set.", null));
        }
        Key key = new Key(groupId, topicId, partition);
        CompletableFuture<ShareState> done;
        try {
            if (!store.coordinates(key)) {
                return CompletableFuture.completedFuture(new Outcome(Errors.NOT_COORDINATOR,
                        "This broker is not the share coordinator of " + groupId + ":" + topicId + ":" + partition, null));
            }
            Outcome refused = shardChecks.apply(key);
            if (refused != null) {
                return CompletableFuture.completedFuture(refused);
            }
            if (mustExist && !partitionExists.test(topicId, partition)) {
                return CompletableFuture.completedFuture(new Outcome(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                        Errors.UNKNOWN_TOPIC_OR_PARTITION.message(), null));
            }
            done = op.apply(key);
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        return done.handle((state, e) -> {
            if (e == null) {
                return new Outcome(Errors.NONE, null, state);
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            Errors error = Errors.forException(cause);
            if (error == Errors.UNKNOWN_SERVER_ERROR) {
                log.warn("Share-group state operation on {}:{}:{} failed", groupId, topicId, partition, cause);
            } else if (error == Errors.NOT_LEADER_OR_FOLLOWER) {
                error = Errors.NOT_COORDINATOR; // leadership of the state partition moved during the write
            }
            return new Outcome(error, cause.getMessage(), null);
        });
    }

    /** Partitions complete on whichever thread finished their write: their results are added one at a time. */
    private static void add(Object response, Runnable addition) {
        synchronized (response) {
            addition.run();
        }
    }

    private static CompletableFuture<Void> allOf(List<CompletableFuture<Void>> all) {
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /**
     * The state of a successful read; its start offset is -1 when the group coordinator initialized the share
     * partition without one (its leader then applies share.auto.offset.reset, as Kafka's SharePartition).
     */
    static ShareState state(ReadShareGroupStateResponseData.PartitionResult p, int leaderEpoch) {
        List<StateBatch> batches = new ArrayList<>(p.stateBatches().size());
        for (ReadShareGroupStateResponseData.StateBatch b : p.stateBatches()) {
            batches.add(new StateBatch(b.firstOffset(), b.lastOffset(), b.deliveryState(), b.deliveryCount()));
        }
        return new ShareState(p.startOffset(), p.stateEpoch(), leaderEpoch, batches);
    }
}
