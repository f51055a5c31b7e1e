package io.gregor.broker.handlers;

import io.gregor.broker.metadata.TopicMetadata;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.fetchsession.FetchContext;
import io.gregor.broker.fetchsession.FetchSessionCache;
import io.gregor.broker.metrics.TopicMetrics;
import io.gregor.broker.replica.FetchPurgatory;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.AbortedTxn;
import io.gregor.storage.FileSlice;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.ReadResult;
import io.gregor.storage.TopicPartition;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import io.gregor.wire.SegmentRecords;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/**
 * Fetch: reads whole record batches from the logs up to the high watermark (read_committed: up to the last
 * stable offset, with the aborted transactions of what was read) and hands them to the
 * encoder as file slices (sendfile). When less than {@code min.bytes} is there, the fetch waits in
 * the purgatory until enough is appended or {@code max.wait.ms} passes. A client with an incremental fetch
 * session (KIP-227, {@link FetchSessionCache}) names only the partitions whose fetch position changed and is
 * told only about partitions with something new.
 * <p>
 * A follower's fetch (replica id >= 0) reads up to the log end instead, tells the leader the follower's
 * log end offset (which moves the high watermark and the ISR), and is answered with a diverging epoch
 * instead of records when its last fetched epoch ends earlier on the leader (KIP-320).
 */
public final class FetchHandler {
    private static final Logger log = LoggerFactory.getLogger(FetchHandler.class);
    private static final byte READ_COMMITTED = 1;

    private final Topics topics;
    private final FetchPurgatory purgatory;
    private final FetchSessionCache sessions;
    private final Time time;
    private final TopicMetrics topicMetrics;

