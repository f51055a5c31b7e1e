package io.gregor.coordinator.txn;

import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogKey;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogValue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code __transaction_state} records in Kafka's TransactionLog schemas (Kafka's generated classes), so
 * Kafka's TransactionLogMessageFormatter and tools read them: the key is the record type (0) then the
 * transactional id; the value is version 0 (what Kafka writes for transactions v1) then the state. A null
 * value is the tombstone of an expired id.
 */
public final class TransactionRecords {
    /** Value version Kafka writes for clients of transactions v1; v1 adds v2's tagged fields. */
    static final short VALUE_VERSION = 0;
    /** Value version for transactions v2 clients: previous/next producer id and client version as tagged fields. */
    static final short VALUE_VERSION_TV2 = 1;

    private TransactionRecords() {
    }

    public static CoordinatorRecord record(String transactionalId, TxnSnapshot txn) {
        return new CoordinatorRecord(key(transactionalId), txn == null ? null : value(txn));
    }

    static byte[] key(String transactionalId) {
        return MessageUtil.toCoordinatorTypePrefixedBytes(new TransactionLogKey().setTransactionalId(transactionalId));
    }

    static byte[] value(TxnSnapshot txn) {
        List<TransactionLogValue.PartitionsSchema> partitions = null;
        if (txn.state() != TransactionState.EMPTY) {
            // one entry per topic, as Kafka groups them
            Map<String, List<Integer>> byTopic = new TreeMap<>();
            for (TopicPartition tp : txn.partitions()) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
            partitions = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
                partitions.add(new TransactionLogValue.PartitionsSchema().setTopic(e.getKey()).setPartitionIds(e.getValue()));
            }
        }
        TransactionLogValue value = new TransactionLogValue()
                .setProducerId(txn.producerId())
                .setProducerEpoch(txn.producerEpoch())
                .setTransactionTimeoutMs(txn.timeoutMs())
                .setTransactionStatus(txn.state().id())
                .setTransactionPartitions(partitions)
                .setTransactionLastUpdateTimestampMs(txn.updateTimestamp())
                .setTransactionStartTimestampMs(txn.startTimestamp());
        if (txn.isTransactionsV2()) {
            value.setPreviousProducerId(txn.previousProducerId()).setNextProducerId(txn.nextProducerId())
                    .setClientTransactionVersion(txn.transactionVersion());
            return MessageUtil.toVersionPrefixedBytes(VALUE_VERSION_TV2, value);
        }
        return MessageUtil.toVersionPrefixedBytes(VALUE_VERSION, value);
    }

    /** The transactional id of a key, or null for a record type this coordinator does not know. */
    static String decodeKey(ByteBuffer key) {
        ByteBuffer buf = key.duplicate();
        short type = buf.getShort();
        if (type != 0) {
            return null;
        }
        return new TransactionLogKey(new ByteBufferAccessor(buf), (short) 0).transactionalId();
    }

    /** The state a value holds; null for a tombstone. */
    static TxnSnapshot decodeValue(ByteBuffer value) {
        if (value == null) {
            return null;
        }
        ByteBuffer buf = value.duplicate();
        short version = buf.getShort();
        TransactionLogValue v = new TransactionLogValue(new ByteBufferAccessor(buf), version);
        Set<TopicPartition> partitions = new HashSet<>();
        if (v.transactionPartitions() != null) {
            for (TransactionLogValue.PartitionsSchema t : v.transactionPartitions()) {
                for (int p : t.partitionIds()) {
                    partitions.add(new TopicPartition(t.topic(), p));
                }
            }
        }
        return new TxnSnapshot(v.producerId(), v.previousProducerId(), v.producerEpoch(), (short) -1,
                v.transactionTimeoutMs(), TransactionState.fromId(v.transactionStatus()), partitions,
                v.transactionStartTimestampMs(), v.transactionLastUpdateTimestampMs(),
                version >= VALUE_VERSION_TV2 ? v.nextProducerId() : -1L,
                version >= VALUE_VERSION_TV2 ? v.clientTransactionVersion() : 0);
    }
}
