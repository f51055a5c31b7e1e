package io.gregor.broker.replica;

import io.gregor.storage.AppendResult;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.TopicPartition;
import org.apache.kafka.common.Uuid;

import java.nio.ByteBuffer;

/**
 * A partition this broker leads: its log plus the leader state around it. With one broker the ISR is
 * this broker alone, so the high watermark follows the log end offset after every append.
 */
public final class Partition {
    private final TopicPartition topicPartition;
    private final Uuid topicId;
    private final PartitionLog log;
    private final FetchPurgatory purgatory;
    private final int leaderEpoch;

    Partition(TopicPartition topicPartition, Uuid topicId, PartitionLog log, FetchPurgatory purgatory, int leaderEpoch) {
        this.topicPartition = topicPartition;
        this.topicId = topicId;
        this.log = log;
        this.purgatory = purgatory;
        this.leaderEpoch = leaderEpoch;
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public Uuid topicId() {
        return topicId;
    }

    public PartitionLog log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    /** Replicas currently in sync with the leader; this broker alone until replication exists. */
    public int inSyncReplicaCount() {
        return 1;
    }

    /** Appends a produce request's records for this partition and wakes fetches waiting for data. */
    public AppendResult appendAsLeader(ByteBuffer records, long nowMs) {
        int bytes = records.remaining();
        AppendResult result = log.append(records, leaderEpoch, nowMs);
        if (!result.duplicate()) {
            advanceHighWatermark();
            purgatory.onAppend(topicPartition, bytes);
        }
        return result;
    }

    /** Concurrent appends finish in any order; the high watermark only ever moves forward. */
    private synchronized void advanceHighWatermark() {
        long logEnd = log.logEndOffset();
        if (logEnd > log.highWatermark()) {
            log.updateHighWatermark(logEnd);
        }
    }
}
