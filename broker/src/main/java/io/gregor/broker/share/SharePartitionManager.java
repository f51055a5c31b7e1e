package io.gregor.broker.share;

import io.gregor.broker.Topics;
import io.gregor.broker.replica.FetchPurgatory;
import io.gregor.broker.replica.Partition;
import io.gregor.broker.share.state.ShareStatePersister;
import io.gregor.coordinator.share.ShareGroupConfigs;
import io.gregor.coordinator.share.ShareStateStore;
import io.gregor.storage.AbortedTxn;
import io.gregor.storage.FileSlice;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.ReadResult;
import io.gregor.wire.SegmentRecords;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareFetchResponseData.AcquiredRecords;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * ShareFetch and ShareAcknowledge on the partition leader (KIP-932): share sessions (one per group member and
 * broker, epoch 0 opens, -1 closes, each request brings the next epoch), acknowledgements (alone or piggy-backed
 * on fetches), and acquisition of records for a member with a lock of {@code share.record.lock.duration.ms}.
 * Records are read with the log's own read (file slices sent as they are, whole batches); the answer names
 * the acquired offset ranges, which the client delivers. Every change of a share partition's persisted state
 * (acknowledgement, release, lock expiry) is written to {@code __share_group_state} before it is answered.
 */
public final class SharePartitionManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SharePartitionManager.class);
    private static final int HEADER_BYTES = 51; // a v2 batch header up to the producer id
    private static final long LOCK_CHECK_MS = 100;
    private static final byte RECORD_LIMIT_MODE = 1;

    private record TopicIdPartition(Uuid topicId, int partition) {
    }

    private static final class Session {
        final String groupId;
        final String memberId;
        /** The epoch the next request must carry; the opening request (epoch 0) moves it to 1. */
        int epoch = 0;
        final Set<TopicIdPartition> partitions = new LinkedHashSet<>();

        Session(String groupId, String memberId) {
            this.groupId = groupId;
            this.memberId = memberId;
        }
    }

    /** One acknowledgement batch, from either request type. */
    private record Ack(long first, long last, List<Byte> types) {
    }

    private final Topics topics;
    private final ShareStatePersister store;
    private final ShareGroupConfigs configs;
    private final FetchPurgatory purgatory;
    private final Time time;
    private final int maxSessions;
    private final Map<ShareStateStore.Key, SharePartition> partitions = new ConcurrentHashMap<>();
    /** Share partitions whose state is being read from their share coordinator. */
    private final Map<ShareStateStore.Key, CompletableFuture<Void>> loading = new ConcurrentHashMap<>();
    /** Share partitions whose state could not be read, with the error their next fetch answers (as Kafka's). */
    private final Map<ShareStateStore.Key, Errors> loadFailures = new ConcurrentHashMap<>();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> lockTimer;

    public SharePartitionManager(Topics topics, ShareStatePersister store, ShareGroupConfigs configs,
                                 FetchPurgatory purgatory, ScheduledExecutorService scheduler, int maxSessions,
                                 Time time) {
        this.topics = topics;
        this.store = store;
        this.configs = configs;
        this.purgatory = purgatory;
        this.time = time;
        this.maxSessions = maxSessions;
        this.lockTimer = scheduler.scheduleAtFixedRate(this::expireLocks, LOCK_CHECK_MS, LOCK_CHECK_MS,
                TimeUnit.MILLISECONDS);
    }

    private static String sessionKey(String groupId, String memberId) {
        return groupId + '\u0000' + memberId;
    }

    // ------------------------------------------------------------------------------------------ ShareFetch

    public CompletableFuture<ShareFetchResponseData> fetch(ShareFetchRequestData request, short version) {
        ShareFetchResponseData response = new ShareFetchResponseData();
        String groupId = request.groupId();
        String memberId = request.memberId();
        if (groupId == null || groupId.isEmpty() || memberId == null || memberId.isEmpty()) {
            return done(response.setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("GroupId and MemberId must be set."));
        }
        int lockMs = configs.recordLockDurationMs(groupId);
        response.setAcquisitionLockTimeoutMs(lockMs);
        int epoch = request.shareSessionEpoch();
        String key = sessionKey(groupId, memberId);
        Session session;
        boolean hasAcks = request.topics().stream().anyMatch(t -> t.partitions().stream()
                .anyMatch(p -> !p.acknowledgementBatches().isEmpty()));
        if (epoch == 0) {
            if (hasAcks) {
                return done(response.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("Acknowledge data present on initial fetch request."));
            }
            Session previous = sessions.get(key);
            if (previous == null && sessions.size() >= maxSessions) {
                return done(response.setErrorCode(Errors.SHARE_SESSION_LIMIT_REACHED.code())
                        .setErrorMessage("The limit of share sessions on this broker is reached."));
            }
            session = new Session(groupId, memberId);
            if (previous != null) {
                releaseRecords(previous);
            }
            sessions.put(key, session);
        } else {
            session = sessions.get(key);
            Errors error = checkEpoch(session, epoch);
            if (error != Errors.NONE) {
                return done(response.setErrorCode(error.code()).setErrorMessage(error.message()));
            }
        }
        Map<TopicIdPartition, ShareFetchResponseData.PartitionData> answers = new LinkedHashMap<>();
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        synchronized (session) {
            for (ShareFetchRequestData.FetchTopic t : request.topics()) {
                for (ShareFetchRequestData.FetchPartition p : t.partitions()) {
                    TopicIdPartition tp = new TopicIdPartition(t.topicId(), p.partitionIndex());
                    if (epoch != -1) {
                        session.partitions.add(tp);
                    }
                    if (!p.acknowledgementBatches().isEmpty()) {
                        List<Ack> acks = new ArrayList<>(p.acknowledgementBatches().size());
                        for (ShareFetchRequestData.AcknowledgementBatch b : p.acknowledgementBatches()) {
                            acks.add(new Ack(b.firstOffset(), b.lastOffset(), b.acknowledgeTypes()));
                        }
                        Errors ackError = acknowledge(groupId, memberId, tp, acks, lockMs, writes);
                        answers.put(tp, partitionData(tp).setAcknowledgeErrorCode(ackError.code())
                                .setAcknowledgeErrorMessage(ackError == Errors.NONE ? null : ackError.message()));
                    }
                }
            }
            for (ShareFetchRequestData.ForgottenTopic f : request.forgottenTopicsData()) {
                for (int p : f.partitions()) {
                    session.partitions.remove(new TopicIdPartition(f.topicId(), p));
                }
            }
            if (epoch == -1) {
                sessions.remove(key, session);
                releaseRecords(session);
                maybeGroupEmpty(groupId);
            } else {
                session.epoch = session.epoch == Integer.MAX_VALUE ? 1 : session.epoch + 1;
            }
        }
        boolean acquire = epoch != -1 && !(version >= 2 && request.isRenewAck());
        CompletableFuture<Void> persisted = CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
        if (!acquire) {
            return persisted.handle((v, e) -> fetchResponse(response, answers, e));
        }
        List<TopicIdPartition> fetchable = List.copyOf(session.partitions);
        int maxRecords = version >= 1 && request.maxRecords() > 0 ? request.maxRecords() : Integer.MAX_VALUE;
        boolean recordLimit = version >= 2 && request.shareAcquireMode() == RECORD_LIMIT_MODE;
        int acquired = acquireAll(groupId, memberId, fetchable, request.maxBytes(), maxRecords, recordLimit, lockMs,
                answers);
        boolean failed = answers.values().stream().anyMatch(pd -> pd.errorCode() != Errors.NONE.code());
        if (acquired > 0 || failed || request.maxWaitMs() <= 0 || fetchable.isEmpty() || !writes.isEmpty()) {
            return persisted.handle((v, e) -> fetchResponse(response, answers, e));
        }
        // nothing to hand out now: wait for new records up to maxWaitMs, then look again
        CompletableFuture<ShareFetchResponseData> answer = new CompletableFuture<>();
        List<io.gregor.storage.TopicPartition> watched = new ArrayList<>();
        List<PartitionLog> logs = new ArrayList<>();
        List<Long> ends = new ArrayList<>();
        for (TopicIdPartition tp : fetchable) {
            topics.partition(tp.topicId(), tp.partition()).filter(Partition::isLeader).ifPresent(p -> {
                watched.add(p.topicPartition());
                logs.add(p.log());
                ends.add(p.log().highWatermark());
            });
        }
        if (watched.isEmpty()) {
            return persisted.handle((v, e) -> fetchResponse(response, answers, e));
        }
        purgatory.await(watched, 0, 1, request.maxWaitMs(), () -> {
            for (int i = 0; i < logs.size(); i++) {
                if (logs.get(i).highWatermark() != ends.get(i)) {
                    return true;
                }
            }
            return false;
        }, () -> {
            try {
                Map<TopicIdPartition, ShareFetchResponseData.PartitionData> again = new LinkedHashMap<>(answers);
                acquireAll(groupId, memberId, fetchable, request.maxBytes(), maxRecords, recordLimit, lockMs, again);
                answer.complete(fetchResponse(response, again, null));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        return answer;
    }

    private static Errors checkEpoch(Session session, int epoch) {
        if (session == null) {
            return Errors.SHARE_SESSION_NOT_FOUND;
        }
        if (epoch != -1 && epoch != session.epoch) {
            return Errors.INVALID_SHARE_SESSION_EPOCH;
        }
        return Errors.NONE;
    }

    private ShareFetchResponseData fetchResponse(ShareFetchResponseData response,
                                                 Map<TopicIdPartition, ShareFetchResponseData.PartitionData> answers,
                                                 Throwable writeFailure) {
        Errors writeError = writeFailure == null ? Errors.NONE : Errors.forException(unwrap(writeFailure));
        for (Map.Entry<TopicIdPartition, ShareFetchResponseData.PartitionData> e : answers.entrySet()) {
            ShareFetchResponseData.PartitionData pd = e.getValue();
            if (writeError != Errors.NONE && pd.acknowledgeErrorCode() == Errors.NONE.code()) {
                pd.setAcknowledgeErrorCode(writeError.code()).setAcknowledgeErrorMessage(writeError.message());
            }
            ShareFetchResponseData.ShareFetchableTopicResponse topic = response.responses().find(e.getKey().topicId());
            if (topic == null) {
                topic = new ShareFetchResponseData.ShareFetchableTopicResponse().setTopicId(e.getKey().topicId());
                response.responses().add(topic);
            }
            topic.partitions().add(pd);
        }
        return response;
    }

    private ShareFetchResponseData.PartitionData partitionData(TopicIdPartition tp) {
        ShareFetchResponseData.PartitionData pd = new ShareFetchResponseData.PartitionData()
                .setPartitionIndex(tp.partition()).setRecords(MemoryRecords.EMPTY);
        topics.partition(tp.topicId(), tp.partition()).ifPresent(p -> pd.currentLeader()
                .setLeaderId(p.leaderId()).setLeaderEpoch(p.leaderEpoch()));
        return pd;
    }

    /** Acquires for every partition of the session; the answers of those with records or errors go to {@code answers}. */
    private int acquireAll(String groupId, String memberId, List<TopicIdPartition> fetchable, int maxBytes,
                           int maxRecords, boolean recordLimit, int lockMs,
                           Map<TopicIdPartition, ShareFetchResponseData.PartitionData> answers) {
        long budgetBytes = maxBytes <= 0 ? Integer.MAX_VALUE : maxBytes;
        int acquiredTotal = 0;
        for (TopicIdPartition tp : fetchable) {
            if (acquiredTotal >= maxRecords || budgetBytes <= 0) {
                break;
            }
            Optional<Partition> found = topics.partition(tp.topicId(), tp.partition());
            if (found.isEmpty() || !found.get().isLeader()) {
                Errors error = found.isEmpty() ? topics.notHostedError(tp.topicId(), tp.partition(), Errors.UNKNOWN_TOPIC_ID)
                        : Errors.NOT_LEADER_OR_FOLLOWER;
                answers.computeIfAbsent(tp, this::partitionData).setErrorCode(error.code()).setErrorMessage(error.message());
                continue;
            }
            Partition partition = found.get();
            try {
                SharePartition sp = sharePartition(groupId, tp, partition);
                if (sp == null) {
                    Errors failed = loadFailures.remove(new ShareStateStore.Key(groupId, tp.topicId(), tp.partition()));
                    if (failed != null) {
                        // Kafka: a share partition that cannot be initialized answers its error; the next fetch retries
                        answers.computeIfAbsent(tp, this::partitionData).setErrorCode(failed.code())
                                .setErrorMessage(failed.message());
                    }
                    continue;
                }
                List<AcquiredRecords> ranges = new ArrayList<>();
                SegmentRecords records;
                int n;
                synchronized (sp) {
                    long now = time.milliseconds();
                    int limit = configs.deliveryCountLimit(groupId);
                    if (sp.expireLocks(now, limit)) {
                        persist(sp);
                    }
                    Acquisition a = acquire(sp, partition.log(), memberId, now + lockMs,
                            maxRecords - acquiredTotal, recordLimit, configs.partitionMaxRecordLocks(groupId),
                            (int) Math.min(Integer.MAX_VALUE, budgetBytes), ranges);
                    records = a.records;
                    n = a.acquired;
                }
                if (n > 0) {
                    acquiredTotal += n;
                    budgetBytes -= records.sizeInBytes();
                    answers.computeIfAbsent(tp, this::partitionData).setRecords(records).setAcquiredRecords(ranges);
                }
            } catch (RuntimeException e) {
                Errors error = Errors.forException(e);
                if (error == Errors.UNKNOWN_SERVER_ERROR) {
                    log.error("Share fetch of {} for group {} failed", partition.topicPartition(), groupId, e);
                }
                answers.computeIfAbsent(tp, this::partitionData).setErrorCode(error.code()).setErrorMessage(e.getMessage());
            }
        }
        return acquiredTotal;
    }

    private record Acquisition(SegmentRecords records, int acquired) {
    }

    /**
     * Reads from the first acquirable offset up to the high watermark (the last stable offset for a group with
     * share.isolation.level=read_committed) and walks the batch headers of what was read (a small buffer reused per
     * batch, nothing per record), acquiring whole batches until {@code maxRecords} (batch-optimized) or exactly
     * {@code maxRecords} (record-limit mode). Control batches, and under read_committed the batches of aborted
     * transactions, are archived instead: never delivered, as Kafka does.
     */
    private Acquisition acquire(SharePartition sp, PartitionLog log, String memberId, long lockUntil, int maxRecords,
                                boolean recordLimit, int maxInFlight, int maxBytes, List<AcquiredRecords> ranges) {
        sp.moveStartTo(log.logStartOffset());
        long from = sp.nextFetchOffset();
        boolean readCommitted = configs.readCommitted(sp.key.groupId());
        long hw = readCommitted ? Math.min(log.lastStableOffset(), log.highWatermark()) : log.highWatermark();
        if (from >= hw || (from == sp.endOffset() && !sp.canAcquireNew(maxInFlight))) {
            return new Acquisition(null, 0);
        }
        ReadResult read = log.read(from, maxBytes, hw, true);
        FileSlice slice = read.records();
        if (slice.isEmpty()) {
            return new Acquisition(null, 0);
        }
        List<AbortedTxn> aborted = readCommitted ? log.abortedTransactions(from, hw) : List.of();
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        long pos = slice.position();
        long end = slice.position() + slice.size();
        long usedEnd = pos;
        int acquired = 0;
        try {
            while (pos + HEADER_BYTES <= end && acquired < maxRecords) {
                header.clear();
                while (header.hasRemaining()) {
                    if (slice.channel().read(header, pos + header.position()) < 0) {
                        break;
                    }
                }
                long base = header.getLong(0);
                int size = 12 + header.getInt(8);
                if (pos + size > end || size <= 12) {
                    break;
                }
                long last = base + header.getInt(23);
                short attributes = header.getShort(21);
                boolean control = (attributes & 0x20) != 0;
                boolean abortedBatch = !aborted.isEmpty() && (attributes & 0x10) != 0 && !control
                        && isAborted(aborted, header.getLong(43), base);
                if (last >= from && last < hw) {
                    if (base >= sp.endOffset() && !sp.canAcquireNew(maxInFlight)) {
                        break;
                    }
                    int budget = recordLimit ? maxRecords - acquired : Integer.MAX_VALUE;
                    acquired += sp.acquireBatch(base, last, control || abortedBatch, memberId, lockUntil, budget,
                            ranges);
                    usedEnd = pos + size;
                } else if (last >= hw) {
                    break;
                }
                pos += size;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (acquired == 0) {
            return new Acquisition(null, 0);
        }
        return new Acquisition(new SegmentRecords(slice.channel(), slice.position(),
                (int) (usedEnd - slice.position())), acquired);
    }

    /** Whether the producer's transaction holding the batch at {@code baseOffset} was aborted (its marker comes later). */
    private static boolean isAborted(List<AbortedTxn> aborted, long producerId, long baseOffset) {
        for (AbortedTxn txn : aborted) {
            if (txn.producerId() == producerId && txn.firstOffset() <= baseOffset && baseOffset < txn.lastOffset()) {
                return true;
            }
        }
        return false;
    }

    // ----------------------------------------------------------------------------------- ShareAcknowledge

    public CompletableFuture<ShareAcknowledgeResponseData> acknowledge(ShareAcknowledgeRequestData request,
                                                                       short version) {
        ShareAcknowledgeResponseData response = new ShareAcknowledgeResponseData();
        String groupId = request.groupId();
        String memberId = request.memberId();
        if (groupId == null || groupId.isEmpty() || memberId == null || memberId.isEmpty()) {
            return done(response.setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("GroupId and MemberId must be set."));
        }
        int lockMs = configs.recordLockDurationMs(groupId);
        if (version >= 2) {
            response.setAcquisitionLockTimeoutMs(lockMs);
        }
        int epoch = request.shareSessionEpoch();
        String key = sessionKey(groupId, memberId);
        if (epoch == 0) {
            return done(response.setErrorCode(Errors.INVALID_SHARE_SESSION_EPOCH.code())
                    .setErrorMessage("A share session cannot be opened by ShareAcknowledge."));
        }
        Session session = sessions.get(key);
        Errors error = checkEpoch(session, epoch);
        if (error != Errors.NONE) {
            return done(response.setErrorCode(error.code()).setErrorMessage(error.message()));
        }
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        Map<TopicIdPartition, ShareAcknowledgeResponseData.PartitionData> answers = new LinkedHashMap<>();
        synchronized (session) {
            for (ShareAcknowledgeRequestData.AcknowledgeTopic t : request.topics()) {
                for (ShareAcknowledgeRequestData.AcknowledgePartition p : t.partitions()) {
                    TopicIdPartition tp = new TopicIdPartition(t.topicId(), p.partitionIndex());
                    List<Ack> acks = new ArrayList<>(p.acknowledgementBatches().size());
                    for (ShareAcknowledgeRequestData.AcknowledgementBatch b : p.acknowledgementBatches()) {
                        acks.add(new Ack(b.firstOffset(), b.lastOffset(), b.acknowledgeTypes()));
                    }
                    Errors ackError = acknowledge(groupId, memberId, tp, acks, lockMs, writes);
                    ShareAcknowledgeResponseData.PartitionData pd = new ShareAcknowledgeResponseData.PartitionData()
                            .setPartitionIndex(tp.partition()).setErrorCode(ackError.code())
                            .setErrorMessage(ackError == Errors.NONE ? null : ackError.message());
                    topics.partition(tp.topicId(), tp.partition()).ifPresent(part -> pd.currentLeader()
                            .setLeaderId(part.leaderId()).setLeaderEpoch(part.leaderEpoch()));
                    answers.put(tp, pd);
                }
            }
            if (epoch == -1) {
                sessions.remove(key, session);
                releaseRecords(session);
                maybeGroupEmpty(groupId);
            } else {
                session.epoch = session.epoch == Integer.MAX_VALUE ? 1 : session.epoch + 1;
            }
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).handle((v, e) -> {
            Errors writeError = e == null ? Errors.NONE : Errors.forException(unwrap(e));
            answers.forEach((tp, pd) -> {
                if (writeError != Errors.NONE && pd.errorCode() == Errors.NONE.code()) {
                    pd.setErrorCode(writeError.code()).setErrorMessage(writeError.message());
                }
                ShareAcknowledgeResponseData.ShareAcknowledgeTopicResponse topic = response.responses().find(tp.topicId());
                if (topic == null) {
                    topic = new ShareAcknowledgeResponseData.ShareAcknowledgeTopicResponse().setTopicId(tp.topicId());
                    response.responses().add(topic);
                }
                topic.partitions().add(pd);
            });
            return response;
        });
    }

    /** Applies a partition's acknowledgements (all checked before any applies); the write goes to {@code writes}. */
    private Errors acknowledge(String groupId, String memberId, TopicIdPartition tp, List<Ack> acks, int lockMs,
                               List<CompletableFuture<Void>> writes) {
        Optional<Partition> found = topics.partition(tp.topicId(), tp.partition());
        if (found.isEmpty()) {
            return topics.notHostedError(tp.topicId(), tp.partition(), Errors.UNKNOWN_TOPIC_ID);
        }
        if (!found.get().isLeader()) {
            return Errors.NOT_LEADER_OR_FOLLOWER;
        }
        if (!configs.renewAcknowledgeEnabled(groupId)
                && acks.stream().anyMatch(a -> a.types().contains(SharePartition.ACK_RENEW))) {
            // Kafka: "Renewing acquisition locks is not enabled for the group." (share.renew.acknowledge.enable)
            log.info("Share group {} member {}: renewal refused, share.renew.acknowledge.enable is false", groupId,
                    memberId);
            return Errors.INVALID_RECORD_STATE;
        }
        SharePartition sp = sharePartition(groupId, tp, found.get());
        if (sp == null) {
            return Errors.INVALID_RECORD_STATE; // nothing is acquired from a share partition still loading
        }
        Errors error = Errors.NONE;
        synchronized (sp) {
            long now = time.milliseconds();
            int limit = configs.deliveryCountLimit(groupId);
            boolean changed = sp.expireLocks(now, limit);
            for (Ack a : acks) {
                error = sp.checkAcknowledgement(a.first(), a.last(), a.types(), memberId);
                if (error != Errors.NONE) {
                    break;
                }
            }
            if (error == Errors.NONE) {
                for (Ack a : acks) {
                    changed |= sp.acknowledge(a.first(), a.last(), a.types(), now + lockMs, limit);
                }
            } else {
                log.info("Share group {} member {}: acknowledgement of {}-{} refused: {}", groupId, memberId,
                        tp.topicId(), tp.partition(), error.name());
            }
            if (changed) {
                writes.add(persist(sp));
            }
        }
        if (error == Errors.NONE) {
            purgatory.wakeAll(found.get().topicPartition());
        }
        return error;
    }

    // ---------------------------------------------------------------------------------- share partitions

    /**
     * The group's share partition on this leader: restored from its share coordinator, or started per
     * auto.offset.reset. Null while the state is being read from another broker; the read wakes the fetches
     * waiting on the partition when done. (A coordinator in this broker answers at once.)
     */
    private SharePartition sharePartition(String groupId, TopicIdPartition tp, Partition partition) {
        ShareStateStore.Key key = new ShareStateStore.Key(groupId, tp.topicId(), tp.partition());
        int leaderEpoch = partition.leaderEpoch();
        SharePartition sp = partitions.get(key);
        if (sp != null && sp.leaderEpoch == leaderEpoch) {
            return sp;
        }
        CompletableFuture<Void> started = new CompletableFuture<>();
        if (loading.putIfAbsent(key, started) == null) {
            load(key, partition, leaderEpoch).whenComplete((v, e) -> {
                loading.remove(key, started);
                started.complete(null);
            });
        }
        sp = partitions.get(key);
        return sp != null && sp.leaderEpoch == leaderEpoch ? sp : null;
    }

    /**
     * Reads the share partition's state from its share coordinator, as Kafka's SharePartition initializes: a state
     * without start offset (the group coordinator initialized it with -1) starts per share.auto.offset.reset with
     * the state epoch read; a never-initialized one (INVALID_REQUEST) or a failed read leaves an error for the
     * next fetch, mapped as Kafka maps persister errors.
     */
    private CompletableFuture<Void> load(ShareStateStore.Key key, Partition partition, int leaderEpoch) {
        // a state dropped with writes still on their way (its group's sessions ended) is read once they landed
        return store.writesDone(key).thenCompose(v -> store.read(key, leaderEpoch)).thenApply(persisted -> {
            if (persisted.startOffset() >= 0) {
                return SharePartition.restore(key, leaderEpoch, persisted);
            }
            SharePartition fresh = new SharePartition(key, leaderEpoch, initialOffset(key.groupId(), partition.log()),
                    persisted.stateEpoch());
            // its start offset is persisted meanwhile (lost, it is chosen again the same way)
            persist(fresh).whenComplete((v, e) -> {
                if (e != null) {
                    log.warn("Cannot persist the start of share group {} on {}: {}", key.groupId(),
                            partition.topicPartition(), unwrap(e).toString());
                }
            });
            return fresh;
        }).handle((sp, e) -> {
            if (e != null) {
                Errors error = persisterError(Errors.forException(unwrap(e)));
                log.warn("Cannot read the share state of group {} on {}: {}", key.groupId(), partition.topicPartition(),
                        unwrap(e).toString());
                loadFailures.put(key, error);
            } else if (partition.isLeader() && partition.leaderEpoch() == leaderEpoch) {
                loadFailures.remove(key);
                partitions.put(key, sp);
            }
            wake(key);
            return null;
        });
    }

    /** Kafka's SharePartition#fetchPersisterError: how a share coordinator's error reaches the share consumer. */
    private static Errors persisterError(Errors error) {
        return switch (error) {
            case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS -> Errors.COORDINATOR_NOT_AVAILABLE;
            case GROUP_ID_NOT_FOUND, UNKNOWN_TOPIC_OR_PARTITION -> error;
            case FENCED_LEADER_EPOCH, FENCED_STATE_EPOCH -> Errors.NOT_LEADER_OR_FOLLOWER;
            default -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    /**
     * Writes the share partition's state. A fenced write (the share coordinator has a newer leader epoch, or a
     * newer state epoch after an offset reset) means this copy is stale: it is dropped, the next fetch reads
     * the state again.
     */
    private CompletableFuture<Void> persist(SharePartition sp) {
        return store.write(sp.key, sp.snapshot()).whenComplete((v, e) -> {
            Errors error = e == null ? Errors.NONE : Errors.forException(unwrap(e));
            if (error == Errors.FENCED_STATE_EPOCH || error == Errors.FENCED_LEADER_EPOCH) {
                log.info("Share group {} on {}-{}: state write fenced ({}); reading it again", sp.key.groupId(),
                        sp.key.topicId(), sp.key.partition(), error.name());
                partitions.remove(sp.key, sp);
            }
        });
    }

    private long initialOffset(String groupId, PartitionLog log) {
        Duration back = io.gregor.config.GroupConfigs.parseReset(configs.autoOffsetReset(groupId));
        if (back == null) {
            return log.logStartOffset();
        }
        if (back.isZero()) {
            return log.highWatermark();
        }
        return log.offsetForTimestamp(time.milliseconds() - back.toMillis())
                .map(io.gregor.storage.TimestampOffset::offset).orElse(log.highWatermark());
    }

    /** The live share partition of a group on this broker, if any (for DescribeShareGroupOffsets' lag). */
    public Optional<long[]> startAndCompleted(ShareStateStore.Key key) {
        SharePartition sp = partitions.get(key);
        if (sp == null) {
            return Optional.empty();
        }
        synchronized (sp) {
            return Optional.of(new long[]{sp.startOffset(), sp.completedInWindow()});
        }
    }

    /** Forgets the live share partitions of {@code keys} (their state was altered or deleted). */
    public void forget(List<ShareStateStore.Key> keys) {
        keys.forEach(partitions::remove);
    }

    private void releaseRecords(Session session) {
        for (TopicIdPartition tp : session.partitions) {
            SharePartition sp = partitions.get(new ShareStateStore.Key(session.groupId, tp.topicId(), tp.partition()));
            if (sp != null) {
                synchronized (sp) {
                    if (!sp.releaseMember(session.memberId, configs.deliveryCountLimit(session.groupId))) {
                        continue;
                    }
                    persist(sp);
                }
                wake(sp.key);
            }
        }
    }

    /** A member left its group: its share sessions end and its records go back. */
    public void memberLeft(String groupId, String memberId) {
        Session session = sessions.remove(sessionKey(groupId, memberId));
        if (session != null) {
            releaseRecords(session);
            maybeGroupEmpty(groupId);
        }
    }

    /**
     * The group's last share session on this broker ended: its share partitions here are dropped (Kafka's
     * ShareGroupListener#onGroupEmpty), so the next member of the group reads their state again from the share
     * coordinators, with any offsets reset meanwhile by AlterShareGroupOffsets or DeleteShareGroupOffsets.
     */
    private void maybeGroupEmpty(String groupId) {
        for (Session s : sessions.values()) {
            if (s.groupId.equals(groupId)) {
                return;
            }
        }
        partitions.keySet().removeIf(k -> k.groupId().equals(groupId));
        loadFailures.keySet().removeIf(k -> k.groupId().equals(groupId));
    }

    private void expireLocks() {
        long now = time.milliseconds();
        for (SharePartition sp : partitions.values()) {
            try {
                boolean leading = topics.partition(sp.key.topicId(), sp.key.partition())
                        .map(p -> p.isLeader() && p.leaderEpoch() == sp.leaderEpoch).orElse(false);
                if (!leading) {
                    // another broker leads the partition now: its state is that leader's to write
                    partitions.remove(sp.key, sp);
                    continue;
                }
                synchronized (sp) {
                    if (!sp.expireLocks(now, configs.deliveryCountLimit(sp.key.groupId()))) {
                        continue;
                    }
                    persist(sp);
                }
                wake(sp.key);
            } catch (RuntimeException e) {
                log.warn("Expiring the record locks of share group {} on {}-{} failed: {}", sp.key.groupId(),
                        sp.key.topicId(), sp.key.partition(), e.toString());
            }
        }
    }

    /** Share fetches waiting on the partition look again: records came back or the in-flight window moved. */
    private void wake(ShareStateStore.Key key) {
        topics.partition(key.topicId(), key.partition()).ifPresent(p -> purgatory.wakeAll(p.topicPartition()));
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    @Override
    public void close() {
        lockTimer.cancel(false);
    }
}
