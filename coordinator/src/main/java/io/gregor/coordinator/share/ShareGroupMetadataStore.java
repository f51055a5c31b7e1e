package io.gregor.coordinator.share;

import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.coordinator.group.generated.CoordinatorRecordType;
import org.apache.kafka.coordinator.group.generated.ShareGroupMetadataKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupStatePartitionMetadataKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupStatePartitionMetadataValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * Share groups as Kafka persists them in {@code __consumer_offsets}, in the group's partition: a
 * ShareGroupMetadata record (the group epoch) and a ShareGroupStatePartitionMetadata record (the share
 * partitions being initialized with, or having, state with the share coordinators, and the topics whose state
 * is being deleted). Members are not persisted: after a restart or a
 * coordinator move they rejoin. A partition's share groups are read back when this broker leads it, again
 * whenever its leader epoch changed (the previous leader may have written since).
 */
public final class ShareGroupMetadataStore {
    private static final Logger log = LoggerFactory.getLogger(ShareGroupMetadataStore.class);

    /** A topic's share partitions: its name when written, and the partition indexes. */
    public record TopicPartitions(String name, Set<Integer> partitions) {
    }

    /**
     * The group's share partitions as Kafka's ShareGroupStatePartitionMetadata names them: those whose state
     * the group coordinator is initializing with the share coordinators, those initialized (the only ones
     * assigned to members), and the topics whose state is being deleted (by name).
     */
    public record SharePartitions(Map<Uuid, TopicPartitions> initializing, Map<Uuid, TopicPartitions> initialized,
                                  Map<Uuid, String> deleting) {
        public static final SharePartitions NONE = new SharePartitions(Map.of(), Map.of(), Map.of());
    }

    /** What is persisted of a share group. */
    public record Persisted(int epoch, SharePartitions partitions) {
        public Map<Uuid, TopicPartitions> initialized() {
            return partitions.initialized();
        }
    }

    private final CoordinatorLog offsetsTopic;
    private final Map<Integer, Integer> loadedEpochs = new HashMap<>();
    private final Map<Integer, Map<String, Persisted>> loaded = new HashMap<>();

    public ShareGroupMetadataStore(CoordinatorLog offsetsTopic) {
        this.offsetsTopic = offsetsTopic;
    }

    private int partitionFor(String groupId) {
        return Utils.abs(groupId.hashCode()) % offsetsTopic.partitionCount();
    }

    public synchronized Optional<Persisted> group(String groupId) {
        Map<String, Persisted> groups = partition(partitionFor(groupId));
        return groups == null ? Optional.empty() : Optional.ofNullable(groups.get(groupId));
    }

    /** The share groups persisted in the partitions this broker leads. */
    public synchronized Set<String> groups() {
        Set<String> out = new TreeSet<>();
        for (int p = 0; p < offsetsTopic.partitionCount(); p++) {
            Map<String, Persisted> groups = partition(p);
            if (groups != null) {
                out.addAll(groups.keySet());
            }
        }
        return out;
    }

    /** A new group epoch (a member joined or left, an assignment changed). */
    public synchronized CompletableFuture<Void> writeEpoch(String groupId, int epoch) {
        Persisted before = group(groupId).orElse(new Persisted(0, SharePartitions.NONE));
        Persisted after = new Persisted(epoch, before.partitions());
        return append(groupId, after, List.of(record(new ShareGroupMetadataKey().setGroupId(groupId),
                new ShareGroupMetadataValue().setEpoch(epoch).setMetadataHash(0))));
    }

    /** The group's share partitions as persisted (none for an unknown group). */
    public synchronized SharePartitions partitions(String groupId) {
        return group(groupId).map(Persisted::partitions).orElse(SharePartitions.NONE);
    }

    /**
     * Applies {@code change} to the group's share partitions and writes the new ShareGroupStatePartitionMetadata,
     * only when something changed.
     */
    public synchronized CompletableFuture<Void> updatePartitions(String groupId,
                                                                 UnaryOperator<SharePartitions> change) {
        Persisted before = group(groupId).orElse(new Persisted(0, SharePartitions.NONE));
        SharePartitions after = change.apply(before.partitions());
        if (after.equals(before.partitions())) {
            return CompletableFuture.completedFuture(null);
        }
        return append(groupId, new Persisted(before.epoch(), after), List.of(statePartitions(groupId, after)));
    }

