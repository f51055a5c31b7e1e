package io.gregor.broker;

import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.Partition;
import io.gregor.config.BrokerConfig;
import io.gregor.coordinator.CoordinatorRecord;
import io.gregor.coordinator.OffsetsLog;
import io.gregor.coordinator.TopicCatalog;
import io.gregor.storage.AppendResult;
import io.gregor.storage.FileSlice;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.ReadResult;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * {@code __consumer_offsets} as the group coordinator sees it: created on first use with Kafka's
 * settings (offsets.topic.*, compacted), written one batch per coordinator write through the partition
 * leader's append, and read back whole at startup.
 */
public final class ConsumerOffsetsTopic implements OffsetsLog, TopicCatalog {
    public static final String NAME = Topic.GROUP_METADATA_TOPIC_NAME;
    private static final Logger log = LoggerFactory.getLogger(ConsumerOffsetsTopic.class);
    private static final int REPLAY_READ_BYTES = 1024 * 1024;

    private final BrokerConfig config;
    private final Topics topics;
    private final Time time;

    /** Also registers itself as the creator of the topic, so a Metadata request naming it creates it right. */
    public ConsumerOffsetsTopic(BrokerConfig config, Topics topics, Time time) {
        this.config = config;
        this.topics = topics;
        this.time = time;
        topics.registerInternalTopic(NAME, this::ensureCreated);
    }

    @Override
    public int partitionCount() {
        return topics.topic(NAME).map(TopicMetadata::partitionCount).orElse(config.offsetsTopicNumPartitions());
    }

    /** Creates the topic if it does not exist yet (FindCoordinator and the first write call this). */
    public synchronized void ensureCreated() {
        if (topics.topic(NAME).isPresent()) {
            return;
        }
        short rf = (short) Math.min(config.offsetsTopicReplicationFactor(), topics.liveBrokers());
        Map<String, String> configs = Map.of(
                "cleanup.policy", "compact",
                "segment.bytes", Integer.toString(config.offsetsTopicSegmentBytes()),
                "compression.type", "producer");
        try {
            topics.create(NAME, config.offsetsTopicNumPartitions(), rf, configs, false);
        } catch (TopicExistsException e) {
            // Created by someone else meanwhile.
        }
    }

    @Override
    public CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records) {
        ensureCreated();
        Partition leader = topics.partition(NAME, partition)
                .orElseThrow(() -> new NotLeaderOrFollowerException("This broker does not host " + NAME + "-" + partition));
        long now = time.milliseconds();
        int size = 64;
        for (CoordinatorRecord r : records) {
            size += 32 + r.key().length + (r.value() == null ? 0 : r.value().length);
        }
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(size), Compression.NONE,
                TimestampType.CREATE_TIME, 0L);
        for (CoordinatorRecord r : records) {
            builder.append(now, r.key(), r.value());
        }
        AppendResult appended = leader.appendAsLeader(builder.build().buffer(), now);
        if (!topics.store().clustered()) {
            return CompletableFuture.completedFuture(null);
        }
        // acks=all, as Kafka's coordinator writes: the answer waits for the ISR and min.insync.replicas
        int minIsr = topics.minInsyncReplicas(leader);
        if (leader.inSyncReplicaCount() < minIsr) {
            return CompletableFuture.failedFuture(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.exception());
        }
        return leader.awaitReplication(appended.lastOffset() + 1, minIsr, config.offsetsCommitTimeoutMs())
                .thenCompose(error -> error == Errors.NONE ? CompletableFuture.<Void>completedFuture(null)
                        : CompletableFuture.failedFuture(error.exception()));
    }

    @Override
    public boolean isLeader(int partition) {
        // a single broker leads every partition, including those of a topic not created yet
        return topics.partition(NAME, partition).map(Partition::isLeader).orElse(!topics.store().clustered());
    }

    /**
     * The broker that coordinates the groups of a partition: the partition's leader, or -1 when it has
     * none now. A single broker is always the one.
     */
    public int coordinatorFor(int partition, int localBrokerId) {
        if (!topics.store().clustered()) {
            return localBrokerId;
        }
        return topics.store().partitionState(NAME, partition).map(PartitionState::leader).orElse(-1);
    }

    /** host and port of a live broker, or null. */
    public BrokerInfo broker(int id) {
        for (BrokerInfo b : topics.store().liveBrokers()) {
            if (b.id() == id) {
                return b;
            }
        }
        return null;
    }

    @Override
    public void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor) {
        Partition p = topics.partition(NAME, partition).orElse(null);
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
                if (batch.isControlBatch()) {
                    // a transaction marker's key is no group record (Kafka's loader skips them too)
                    next = batch.nextOffset();
                    continue;
                }
                for (Record record : batch) {
                    if (record.offset() >= offset && record.hasKey()) {
                        visitor.accept(record.key(), record.hasValue() ? record.value() : null);
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
            log.debug("Replayed {} records of {}-{}", records, NAME, partition);
        }
    }

    private static ByteBuffer readFully(FileSlice slice) {
        ByteBuffer buf = ByteBuffer.allocate(slice.size());
        try {
            while (buf.hasRemaining()) {
                int n = slice.channel().read(buf, slice.position() + buf.position());
                if (n < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + NAME, e);
        }
        buf.flip();
        return buf;
    }

    @Override
    public boolean hasPartition(String topic, int partition) {
        return topics.partition(topic, partition).isPresent();
    }
}
