package io.gregor.coordinator.txn;

import org.apache.kafka.common.TopicPartition;

import java.util.Set;

/**
 * One transactional id's state as {@code __transaction_state} stores it: what is current, or what a write in
 * flight will make current once it is acknowledged. {@code previousProducerId} and {@code lastProducerEpoch}
 * let a producer retrying an epoch bump (KIP-360) be recognised; -1 when none. {@code nextProducerId} is the
 * id a transactions-v2 producer continues with once the transaction completes, when its epoch was exhausted
 * (-1 otherwise); {@code transactionVersion} is the client's transaction protocol (0 or 2, KIP-890).
 */
public record TxnSnapshot(long producerId, long previousProducerId, short producerEpoch, short lastProducerEpoch,
                          int timeoutMs, TransactionState state, Set<TopicPartition> partitions,
                          long startTimestamp, long updateTimestamp, long nextProducerId, short transactionVersion) {

    public TxnSnapshot {
        partitions = Set.copyOf(partitions);
    }

    /** A state of a transactions-v1 client with no next producer id. */
    public TxnSnapshot(long producerId, long previousProducerId, short producerEpoch, short lastProducerEpoch,
                       int timeoutMs, TransactionState state, Set<TopicPartition> partitions,
                       long startTimestamp, long updateTimestamp) {
        this(producerId, previousProducerId, producerEpoch, lastProducerEpoch, timeoutMs, state, partitions,
                startTimestamp, updateTimestamp, -1L, (short) 0);
    }

    TxnSnapshot withState(TransactionState newState, Set<TopicPartition> newPartitions, long now) {
        return new TxnSnapshot(producerId, previousProducerId, producerEpoch, lastProducerEpoch, timeoutMs, newState,
                newPartitions, startTimestamp, now, nextProducerId, transactionVersion);
    }

    boolean isTransactionsV2() {
        return transactionVersion >= 2;
    }
}
