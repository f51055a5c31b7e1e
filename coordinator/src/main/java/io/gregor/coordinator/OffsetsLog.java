package io.gregor.coordinator;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * What the coordinator needs from {@code __consumer_offsets}; the broker implements it over its
 * partition logs, so this module knows nothing of storage.
 */
public interface OffsetsLog {
    /** offsets.topic.num.partitions: a group lives in partition abs(hash(groupId)) % this. */
    int partitionCount();

    /**
     * Appends {@code records} to the partition as one batch through the leader, creating the topic on first
     * use. Returns once the append is done (and as durable as the log makes it).
     *
     * @throws RuntimeException when the append failed; nothing was written then
     */
    void append(int partition, List<CoordinatorRecord> records);

    /**
     * Hands every record of the partition, oldest first, to {@code visitor} (key, value or null). Does
     * nothing when the topic does not exist yet.
     */
    void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor);
}
