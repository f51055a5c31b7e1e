package io.gregor.broker;

import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.Partition;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.config.BrokerConfig;
import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import io.gregor.coordinator.PartitionLeadershipListener;
import io.gregor.storage.AppendResult;
import io.gregor.storage.FileSlice;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.ReadResult;
import io.gregor.storage.VerificationGuard;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * An internal topic that holds a coordinator's state ({@code __consumer_offsets}, {@code __transaction_state},
 * {@code __share_group_state})
 * as the coordinator sees it: created on first use with its own settings (compacted, but for the share-group
 * state), written one batch per
 * coordinator write through the partition leader's append with acks=all, read back whole when this broker
 * becomes a partition's leader, and the place FindCoordinator looks: a key's coordinator is the leader of
 * its partition.
 */
public final class InternalTopic implements CoordinatorLog {
    private static final Logger log = LoggerFactory.getLogger(InternalTopic.class);
    private static final int REPLAY_READ_BYTES = 1024 * 1024;

    /**
     * How the topic is created and written: Kafka's {@code offsets.topic.*} or {@code transaction.state.log.*}.
     * {@code minIsr} is the topic's min.insync.replicas, or -1 for the broker default.
     */
    public record Settings(String name, int partitions, short replicationFactor, int segmentBytes, int minIsr,
                           long writeTimeoutMs, String cleanupPolicy) {
        public Settings(String name, int partitions, short replicationFactor, int segmentBytes, int minIsr,
                        long writeTimeoutMs) {
            this(name, partitions, replicationFactor, segmentBytes, minIsr, writeTimeoutMs, "compact");
        }
    }

    public static Settings consumerOffsets(BrokerConfig config) {
        return new Settings(Topic.GROUP_METADATA_TOPIC_NAME, config.offsetsTopicNumPartitions(),
                config.offsetsTopicReplicationFactor(), config.offsetsTopicSegmentBytes(), -1,
                config.offsetsCommitTimeoutMs());
    }

    public static Settings transactionState(BrokerConfig config) {
        // Kafka writes transaction state with request.timeout.ms as its bound
        return new Settings(Topic.TRANSACTION_STATE_TOPIC_NAME, config.transactionStateLogNumPartitions(),
                config.transactionStateLogReplicationFactor(), config.transactionStateLogSegmentBytes(),
                config.transactionStateLogMinIsr(), config.requestTimeoutMs());
    }

    public static Settings shareGroupState(BrokerConfig config) {
        io.gregor.config.ShareGroupSettings share = config.shareGroups();
        // delete, not compact, as Kafka's share coordinator creates it (KIP-932): a key's ShareUpdate records all
        // count after its snapshot, so compaction (which keeps only the latest update) would lose state; the
        // coordinator itself deletes the records that later snapshots made redundant
        return new Settings(Topic.SHARE_GROUP_STATE_TOPIC_NAME, share.stateTopicPartitions(),
                share.stateTopicReplicationFactor(), share.stateTopicSegmentBytes(), share.stateTopicMinIsr(),
                config.requestTimeoutMs(), "delete");
    }

    private final Settings settings;
    private final Topics topics;
    private final ReplicaManager replicas;
    private final Time time;

    /** Also registers itself as the creator of the topic, so a Metadata request naming it creates it right. */
    public InternalTopic(Settings settings, Topics topics, ReplicaManager replicas, Time time) {
        this.settings = settings;
        this.topics = topics;
        this.replicas = replicas;
        this.time = time;
        topics.registerInternalTopic(settings.name(), this::ensureCreated);
    }

    public String name() {
        return settings.name();
    }

    /** Hands this broker's leadership changes of the topic's partitions to {@code coordinator}. */
    public void followLeadership(PartitionLeadershipListener coordinator) {
        replicas.addLeadershipListener(settings.name(), new ReplicaManager.LeadershipListener() {
            @Override
            public void becameLeader(int partition) {
                coordinator.onElection(partition);
            }

            @Override
            public void stoppedLeading(int partition) {
                coordinator.onResignation(partition);
            }
        });
    }

