package io.gregor.broker.fetchsession;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.utils.internals.ImplicitLinkedHashCollection;

/**
 * One partition of a fetch session: the fetch parameters the client last sent for it (an incremental fetch
 * names only what changed) and what the last answer told it, so unchanged partitions can be left out.
 * Keyed by topic id in a session of Fetch v13+, by topic name before; flat fields, as there is one per
 * partition per session.
 */
final class CachedPartition implements ImplicitLinkedHashCollection.Element {
    /** Null when a v13+ session names a topic id this broker does not know. */
    final String topic;
    final Uuid topicId;
    final int partition;
    int maxBytes;
    long fetchOffset;
    long logStartOffset;
    int currentLeaderEpoch;
    int lastFetchedEpoch;
    /** As last answered; -1 after an error, so the partition is sent again once the error is gone. */
    long highWatermark = -1;
    long localLogStartOffset = -1;
    private int next = ImplicitLinkedHashCollection.INVALID_INDEX;
    private int prev = ImplicitLinkedHashCollection.INVALID_INDEX;

    CachedPartition(String topic, Uuid topicId, int partition) {
        this.topic = topic;
        this.topicId = topicId;
        this.partition = partition;
    }

    CachedPartition(String topic, Uuid topicId, FetchPartition request) {
        this(topic, topicId, request.partition());
        update(request);
    }

    void update(FetchPartition request) {
        maxBytes = request.partitionMaxBytes();
        fetchOffset = request.fetchOffset();
        logStartOffset = request.logStartOffset();
        currentLeaderEpoch = request.currentLeaderEpoch();
        lastFetchedEpoch = request.lastFetchedEpoch();
    }

    /** The parameters to read this partition with, as if the client had named it. */
    FetchPartition toRequest() {
        return new FetchPartition().setPartition(partition).setFetchOffset(fetchOffset).setPartitionMaxBytes(maxBytes)
                .setLogStartOffset(logStartOffset).setCurrentLeaderEpoch(currentLeaderEpoch)
                .setLastFetchedEpoch(lastFetchedEpoch);
    }

    /**
     * Kafka's rule for an incremental answer: a partition is sent when it has records, a new high watermark or
     * log start offset, a preferred read replica, an error or a diverging epoch; the cache takes the new values.
     */
    boolean mustRespond(PartitionData answer, int recordBytes) {
        boolean must = recordBytes > 0;
        if (highWatermark != answer.highWatermark()) {
            must = true;
            highWatermark = answer.highWatermark();
        }
        if (localLogStartOffset != answer.logStartOffset()) {
            must = true;
            localLogStartOffset = answer.logStartOffset();
        }
        if (answer.preferredReadReplica() != -1) {
            must = true;
        }
        if (answer.errorCode() != 0) {
            highWatermark = -1;
            must = true;
        }
        if (answer.divergingEpoch().epoch() != -1 || answer.divergingEpoch().endOffset() != -1) {
            must = true;
        }
        return must;
    }

    /** Takes the first answer's values: a full fetch sends every partition, so each was told them. */
    void answered(PartitionData answer) {
        highWatermark = answer.errorCode() != 0 ? -1 : answer.highWatermark();
        localLogStartOffset = answer.logStartOffset();
    }

    @Override
    public int next() {
        return next;
    }

    @Override
    public void setNext(int next) {
        this.next = next;
    }

    @Override
    public int prev() {
        return prev;
    }

    @Override
    public void setPrev(int prev) {
        this.prev = prev;
    }

    /** By topic id when the session uses ids (the name may be unknown), by name otherwise: as Kafka's. */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CachedPartition that) || partition != that.partition) {
            return false;
        }
        return Uuid.ZERO_UUID.equals(topicId) ? topic.equals(that.topic) : topicId.equals(that.topicId);
    }

    @Override
    public int hashCode() {
        return 31 * partition + (Uuid.ZERO_UUID.equals(topicId) ? topic.hashCode() : topicId.hashCode());
    }
}
