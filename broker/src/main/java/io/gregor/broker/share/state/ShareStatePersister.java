package io.gregor.broker.share.state;

import io.gregor.broker.InternalTopic;
import io.gregor.broker.interbroker.InterBrokerClient;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.coordinator.share.ShareStateStore;
import io.gregor.coordinator.share.ShareStateStore.Key;
import io.gregor.coordinator.share.ShareStateStore.ShareState;
import io.gregor.coordinator.share.ShareStateStore.StateBatch;
import org.apache.kafka.common.Node;
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
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DeleteShareGroupStateRequest;
import org.apache.kafka.common.requests.InitializeShareGroupStateRequest;
import org.apache.kafka.common.requests.ReadShareGroupStateRequest;
import org.apache.kafka.common.requests.ReadShareGroupStateSummaryRequest;
import org.apache.kafka.common.requests.WriteShareGroupStateRequest;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * How a share-partition leader keeps its share partitions' state (Kafka's persister): through the share-group
 * state RPCs to the share coordinator of each key, the leader of its {@code __share_group_state} partition,
 * in-process through the same {@link ShareStateService} when that is this broker. A coordinator that moved,
 * is loading or is not known yet (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, a
 * lost connection) is looked up again from the cluster metadata and the call retried, until the request
 * timeout. Writes of one key go out one at a time, the newest state replacing those still waiting (each write
 * carries the whole state), so a retried write never lands after a newer one.
 */
public final class ShareStatePersister {
    private static final Logger log = LoggerFactory.getLogger(ShareStatePersister.class);
    private static final long RETRY_BACKOFF_MS = 100;
    private static final long RETRY_BACKOFF_MAX_MS = 1000;

    private final int brokerId;
    private final ShareStateService local;
    private final ShareStateStore store;
    private final InternalTopic stateTopic;
    private final MetadataStore metadata;
    private final InterBrokerClient network;
    private final ScheduledExecutorService scheduler;
    private final Time time;
    private final long timeoutMs;
    private final Map<Key, WriteQueue> writes = new ConcurrentHashMap<>();

    /** One key's write in flight, and the newest state waiting behind it with everyone who waits for it. */
    private static final class WriteQueue {
        boolean inFlight;
        ShareState waiting;
        List<CompletableFuture<Void>> waiters = new ArrayList<>();
        /** Those waiting for the key's writes to be over (a read that must see them). */
        List<CompletableFuture<Void>> idle = new ArrayList<>();
    }