    /** Forgets the group: tombstones for both of its records. */
    public synchronized CompletableFuture<Void> delete(String groupId) {
        if (group(groupId).isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return append(groupId, null, List.of(
                new CoordinatorRecord(MessageUtil.toCoordinatorTypePrefixedBytes(
                        new ShareGroupStatePartitionMetadataKey().setGroupId(groupId)), null),
                new CoordinatorRecord(MessageUtil.toCoordinatorTypePrefixedBytes(
                        new ShareGroupMetadataKey().setGroupId(groupId)), null)));
    }

    private CompletableFuture<Void> append(String groupId, Persisted after, List<CoordinatorRecord> records) {
        int p = partitionFor(groupId);
        Map<String, Persisted> groups = partition(p);
        if (groups == null) {
            // another broker coordinates the group now: its members will be sent there
            return CompletableFuture.completedFuture(null);
        }
        try {
            CompletableFuture<Void> written = offsetsTopic.append(p, records);
            if (after == null) {
                groups.remove(groupId);
            } else {
                groups.put(groupId, after);
            }
            return written;
        } catch (RuntimeException e) {
            log.warn("Cannot write share group {} to __consumer_offsets-{}: {}", groupId, p, e.toString());
            return CompletableFuture.failedFuture(e);
        }
    }

    private static CoordinatorRecord statePartitions(String groupId, SharePartitions partitions) {
        ShareGroupStatePartitionMetadataValue value = new ShareGroupStatePartitionMetadataValue();
        value.setInitializingTopics(topicPartitionsInfo(partitions.initializing()));
        value.setInitializedTopics(topicPartitionsInfo(partitions.initialized()));
        partitions.deleting().forEach((id, name) -> value.deletingTopics().add(
                new ShareGroupStatePartitionMetadataValue.TopicInfo().setTopicId(id).setTopicName(name)));
        return record(new ShareGroupStatePartitionMetadataKey().setGroupId(groupId), value);
    }

    private static List<ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo> topicPartitionsInfo(
            Map<Uuid, TopicPartitions> topics) {
        List<ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo> out = new ArrayList<>();
        new TreeMap<>(topics).forEach((id, t) -> out.add(new ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo()
                .setTopicId(id).setTopicName(t.name()).setPartitions(new ArrayList<>(new TreeSet<>(t.partitions())))));
        return out;
    }

    private static Map<Uuid, TopicPartitions> topicPartitions(
            List<ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo> topics) {
        Map<Uuid, TopicPartitions> out = new TreeMap<>();
        topics.forEach(t -> out.put(t.topicId(), new TopicPartitions(t.topicName(), Set.copyOf(t.partitions()))));
        return Map.copyOf(out);
    }

    private static CoordinatorRecord record(ApiMessage key, ApiMessage value) {
        return new CoordinatorRecord(MessageUtil.toCoordinatorTypePrefixedBytes(key),
                MessageUtil.toVersionPrefixedBytes((short) 0, value));
    }

    /** The partition's share groups, read back if not read in this leader epoch; null if this broker does not lead it. */
    private Map<String, Persisted> partition(int p) {
        if (!offsetsTopic.isLeader(p)) {
            loaded.remove(p);
            loadedEpochs.remove(p);
            return null;
        }
        int epoch = offsetsTopic.leaderEpoch(p);
        Map<String, Persisted> groups = loaded.get(p);
        if (groups == null || loadedEpochs.getOrDefault(p, -1) != epoch) {
            groups = replay(p);
            loaded.put(p, groups);
            loadedEpochs.put(p, epoch);
        }
        return groups;
    }

    private Map<String, Persisted> replay(int p) {
        Map<String, Integer> epochs = new HashMap<>();
        Map<String, SharePartitions> initialized = new HashMap<>();
        short metadataType = CoordinatorRecordType.SHARE_GROUP_METADATA.id();
        short partitionsType = CoordinatorRecordType.SHARE_GROUP_STATE_PARTITION_METADATA.id();
        offsetsTopic.replay(p, (keyBytes, valueBytes) -> {
            ByteBuffer k = keyBytes.duplicate();
            short type = k.getShort();
            if (type != metadataType && type != partitionsType) {
                return; // offsets, classic and consumer groups: the group coordinator's
            }
            try {
                if (type == metadataType) {
                    String groupId = new ShareGroupMetadataKey(new ByteBufferAccessor(k), (short) 0).groupId();
                    if (valueBytes == null) {
                        epochs.remove(groupId);
                        initialized.remove(groupId);
                        return;
                    }
                    ByteBuffer v = valueBytes.duplicate();
                    short version = v.getShort();
                    epochs.put(groupId, new ShareGroupMetadataValue(new ByteBufferAccessor(v), version).epoch());
                } else {
                    String groupId = new ShareGroupStatePartitionMetadataKey(new ByteBufferAccessor(k), (short) 0).groupId();
                    if (valueBytes == null) {
                        initialized.remove(groupId);
                        return;
                    }
                    ByteBuffer v = valueBytes.duplicate();
                    short version = v.getShort();
                    ShareGroupStatePartitionMetadataValue value =
                            new ShareGroupStatePartitionMetadataValue(new ByteBufferAccessor(v), version);
                    Map<Uuid, String> deleting = new TreeMap<>();
                    value.deletingTopics().forEach(t -> deleting.put(t.topicId(), t.topicName()));
                    initialized.put(groupId, new SharePartitions(topicPartitions(value.initializingTopics()),
                            topicPartitions(value.initializedTopics()), Map.copyOf(deleting)));
                }
            } catch (RuntimeException e) {
                log.warn("Skipping an unreadable share-group record of __consumer_offsets-{}: {}", p, e.toString());
            }
        });
        Map<String, Persisted> groups = new HashMap<>();
        epochs.forEach((groupId, epoch) -> groups.put(groupId,
                new Persisted(epoch, initialized.getOrDefault(groupId, SharePartitions.NONE))));
        if (!groups.isEmpty()) {
            log.info("Loaded {} share groups of __consumer_offsets-{}", groups.size(), p);
        }
        return groups;
    }
}