    @Override
    public int partitionCount() {
        return topics.topic(settings.name()).map(TopicMetadata::partitionCount).orElse(settings.partitions());
    }

    /** Creates the topic if it does not exist yet (FindCoordinator and the first write call this). */
    public synchronized void ensureCreated() {
        if (topics.topic(settings.name()).isPresent()) {
            return;
        }
        // Fewer live brokers than the replication factor asks for (a single broker with Kafka's default of 3)
        // still get the topic; min.insync.replicas is bounded the same way so that writes can succeed.
        short rf = (short) Math.min(settings.replicationFactor(), topics.liveBrokers());
        Map<String, String> configs = new HashMap<>(Map.of(
                "cleanup.policy", settings.cleanupPolicy(),
                "segment.bytes", Integer.toString(settings.segmentBytes()),
                "compression.type", "producer"));
        if (settings.minIsr() > 0) {
            configs.put("min.insync.replicas", Integer.toString(Math.min(settings.minIsr(), rf)));
        }
        try {
            topics.create(settings.name(), settings.partitions(), rf, configs, false);
        } catch (TopicExistsException e) {
            // Created by someone else meanwhile.
        }
    }

    @Override
    public CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records) {
        return append(partition, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, false, records);
    }

    @Override
    public CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records,
                                          java.util.function.LongConsumer firstOffset) {
        return append(partition, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, false, records, null,
                firstOffset);
    }

    @Override
    public void replayWithOffsets(int partition, OffsetVisitor visitor) {
        replayBatches(partition, (batch, record) -> {
            if (!batch.isControlBatch()) {
                visitor.record(record.offset(), record.key(), record.hasValue() ? record.value() : null);
            }
        });
    }

    @Override
    public void deleteRecordsBefore(int partition, long offset) {
        replicas.partition(settings.name(), partition).filter(Partition::isLeader).ifPresent(p -> {
            PartitionLog partitionLog = p.log();
            // not beyond the high watermark: the snapshot that replaces what goes must be replicated first
            if (offset <= partitionLog.highWatermark() && offset > partitionLog.logStartOffset()) {
                partitionLog.deleteRecordsBefore(offset);
            }
        });
    }

    @Override
    public CompletableFuture<Void> appendTransactional(int partition, long producerId, short producerEpoch,
                                                       List<CoordinatorRecord> records) {
        return append(partition, producerId, producerEpoch, true, records, null);
    }

    @Override
    public Object transactionVerificationGuard(int partition, long producerId, short producerEpoch) {
        return replicas.partition(settings.name(), partition)
                .map(p -> p.log().verificationGuard(producerId, RecordBatch.NO_SEQUENCE, producerEpoch)).orElse(null);
    }

    @Override
    public CompletableFuture<Void> appendTransactional(int partition, long producerId, short producerEpoch,
                                                       List<CoordinatorRecord> records, Object verificationGuard) {
        try {
            return append(partition, producerId, producerEpoch, true, records, (VerificationGuard) verificationGuard);
        } catch (io.gregor.storage.errors.InvalidTxnStateException e) {
            // the producer's transaction ended while the commit was verified: Kafka's answer, not a coordinator fault
            return CompletableFuture.failedFuture(new InvalidTxnStateException(e.getMessage()));
        }
    }

    /**
     * Appends records as one batch; a transactional batch carries the producer's id and epoch and stays
     * pending until that producer's marker lands on the partition.
     */
    public CompletableFuture<Void> append(int partition, long producerId, short producerEpoch, boolean transactional,
                                          List<CoordinatorRecord> records) {
        return append(partition, producerId, producerEpoch, transactional, records, null);
    }

    private CompletableFuture<Void> append(int partition, long producerId, short producerEpoch, boolean transactional,
                                           List<CoordinatorRecord> records, VerificationGuard verificationGuard) {
        return append(partition, producerId, producerEpoch, transactional, records, verificationGuard, null);
    }

    private CompletableFuture<Void> append(int partition, long producerId, short producerEpoch, boolean transactional,
                                           List<CoordinatorRecord> records, VerificationGuard verificationGuard,
                                           java.util.function.LongConsumer firstOffset) {
        ensureCreated();
        Partition leader = replicas.partition(settings.name(), partition)
                .orElseThrow(() -> new NotLeaderOrFollowerException("This broker does not host " + settings.name()
                        + "-" + partition));
        long now = time.milliseconds();
        int size = 64;
        for (CoordinatorRecord r : records) {
            size += 32 + r.key().length + (r.value() == null ? 0 : r.value().length);
        }
        // the builder wants a sequence with a producer id, but a coordinator's write has none of its own: the
        // header says so (-1), and the log checks only the producer's epoch of a coordinator append (Kafka's
        // AppendOrigin.COORDINATOR), leaving the producer's sequence state as it was
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(size), RecordBatch.CURRENT_MAGIC_VALUE,
                Compression.NONE, TimestampType.CREATE_TIME, 0L, now, producerId, producerEpoch,
                producerId == RecordBatch.NO_PRODUCER_ID ? RecordBatch.NO_SEQUENCE : 0, transactional,
                RecordBatch.NO_PARTITION_LEADER_EPOCH);
        for (CoordinatorRecord r : records) {
            builder.append(now, r.key(), r.value());
        }
        ByteBuffer batch = builder.build().buffer();
        if (producerId != RecordBatch.NO_PRODUCER_ID) {
            DefaultRecordBatch.writeHeader(batch.duplicate(), 0L, records.size() - 1, batch.remaining(),
                    RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, TimestampType.CREATE_TIME, now, now, producerId,
                    producerEpoch, RecordBatch.NO_SEQUENCE, transactional, false, false,
                    RecordBatch.NO_PARTITION_LEADER_EPOCH, records.size());
        }
        AppendResult appended = verificationGuard == null ? leader.appendFromCoordinator(batch, now)
                : leader.appendFromCoordinator(batch, now, verificationGuard);
        if (firstOffset != null) {
            firstOffset.accept(appended.firstOffset());
        }
        if (!topics.store().clustered()) {
            return CompletableFuture.completedFuture(null);
        }
        // acks=all, as Kafka's coordinator writes: the answer waits for the ISR and min.insync.replicas
        int minIsr = topics.minInsyncReplicas(leader);
        if (leader.inSyncReplicaCount() < minIsr) {
            return CompletableFuture.failedFuture(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.exception());
        }
        return leader.awaitReplication(appended.lastOffset() + 1, minIsr, settings.writeTimeoutMs())
                .thenCompose(error -> error == Errors.NONE ? CompletableFuture.<Void>completedFuture(null)
                        : CompletableFuture.failedFuture(error.exception()));
    }

    @Override
    public boolean isLeader(int partition) {
        // a single broker leads every partition, including those of a topic not created yet
        return replicas.partition(settings.name(), partition).map(Partition::isLeader).orElse(!topics.store().clustered());
    }

    @Override
    public int leaderEpoch(int partition) {
        return replicas.partition(settings.name(), partition).map(Partition::leaderEpoch).orElse(0);
    }

    /**
     * The broker that coordinates the keys of a partition: the partition's leader, or -1 when it has
     * none now. A single broker is always the one.
     */
    public int coordinatorFor(int partition, int localBrokerId) {
        if (!topics.store().clustered()) {
            return localBrokerId;
        }
        return topics.store().partitionState(settings.name(), partition).map(PartitionState::leader).orElse(-1);
    }

    /**
     * FindCoordinator's answer for {@code key} stored in {@code partition}: the partition's leader, this broker
     * at the address the client connected to ({@code endpoint}), or COORDINATOR_NOT_AVAILABLE.
     */
    public FindCoordinatorResponseData.Coordinator locate(String key, int partition, int localBrokerId,
                                                          InetSocketAddress endpoint, String listenerName) {
        FindCoordinatorResponseData.Coordinator c = new FindCoordinatorResponseData.Coordinator().setKey(key)
                .setNodeId(-1).setHost("").setPort(-1);
        try {
            ensureCreated();
        } catch (RuntimeException e) {
            log.warn("Cannot create {}: {}", settings.name(), e.toString());
            return c.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()).setErrorMessage(e.getMessage());
        }
        int leader = coordinatorFor(partition, localBrokerId);
        if (leader == localBrokerId) {
            return c.setNodeId(localBrokerId).setHost(endpoint.getHostString()).setPort(endpoint.getPort())
                    .setErrorCode(Errors.NONE.code()).setErrorMessage(null);
        }
        BrokerInfo registered = leader < 0 ? null : broker(leader);
        BrokerInfo b = registered == null ? null : registered.on(listenerName);
        if (b == null) {
            return c.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                    .setErrorMessage(settings.name() + "-" + partition + " has no leader now");
        }
        return c.setNodeId(b.id()).setHost(b.host()).setPort(b.port()).setErrorCode(Errors.NONE.code())
                .setErrorMessage(null);
    }

    /** host and port of a live broker, or null. */
    private BrokerInfo broker(int id) {
        for (BrokerInfo b : topics.store().liveBrokers()) {
            if (b.id() == id) {
                return b;
            }
        }
        return null;
    }

    @Override
    public void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor) {
        replayBatches(partition, (batch, record) -> {
            if (!batch.isControlBatch()) {
                visitor.accept(record.key(), record.hasValue() ? record.value() : null);
            }
        });
    }

    @Override
    public void replayTransactional(int partition, TransactionalVisitor visitor) {
        replayBatches(partition, (batch, record) -> {
            if (!batch.isControlBatch()) {
                visitor.record(record.key(), record.hasValue() ? record.value() : null, batch.producerId(),
                        batch.isTransactional());
            } else {
                ControlRecordType type = ControlRecordType.parse(record.key());
                if (type == ControlRecordType.COMMIT || type == ControlRecordType.ABORT) {
                    visitor.transactionEnded(batch.producerId(), type == ControlRecordType.COMMIT);
                }
            }
        });
    }

    /** What replay hands over: each record with its batch (producer id, transactional, control). */
    @FunctionalInterface
    public interface BatchRecordVisitor {
        void accept(RecordBatch batch, Record record);
    }

    /** Hands every record with a key (control records included), oldest first, with its batch. */
    public void replayBatches(int partition, BatchRecordVisitor visitor) {
        Partition p = replicas.partition(settings.name(), partition).orElse(null);
        if (p == null) {
            return;
        }
        PartitionLog partitionLog = p.log();
        long offset = partitionLog.logStartOffset();
        long end = partitionLog.logEndOffset();
        int records = 0;
        while (offset < end) {
            ReadResult read = partitionLog.read(offset, REPLAY_READ_BYTES, end, true);
            FileSlice slice = read.records();
            if (slice.isEmpty()) {
                break;
            }
            ByteBuffer bytes = readFully(slice);
            long next = offset;
            for (RecordBatch batch : MemoryRecords.readableRecords(bytes).batches()) {
                for (Record record : batch) {
                    if (record.offset() >= offset && record.hasKey()) {
                        visitor.accept(batch, record);
                        records++;
                    }
                }
                next = batch.nextOffset();
            }
            if (next <= offset) {
                break;
            }
            offset = next;
        }
        if (records > 0) {
            log.debug("Replayed {} records of {}-{}", records, settings.name(), partition);
        }
    }

    private ByteBuffer readFully(FileSlice slice) {
        ByteBuffer buf = ByteBuffer.allocate(slice.size());
        try {
            while (buf.hasRemaining()) {
                int n = slice.channel().read(buf, slice.position() + buf.position());
                if (n < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + settings.name(), e);
        }
        buf.flip();
        return buf;
    }
}
