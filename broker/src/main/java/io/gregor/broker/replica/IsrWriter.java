package io.gregor.broker.replica;

import io.gregor.broker.metadata.PartitionState;
import io.gregor.storage.TopicPartition;

import java.util.List;

/**
 * Where a leader records a changed ISR (Kafka's ZooKeeper mode: the leader writes the partition state
 * znode itself, guarded by the version it last read).
 */
public interface IsrWriter {
    /**
     * @return the state as written (with its new version), or null when the state changed meanwhile
     * (a controller elected someone else or bumped the epoch): the caller waits for the new state.
     */
    PartitionState writeIsr(TopicPartition tp, PartitionState current, List<Integer> newIsr);
}
