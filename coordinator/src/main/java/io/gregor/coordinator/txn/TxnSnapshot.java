package io.gregor.coordinator.txn;

import org.apache.kafka.common.TopicPartition;

import java.util.Set;

/**
 * One transactional id's state as {@code __transaction_state} stores it: what is current, or what a write in
 * flight will make current once it is acknowledged. {@code previousProducerId} and {@code lastProducerEpoch}
 * let a producer retrying an epoch bump (KIP-360) be recognised; -1 when none.
 */
public record TxnSnapshot(long producerId, long previousProducerId, short producerEpoch, short lastProducerEpoch,
                          int timeoutMs, TransactionState state, Set<TopicPartition> partitions,
                          long startTimestamp, long updateTimestamp) {

    public TxnSnapshot {
        partitions = Set.copyOf(partitions);
    }

    TxnSnapshot withState(TransactionState newState, Set<TopicPartition> newPartitions, long now) {
        return new TxnSnapshot(producerId, previousProducerId, producerEpoch, lastProducerEpoch, timeoutMs, newState,
                newPartitions, startTimestamp, now);
    }
}