    /** Completes once the writes of {@code key} sent so far are answered, whatever their outcome. */
    public CompletableFuture<Void> writesDone(Key key) {
        WriteQueue queue = writes.get(key);
        if (queue == null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (queue) {
            if (!queue.inFlight) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            queue.idle.add(done);
            return done;
        }
    }

    /** @param network for coordinators on other brokers; null when this broker is alone (it coordinates all) */
    public ShareStatePersister(int brokerId, ShareStateService local, ShareStateStore store, InternalTopic stateTopic,
                               MetadataStore metadata, InterBrokerClient network, ScheduledExecutorService scheduler,
                               Time time, long timeoutMs) {
        this.brokerId = brokerId;
        this.local = local;
        this.store = store;
        this.stateTopic = stateTopic;
        this.metadata = metadata;
        this.network = network;
        this.scheduler = scheduler;
        this.time = time;
        this.timeoutMs = timeoutMs;
    }

    /**
     * The persisted state (start offset -1 when initialized without one); fails with INVALID_REQUEST when never
     * initialized, as Kafka's share coordinator answers. The read records {@code leaderEpoch}, fencing older leaders.
     */
    public CompletableFuture<ShareState> read(Key key, int leaderEpoch) {
        ReadShareGroupStateRequestData request = new ReadShareGroupStateRequestData().setGroupId(key.groupId());
        request.topics().add(new ReadShareGroupStateRequestData.ReadStateData().setTopicId(key.topicId())
                .setPartitions(List.of(new ReadShareGroupStateRequestData.PartitionData()
                        .setPartition(key.partition()).setLeaderEpoch(leaderEpoch))));
        return call(key, request, local::read, ReadShareGroupStateRequest.Builder::new,
                (ReadShareGroupStateResponseData r) -> r.results().get(0).partitions().get(0).errorCode())
                .thenApply(r -> ShareStateService.state(r.results().get(0).partitions().get(0), leaderEpoch));
    }

    /** Start offset, epochs and delivery-complete count (DescribeShareGroupOffsets), without fencing anyone. */
    public CompletableFuture<Optional<ReadShareGroupStateSummaryResponseData.PartitionResult>> summary(Key key) {
        ReadShareGroupStateSummaryRequestData request = new ReadShareGroupStateSummaryRequestData().setGroupId(key.groupId());
        request.topics().add(new ReadShareGroupStateSummaryRequestData.ReadStateSummaryData().setTopicId(key.topicId())
                .setPartitions(List.of(new ReadShareGroupStateSummaryRequestData.PartitionData()
                        .setPartition(key.partition()).setLeaderEpoch(-1))));
        return call(key, request, local::summary, ReadShareGroupStateSummaryRequest.Builder::new,
                (ReadShareGroupStateSummaryResponseData r) -> r.results().get(0).partitions().get(0).errorCode())
                .thenApply(r -> Optional.of(r.results().get(0).partitions().get(0)).filter(p -> p.startOffset() >= 0));
    }

    public CompletableFuture<Void> initialize(Key key, int stateEpoch, long startOffset) {
        InitializeShareGroupStateRequestData request = new InitializeShareGroupStateRequestData().setGroupId(key.groupId());
        request.topics().add(new InitializeShareGroupStateRequestData.InitializeStateData().setTopicId(key.topicId())
                .setPartitions(List.of(new InitializeShareGroupStateRequestData.PartitionData()
                        .setPartition(key.partition()).setStateEpoch(stateEpoch).setStartOffset(startOffset))));
        return call(key, request, local::initialize, InitializeShareGroupStateRequest.Builder::new,
                (InitializeShareGroupStateResponseData r) -> r.results().get(0).partitions().get(0).errorCode())
                .thenApply(r -> null);
    }

    public CompletableFuture<Void> delete(Key key) {
        DeleteShareGroupStateRequestData request = new DeleteShareGroupStateRequestData().setGroupId(key.groupId());
        request.topics().add(new DeleteShareGroupStateRequestData.DeleteStateData().setTopicId(key.topicId())
                .setPartitions(List.of(new DeleteShareGroupStateRequestData.PartitionData().setPartition(key.partition()))));
        return call(key, request, local::delete, DeleteShareGroupStateRequest.Builder::new,
                (DeleteShareGroupStateResponseData r) -> r.results().get(0).partitions().get(0).errorCode())
                .thenApply(r -> null);
    }

    /** Writes {@code state} (the share partition's whole state) after the key's earlier writes. */
    public CompletableFuture<Void> write(Key key, ShareState state) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        WriteQueue queue = writes.computeIfAbsent(key, k -> new WriteQueue());
        synchronized (queue) {
            if (queue.inFlight) {
                queue.waiting = state;
                queue.waiters.add(done);
                return done;
            }
            queue.inFlight = true;
        }
        sendWrite(key, queue, state, List.of(done));
        return done;
    }

    private void sendWrite(Key key, WriteQueue queue, ShareState state, List<CompletableFuture<Void>> waiters) {
        writeNow(key, state).whenComplete((v, e) -> {
            for (CompletableFuture<Void> w : waiters) {
                if (e == null) {
                    w.complete(null);
                } else {
                    w.completeExceptionally(e);
                }
            }
            ShareState next;
            List<CompletableFuture<Void>> nextWaiters;
            List<CompletableFuture<Void>> idle = null;
            synchronized (queue) {
                next = queue.waiting;
                nextWaiters = queue.waiters;
                queue.waiting = null;
                queue.waiters = new ArrayList<>();
                if (next == null) {
                    queue.inFlight = false;
                    idle = queue.idle;
                    queue.idle = new ArrayList<>();
                }
            }
            if (next == null) {
                idle.forEach(f -> f.complete(null));
                return;
            }
            sendWrite(key, queue, next, nextWaiters);
        });
    }

