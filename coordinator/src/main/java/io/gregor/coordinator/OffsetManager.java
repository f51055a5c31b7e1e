package io.gregor.coordinator;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;

/**
 * Committed offsets: OffsetCommit (with the classic generation checks), OffsetFetch's lookup, OffsetDelete,
 * and expiry by offsets.retention.minutes. Each operation holds the group's monitor.
 */
final class OffsetManager {
    private static final Logger log = LoggerFactory.getLogger(OffsetManager.class);

    private final GroupConfig config;
    private final GroupStore store;
    private final TopicCatalog catalog;
    private final ConcurrentMap<String, ClassicGroup> groups;
    private final ClassicMembership membership;
    private final Time time;

    OffsetManager(GroupConfig config, GroupStore store, TopicCatalog catalog, ConcurrentMap<String, ClassicGroup> groups,
                  ClassicMembership membership, Time time) {
        this.config = config;
        this.store = store;
        this.catalog = catalog;
        this.groups = groups;
        this.membership = membership;
        this.time = time;
    }

    /**
     * Validates and writes the commit; the answer completes once the records are replicated, and only then
     * do the new offsets become visible to OffsetFetch (Kafka's acks=all for coordinator writes).
     */
    CompletableFuture<OffsetCommitResponseData> commitOffsets(OffsetCommitRequestData request, short version) {
        String groupId = request.groupId();
        int generation = request.generationIdOrMemberEpoch();
        String memberId = request.memberId();
        String instanceId = version >= 7 ? request.groupInstanceId() : null;
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (generation >= 0) {
                return CompletableFuture.completedFuture(
                        commitError(request, version >= 9 ? Errors.GROUP_ID_NOT_FOUND : Errors.ILLEGAL_GENERATION));
            }
            // A consumer with assign() (or an admin) commits without a group: create a simple, empty one.
            group = groups.computeIfAbsent(groupId, g -> new ClassicGroup(g, time.milliseconds()));
        }
        synchronized (group) {
            Errors error = Errors.NONE;
            if (group.is(GroupState.DEAD)) {
                error = Errors.COORDINATOR_NOT_AVAILABLE;
            } else if (group.consumer != null) {
                // a consumer-protocol group: generationIdOrMemberEpoch is the member epoch
                error = group.consumer.validateOffsetCommit(memberId, generation, version, false);
            } else if (generation < 0 && group.is(GroupState.EMPTY)) {
                error = Errors.NONE;
            } else if (group.isStaticMemberFenced(instanceId, memberId)) {
                error = Errors.FENCED_INSTANCE_ID;
            } else if (group.is(GroupState.COMPLETING_REBALANCE)) {
                error = Errors.REBALANCE_IN_PROGRESS;
            } else if (!group.members.containsKey(memberId)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else if (generation != group.generationId) {
                error = Errors.ILLEGAL_GENERATION;
            } else {
                membership.touchSession(group, group.members.get(memberId));
            }
            if (error != Errors.NONE) {
                return CompletableFuture.completedFuture(commitError(request, error));
            }
            long now = time.milliseconds();
            OffsetCommitResponseData response = new OffsetCommitResponseData();
            List<CoordinatorRecord> records = new ArrayList<>();
            Map<TopicPartition, CommittedOffset> accepted = new HashMap<>();
            List<OffsetCommitResponsePartition> acceptedResults = new ArrayList<>();
            for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
                OffsetCommitResponseTopic topicResult = new OffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
                response.topics().add(topicResult);
                for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                    OffsetCommitResponsePartition result = new OffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex());
                    topicResult.partitions().add(result);
                    String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                    Errors refused = commitError(t.name(), p.partitionIndex(), metadata);
                    if (refused != Errors.NONE) {
                        result.setErrorCode(refused.code());
                    } else {
                        CommittedOffset offset = new CommittedOffset(p.committedOffset(),
                                version >= 6 ? p.committedLeaderEpoch() : -1, metadata, now, -1L);
                        TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                        accepted.put(tp, offset);
                        records.add(GroupStore.offsetCommit(groupId, tp, offset, t.topicId()));
                        acceptedResults.add(result);
                    }
                }
            }
            if (records.isEmpty()) {
                return CompletableFuture.completedFuture(response);
            }
            CompletableFuture<Void> written;
            try {
                written = store.append(groupId, records);
            } catch (RuntimeException e) {
                written = CompletableFuture.failedFuture(e);
            }
            ClassicGroup committedTo = group;
            return written.handle((ignored, e) -> {
                if (e != null) {
                    Errors appendError = GroupStore.appendError(e);
                    log.warn("Writing offsets of group {} failed: {}", groupId, appendError);
                    for (OffsetCommitResponsePartition r : acceptedResults) {
                        r.setErrorCode(appendError.code());
                    }
                } else {
                    synchronized (committedTo) {
                        if (!committedTo.is(GroupState.DEAD)) {
                            committedTo.offsets.putAll(accepted);
                        }
                    }
                }
                return response;
            });
        }
    }

    /**
     * TxnOffsetCommit: the offsets are written as a transactional batch of the producer and stay pending,
     * invisible to OffsetFetch, until {@link #completeTransaction} learns of the producer's marker.
     */
    CompletableFuture<TxnOffsetCommitResponseData> commitTransactionalOffsets(TxnOffsetCommitRequestData request,
                                                                            short version, Object verificationGuard) {
        String groupId = request.groupId();
        int generation = version >= 3 ? request.generationIdOrMemberEpoch() : -1;
        String memberId = version >= 3 ? request.memberId() : "";
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (generation >= 0) {
                return CompletableFuture.completedFuture(txnCommitError(request, Errors.ILLEGAL_GENERATION));
            }
            group = groups.computeIfAbsent(groupId, g -> new ClassicGroup(g, time.milliseconds()));
        }
        synchronized (group) {
            Errors error = Errors.NONE;
            if (group.is(GroupState.DEAD)) {
                error = Errors.COORDINATOR_NOT_AVAILABLE;
            } else if (group.consumer != null) {
                error = group.consumer.validateOffsetCommit(memberId, generation, version, true);
            } else if (generation >= 0 || !memberId.isEmpty()) {
                // KIP-447: a member of a live group is checked as OffsetCommit checks it
                if (group.isStaticMemberFenced(instanceId, memberId)) {
                    error = Errors.FENCED_INSTANCE_ID;
                } else if (!memberId.isEmpty() && !group.members.containsKey(memberId)) {
                    error = Errors.UNKNOWN_MEMBER_ID;
                } else if (generation >= 0 && generation != group.generationId) {
                    error = Errors.ILLEGAL_GENERATION;
                }
            }
            if (error != Errors.NONE) {
                return CompletableFuture.completedFuture(txnCommitError(request, error));
            }
            long now = time.milliseconds();
            TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
            List<CoordinatorRecord> records = new ArrayList<>();
            Map<TopicPartition, CommittedOffset> accepted = new HashMap<>();
            List<TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition> acceptedResults = new ArrayList<>();
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : request.topics()) {
                TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic topicResult =
                        new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
                response.topics().add(topicResult);
                for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                    TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition result =
                            new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex());
                    topicResult.partitions().add(result);
                    String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                    Errors refused = commitError(t.name(), p.partitionIndex(), metadata);
                    if (refused != Errors.NONE) {
                        result.setErrorCode(refused.code());
                    } else {
                        CommittedOffset offset = new CommittedOffset(p.committedOffset(),
                                version >= 2 ? p.committedLeaderEpoch() : -1, metadata, now, -1L);
                        TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                        accepted.put(tp, offset);
                        records.add(GroupStore.offsetCommit(groupId, tp, offset, t.topicId()));
                        acceptedResults.add(result);
                    }
                }
            }
            if (records.isEmpty()) {
                return CompletableFuture.completedFuture(response);
            }
            CompletableFuture<Void> written;
            try {
                written = store.appendTransactional(groupId, request.producerId(), request.producerEpoch(), records,
                        verificationGuard);
            } catch (RuntimeException e) {
                written = CompletableFuture.failedFuture(e);
            }
            ClassicGroup committedTo = group;
            return written.handle((ignored, e) -> {
                if (e != null) {
                    Errors appendError = GroupStore.appendError(e);
                    Errors cause = Errors.forException(e instanceof java.util.concurrent.CompletionException c
                            && c.getCause() != null ? c.getCause() : e);
                    if (cause == Errors.INVALID_PRODUCER_EPOCH || cause == Errors.PRODUCER_FENCED
                            || cause == Errors.INVALID_TXN_STATE) {
                        // a zombie's commit, or one whose transaction ended while it was verified: the producer
                        // must learn it
                        appendError = cause;
                    }
                    log.warn("Writing transactional offsets of group {} failed: {} ({})", groupId, appendError, e.toString());
                    for (TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition r : acceptedResults) {
                        r.setErrorCode(appendError.code());
                    }
                } else {
                    synchronized (committedTo) {
                        if (!committedTo.is(GroupState.DEAD)) {
                            committedTo.pendingTxnOffsets.computeIfAbsent(request.producerId(), id -> new HashMap<>())
                                    .putAll(accepted);
                        }
                    }
                }
                return response;
            });
        }
    }

    private static TxnOffsetCommitResponseData txnCommitError(TxnOffsetCommitRequestData request, Errors error) {
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : request.topics()) {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic topicResult =
                    new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                topicResult.partitions().add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
            }
            response.topics().add(topicResult);
        }
        return response;
    }

    /**
     * A producer's transaction ended on a __consumer_offsets partition (its marker was written there): its
     * pending offsets of the groups there become committed offsets, or are dropped on abort.
     */
    void completeTransaction(int offsetsPartition, long producerId, boolean committed) {
        for (ClassicGroup group : groups.values()) {
            if (store.partitionFor(group.groupId) != offsetsPartition) {
                continue;
            }
            synchronized (group) {
                Map<TopicPartition, CommittedOffset> pending = group.pendingTxnOffsets.remove(producerId);
                if (pending != null && committed && !group.is(GroupState.DEAD)) {
                    group.offsets.putAll(pending);
                }
            }
        }
    }

    /** The partitions of a group with transactional offsets not yet committed or aborted (OffsetFetch's requireStable). */
    Set<TopicPartition> pendingTransactionalOffsets(String groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return Set.of();
        }
        synchronized (group) {
            Set<TopicPartition> out = new java.util.HashSet<>();
            group.pendingTxnOffsets.values().forEach(m -> out.addAll(m.keySet()));
            return out;
        }
    }

    private static OffsetCommitResponseData commitError(OffsetCommitRequestData request, Errors error) {
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
            OffsetCommitResponseTopic topicResult = new OffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                topicResult.partitions().add(new OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
            }
            response.topics().add(topicResult);
        }
        return response;
    }

    /** The committed offsets of the given partitions (all when null); partitions without a commit are left out. */
    Map<TopicPartition, CommittedOffset> committedOffsets(String groupId, Map<String, List<Integer>> partitions) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return Map.of();
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return Map.of();
            }
            if (partitions == null) {
                return new HashMap<>(group.offsets);
            }
            Map<TopicPartition, CommittedOffset> out = new HashMap<>();
            partitions.forEach((topic, list) -> {
                for (int p : list) {
                    TopicPartition tp = new TopicPartition(topic, p);
                    CommittedOffset o = group.offsets.get(tp);
                    if (o != null) {
                        out.put(tp, o);
                    }
                }
            });
            return out;
        }
    }

    OffsetDeleteResponseData deleteOffsets(OffsetDeleteRequestData request) {
        OffsetDeleteResponseData response = new OffsetDeleteResponseData();
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            return response.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return response.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
            }
            Set<String> subscribed = Set.of();
            if (!group.is(GroupState.EMPTY)) {
                if (!ClassicGroup.CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)) {
                    return response.setErrorCode(Errors.NON_EMPTY_GROUP.code());
                }
                Set<String> topics = group.subscribedTopics();
                subscribed = topics == null ? Set.of() : topics;
            }
            List<CoordinatorRecord> tombstones = new ArrayList<>();
            List<TopicPartition> removed = new ArrayList<>();
            for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : request.topics()) {
                OffsetDeleteResponseTopic topicResult = new OffsetDeleteResponseTopic().setName(t.name());
                response.topics().add(topicResult);
                boolean inUse = subscribed.contains(t.name());
                for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                    topicResult.partitions().add(new OffsetDeleteResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(inUse ? Errors.GROUP_SUBSCRIBED_TO_TOPIC.code() : Errors.NONE.code()));
                    TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                    if (!inUse && group.offsets.containsKey(tp)) {
                        removed.add(tp);
                        tombstones.add(GroupStore.offsetTombstone(group.groupId, tp));
                    }
                }
            }
            if (!tombstones.isEmpty()) {
                try {
                    store.append(group.groupId, tombstones);
                } catch (RuntimeException e) {
                    log.warn("Deleting offsets of group {} failed: {}", group.groupId, e.toString());
                    return new OffsetDeleteResponseData().setErrorCode(GroupStore.appendError(e).code());
                }
                removed.forEach(group.offsets::remove);
            }
            return response;
        }
    }

    /** offsets.retention.minutes: drops expired offsets (Kafka's rules) and groups left empty without offsets. */
    void expireOffsets() {
        long now = time.milliseconds();
        int expired = 0;
        for (ClassicGroup group : groups.values()) {
            try {
                expired += expireOffsets(group, now);
            } catch (RuntimeException e) {
                log.warn("Offset expiry of group {} failed", group.groupId, e);
            }
        }
        if (expired > 0) {
            log.info("Removed {} expired offsets", expired);
        }
    }

    private int expireOffsets(ClassicGroup group, long now) {
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return 0;
            }
            List<TopicPartition> expired = new ArrayList<>();
            long retention = config.offsetsRetentionMs();
            if (group.is(GroupState.EMPTY)) {
                // A consumer group's offsets age from when it became empty; a simple group's from each commit.
                boolean hadMembers = group.protocolType != null;
                group.offsets.forEach((tp, o) -> {
                    long base = hadMembers ? group.currentStateTimestamp : o.commitTimestamp();
                    if (o.expireTimestamp() >= 0 ? now >= o.expireTimestamp() : now >= base + retention) {
                        expired.add(tp);
                    }
                });
            } else if (group.is(GroupState.STABLE)) {
                Set<String> subscribed = group.subscribedTopics();
                if (subscribed != null) {
                    group.offsets.forEach((tp, o) -> {
                        if (!subscribed.contains(tp.topic()) && now >= o.commitTimestamp() + retention) {
                            expired.add(tp);
                        }
                    });
                }
            }
            List<CoordinatorRecord> tombstones = new ArrayList<>();
            for (TopicPartition tp : expired) {
                tombstones.add(GroupStore.offsetTombstone(group.groupId, tp));
            }
            boolean groupGone = group.is(GroupState.EMPTY) && group.offsets.size() == expired.size();
            if (groupGone) {
                tombstones.add(GroupStore.groupTombstone(group.groupId));
            }
            if (!tombstones.isEmpty()) {
                store.append(group.groupId, tombstones);
                expired.forEach(group.offsets::remove);
            }
            if (groupGone) {
                group.transitionTo(GroupState.DEAD, now);
                groups.remove(group.groupId, group);
            }
            return expired.size();
        }
    }


    /** Kafka's per-partition checks of a commit, plain or transactional: the partition exists, the metadata fits. */
    private Errors commitError(String topic, int partition, String metadata) {
        if (!catalog.hasPartition(topic, partition)) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        return metadata.length() > config.offsetMetadataMaxBytes() ? Errors.OFFSET_METADATA_TOO_LARGE : Errors.NONE;
    }
}