    public FetchHandler(Topics topics, FetchPurgatory purgatory, FetchSessionCache sessions, Time time,
                        TopicMetrics topicMetrics) {
        this.sessions = sessions;
        this.topicMetrics = topicMetrics;
        this.topics = topics;
        this.purgatory = purgatory;
        this.time = time;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.FETCH, (short) 4, Short.MAX_VALUE, this::fetch);
    }

    private CompletionStage<FetchResponseData> fetch(KafkaRequest request) {
        FetchRequestData data = request.body();
        boolean byId = request.apiVersion() >= 13;
        int replicaId = request.apiVersion() >= 15 ? data.replicaState().replicaId() : data.replicaId();
        FetchContext context = sessions.newContext(request.apiVersion(), data, replicaId >= 0);
        if (context.error() != Errors.NONE) {
            log.debug("Fetch from {} with session {} epoch {}: {}", request.clientId(), data.sessionId(),
                    data.sessionEpoch(), context.error());
            return CompletableFuture.completedFuture(context.errorResponse());
        }
        List<FetchRequestData.FetchTopic> topicsToRead = context.topics();
        boolean[] refused = refusedTopics(request, topicsToRead, byId, replicaId);
        Result first = read(data, topicsToRead, byId, replicaId, refused);
        if (data.maxWaitMs() <= 0 || first.bytes >= data.minBytes() || first.hasError || first.logs.isEmpty()) {
            return CompletableFuture.completedFuture(answered(context, first, replicaId));
        }
        CompletableFuture<FetchResponseData> answer = new CompletableFuture<>();
        List<TopicPartition> watched = new ArrayList<>(first.logs.size());
        long[] endsSeen = new long[first.logs.size()];
        for (int i = 0; i < first.logs.size(); i++) {
            watched.add(first.logs.get(i).topicPartition());
            endsSeen[i] = first.visibleEnds.get(i);
        }
        boolean replica = replicaId >= 0;
        boolean committed = !replica && data.isolationLevel() == READ_COMMITTED;
        BooleanSupplier visibleEndMoved = () -> {
            for (int i = 0; i < first.logs.size(); i++) {
                if (visibleEnd(first.logs.get(i), replica, committed) != endsSeen[i]) {
                    return true;
                }
            }
            return false;
        };
        purgatory.await(watched, first.bytes, data.minBytes(), data.maxWaitMs(), replica,
                committed ? visibleEndMoved : null, committed ? bytesAboveVisibleEnd(first) : 0, visibleEndMoved,
                () -> {
                    try {
                        answer.complete(answered(context, read(data, topicsToRead, byId, replicaId, refused), replicaId));
                    } catch (RuntimeException e) {
                        answer.completeExceptionally(e);
                    }
                });
        return answer;
    }

    /** The answer of a read that is sent: its bytes go to BrokerTopicMetrics (a discarded first read's do not). */
    private FetchResponseData answered(FetchContext context, Result result, int replicaId) {
        for (int i = 0; i < result.topicsRead.size(); i++) {
            topicMetrics.fetched(result.topicsRead.get(i), result.topicBytes.get(i), replicaId >= 0);
        }
        return context.answer(result.response);
    }

    /**
     * A read_committed fetch's bytes between the LSO it read up to and the high watermark (an open transaction's):
     * a commit makes them readable, and they count toward min.bytes then, as Kafka measures its delayed fetch
     * from the fetch position to the LSO. Only batch headers are read (a file slice, no copy).
     */
    private static long bytesAboveVisibleEnd(Result first) {
        long bytes = 0;
        for (int i = 0; i < first.logs.size(); i++) {
            PartitionLog log = first.logs.get(i);
            long visible = first.visibleEnds.get(i);
            long hw = log.highWatermark();
            if (visible < hw) {
                try {
                    bytes += log.read(visible, Integer.MAX_VALUE, hw, false).records().size();
                } catch (RuntimeException e) {
                    // moved meanwhile (truncated, deleted): the wait counts what comes next only
                }
            }
        }
        return bytes;
    }

    /** What a fetch may read up to: the log end for a replica, else the LSO (read_committed) or the HW. */
    private static long visibleEnd(PartitionLog log, boolean replica, boolean readCommitted) {
        return replica ? log.logEndOffset() : readCommitted ? log.lastStableOffset() : log.highWatermark();
    }

    /**
     * Per topic to read (the request's, or its fetch session's), whether it is refused: a follower needs CLUSTER_ACTION on the cluster, a consumer READ on
     * the topic. Null when nothing is refused (always without an authorizer). An unknown topic id is not refused:
     * it is answered UNKNOWN_TOPIC_ID.
     */
    private boolean[] refusedTopics(KafkaRequest request, List<FetchRequestData.FetchTopic> requested, boolean byId,
                                   int replicaId) {
        if (!request.authorizerEnabled()) {
            return null;
        }
        boolean[] refused = new boolean[requested.size()];
        boolean clusterAction = replicaId >= 0 && request.authorizeCluster(AclOperation.CLUSTER_ACTION);
        boolean any = false;
        for (int i = 0; i < refused.length; i++) {
            FetchRequestData.FetchTopic t = requested.get(i);
            String name = byId ? topics.topic(t.topicId()).map(TopicMetadata::name).orElse(null) : t.topic();
            refused[i] = replicaId >= 0 ? !clusterAction
                    : name != null && !request.authorize(AclOperation.READ, ResourceType.TOPIC, name);
            any |= refused[i];
        }
        return any ? refused : null;
    }

    private Result read(FetchRequestData data, List<FetchRequestData.FetchTopic> topicsToRead, boolean byId, int replicaId,
                        boolean[] refused) {
        long now = time.milliseconds();
        Result result = new Result();
        FetchResponseData response = result.response;
        long budget = data.maxBytes();
        for (int topicIndex = 0; topicIndex < topicsToRead.size(); topicIndex++) {
            FetchRequestData.FetchTopic fetchTopic = topicsToRead.get(topicIndex);
            FetchableTopicResponse topicResponse = new FetchableTopicResponse()
                    .setTopic(fetchTopic.topic()).setTopicId(fetchTopic.topicId());
            response.responses().add(topicResponse);
            boolean topicRefused = refused != null && refused[topicIndex];
            for (FetchRequestData.FetchPartition fp : fetchTopic.partitions()) {
                PartitionData pd = new PartitionData().setPartitionIndex(fp.partition())
                        .setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1)
                        .setRecords(MemoryRecords.EMPTY);
                if (data.isolationLevel() == READ_COMMITTED) {
                    pd.setAbortedTransactions(new ArrayList<>());
                }
                topicResponse.partitions().add(pd);
                if (topicRefused) {
                    result.fail(pd, Errors.TOPIC_AUTHORIZATION_FAILED);
                    continue;
                }
                LeaderLookup leader = LeaderLookup.lookup(byId
                                ? topics.partition(fetchTopic.topicId(), fp.partition())
                                : topics.partition(fetchTopic.topic(), fp.partition()),
                        fp.currentLeaderEpoch(), byId
                                ? topics.notHostedError(fetchTopic.topicId(), fp.partition(), Errors.UNKNOWN_TOPIC_ID)
                                : topics.notHostedError(fetchTopic.topic(), fp.partition(), Errors.UNKNOWN_TOPIC_OR_PARTITION));
                if (leader.error() != Errors.NONE) {
                    result.fail(pd, leader.error());
                    continue;
                }
                Partition partition = leader.partition();
                PartitionLog log = partition.log();
                int limit = (int) Math.max(0, Math.min(fp.partitionMaxBytes(), budget));
                try {
                    boolean readCommitted = data.isolationLevel() == READ_COMMITTED;
                    long lastStable = log.lastStableOffset();
                    long upTo = readCommitted ? lastStable : log.highWatermark();
                    if (replicaId >= 0) {
                        if (diverging(log, fp, pd)) {
                            result.logs.add(log);
                            result.visibleEnds.add(log.logEndOffset());
                            result.hasError = true; // answer at once: the follower must truncate first
                            continue;
                        }
                        partition.updateFollower(replicaId, fp.fetchOffset(), fp.logStartOffset(), now);
                        // a leader throttle sends a throttled follower nothing while its rate is exceeded
                        upTo = topics.replicationThrottles().leaderShouldThrottle(partition, replicaId,
                                partition.localBrokerId()) ? fp.fetchOffset() : Long.MAX_VALUE;
                    }
                    ReadResult read = log.read(fp.fetchOffset(), limit, upTo, result.bytes == 0);
                    FileSlice slice = read.records();
                    if (replicaId >= 0) {
                        topics.replicationThrottles().recordLeader(partition, replicaId, partition.localBrokerId(),
                                slice.size());
                    }
                    pd.setHighWatermark(read.highWatermark())
                            .setLastStableOffset(Math.min(lastStable, read.highWatermark()))
                            .setLogStartOffset(read.logStartOffset());
                    if (readCommitted && replicaId < 0 && !slice.isEmpty()) {
                        // Kafka's list for the fetched range; the read never passes upTo (the LSO)
                        for (AbortedTxn txn : log.abortedTransactions(fp.fetchOffset(), upTo)) {
                            pd.abortedTransactions().add(new FetchResponseData.AbortedTransaction()
                                    .setProducerId(txn.producerId()).setFirstOffset(txn.firstOffset()));
                        }
                    }
                    if (!slice.isEmpty()) {
                        pd.setRecords(new SegmentRecords(slice.channel(), slice.position(), slice.size()));
                        result.bytes += slice.size();
                        budget -= slice.size();
                    }
                    result.read(partition.topicPartition().topic(), slice.size());
                    result.logs.add(log);
                    result.visibleEnds.add(replicaId >= 0 ? read.logEndOffset()
                            : readCommitted ? Math.min(lastStable, read.highWatermark()) : read.highWatermark());
                } catch (RuntimeException e) {
                    Errors error = StorageErrors.toKafka(e);
                    if (error == Errors.UNKNOWN_SERVER_ERROR) {
                        FetchHandler.log.error("Read of {} at {} failed", partition.topicPartition(), fp.fetchOffset(), e);
                        // as Kafka, only unexpected failures count, not a client's out-of-range offset
                        topicMetrics.fetchFailed(partition.topicPartition().topic());
                    }
                    result.fail(pd, error);
                }
            }
        }
        return result;
    }

    /** KIP-320 on the leader: does the follower's last fetched epoch end before its fetch offset here? */
    private static boolean diverging(PartitionLog log, FetchRequestData.FetchPartition fp, PartitionData pd) {
        if (fp.lastFetchedEpoch() < 0) {
            return false;
        }
        PartitionLog.EpochEndOffset end = log.endOffsetForEpoch(fp.lastFetchedEpoch());
        if (end.endOffset() < 0 || (end.epoch() >= fp.lastFetchedEpoch() && end.endOffset() >= fp.fetchOffset())) {
            return false;
        }
        pd.divergingEpoch().setEpoch(end.epoch()).setEndOffset(end.endOffset());
        pd.setHighWatermark(log.highWatermark()).setLastStableOffset(log.lastStableOffset())
                .setLogStartOffset(log.logStartOffset());
        return true;
    }

    /** One pass over the requested partitions: the response and what a waiting fetch must watch. */
    private static final class Result {
        final FetchResponseData response = new FetchResponseData();
        final List<PartitionLog> logs = new ArrayList<>();
        /** Per watched log, the end this fetch could see: the log end for a replica, the high watermark otherwise. */
        final List<Long> visibleEnds = new ArrayList<>();
        long bytes;
        boolean hasError;
        /** Bytes read per topic, in request order (a topic's partitions come together). */
        final List<String> topicsRead = new ArrayList<>(2);
        final List<Long> topicBytes = new ArrayList<>(2);

        void read(String topic, long n) {
            int last = topicsRead.size() - 1;
            if (last >= 0 && topicsRead.get(last).equals(topic)) {
                topicBytes.set(last, topicBytes.get(last) + n);
            } else {
                topicsRead.add(topic);
                topicBytes.add(n);
            }
        }

        void fail(PartitionData pd, Errors error) {
            pd.setErrorCode(error.code());
            hasError = true;
        }
    }
}