    private CompletableFuture<Void> writeNow(Key key, ShareState state) {
        WriteShareGroupStateRequestData.PartitionData p = new WriteShareGroupStateRequestData.PartitionData()
                .setPartition(key.partition()).setStateEpoch(state.stateEpoch()).setLeaderEpoch(state.leaderEpoch())
                .setStartOffset(state.startOffset());
        for (StateBatch b : state.batches()) {
            p.stateBatches().add(new WriteShareGroupStateRequestData.StateBatch().setFirstOffset(b.firstOffset())
                    .setLastOffset(b.lastOffset()).setDeliveryState(b.deliveryState()).setDeliveryCount(b.deliveryCount()));
        }
        WriteShareGroupStateRequestData request = new WriteShareGroupStateRequestData().setGroupId(key.groupId());
        request.topics().add(new WriteShareGroupStateRequestData.WriteStateData().setTopicId(key.topicId())
                .setPartitions(List.of(p)));
        return call(key, request, local::write, WriteShareGroupStateRequest.Builder::new,
                (WriteShareGroupStateResponseData r) -> r.results().get(0).partitions().get(0).errorCode())
                .thenApply(r -> null);
    }

    /**
     * Sends {@code request} for {@code key} to its coordinator and completes with the answer, retrying while
     * the coordinator is unknown or moving; fails with the partition's error otherwise.
     */
    private <Q extends ApiMessage, R extends ApiMessage> CompletableFuture<R> call(
            Key key, Q request, Function<Q, CompletableFuture<R>> inProcess,
            Function<Q, AbstractRequest.Builder<?>> builder, Function<R, Short> errorOf) {
        CompletableFuture<R> result = new CompletableFuture<>();
        attempt(key, request, inProcess, builder, errorOf, result, time.milliseconds() + timeoutMs, RETRY_BACKOFF_MS);
        return result;
    }

    @SuppressWarnings("unchecked")
    private <Q extends ApiMessage, R extends ApiMessage> void attempt(
            Key key, Q request, Function<Q, CompletableFuture<R>> inProcess,
            Function<Q, AbstractRequest.Builder<?>> builder, Function<R, Short> errorOf, CompletableFuture<R> result,
            long deadline, long backoff) {
        CompletableFuture<R> sent;
        int coordinator = stateTopic.coordinatorFor(store.partitionFor(key), brokerId);
        if (coordinator < 0) {
            try {
                // the first share partition of a cluster: __share_group_state is created as FindCoordinator would
                stateTopic.ensureCreated();
            } catch (RuntimeException e) {
                log.debug("Cannot create {} yet: {}", stateTopic.name(), e.toString());
            }
        }
        if (coordinator == brokerId) {
            try {
                sent = inProcess.apply(request);
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
        } else {
            Node node = coordinator < 0 || network == null ? null : node(coordinator);
            sent = node == null
                    ? CompletableFuture.failedFuture(Errors.COORDINATOR_NOT_AVAILABLE.exception(
                            "The share coordinator of " + key.groupId() + ":" + key.topicId() + ":" + key.partition()
                                    + " is not known now"))
                    : network.send(node, builder.apply(request)).thenApply(r -> (R) r);
        }
        sent.whenComplete((response, e) -> {
            Errors error = e != null ? Errors.forException(e instanceof java.util.concurrent.CompletionException
                    && e.getCause() != null ? e.getCause() : e) : Errors.forCode(errorOf.apply(response));
            boolean retriable = e != null ? error != Errors.FENCED_LEADER_EPOCH && error != Errors.FENCED_STATE_EPOCH
                    : error == Errors.NOT_COORDINATOR || error == Errors.COORDINATOR_LOAD_IN_PROGRESS
                    || error == Errors.COORDINATOR_NOT_AVAILABLE;
            if (error == Errors.NONE) {
                result.complete(response);
            } else if (retriable && time.milliseconds() + backoff < deadline) {
                log.debug("Share-group state call for {}:{}:{} to broker {} failed ({}); retrying", key.groupId(),
                        key.topicId(), key.partition(), coordinator, error.name());
                scheduler.schedule(() -> attempt(key, request, inProcess, builder, errorOf, result, deadline,
                        Math.min(backoff * 2, RETRY_BACKOFF_MAX_MS)), backoff, TimeUnit.MILLISECONDS);
            } else {
                result.completeExceptionally(error.exception("Share-group state call for " + key.groupId() + ":"
                        + key.topicId() + ":" + key.partition() + " failed: " + error.name()));
            }
        });
    }

    private Node node(int brokerId) {
        for (BrokerInfo b : metadata.liveBrokers()) {
            if (b.id() == brokerId) {
                BrokerInfo on = b.on(network.listenerName());
                return on == null ? null : new Node(on.id(), on.host(), on.port(), on.rack());
            }
        }
        return null;
    }
}
