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
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Share groups as Kafka persists them in {@code __consumer_offsets}, in the group's partition: a
 * ShareGroupMetadata record (the group epoch) and a ShareGroupStatePartitionMetadata record (the share
 * partitions that have state with the share coordinator). Members are not persisted: after a restart or a
 * coordinator move they rejoin. A partition's share groups are read back when this broker leads it, again
 * whenever its leader epoch changed (the previous leader may have written since).
 */
public final class ShareGroupMetadataStore {
    private static final Logger log = LoggerFactory.getLogger(ShareGroupMetadataStore.class);

    /** A topic's share partitions with state: its name when written, and the partition indexes. */
    public record TopicPartitions(String name, Set<Integer> partitions) {
    }

    /** What is persisted of a share group. */
    public record Persisted(int epoch, Map<Uuid, TopicPartitions> initialized) {
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
        Persisted before = group(groupId).orElse(new Persisted(0, Map.of()));
        Persisted after = new Persisted(epoch, before.initialized());
        return append(groupId, after, List.of(record(new ShareGroupMetadataKey().setGroupId(groupId),
                new ShareGroupMetadataValue().setEpoch(epoch).setMetadataHash(0))));
    }

    /** Adds share partitions with state (assigned to the group's members): written only when something is new. */
    public synchronized CompletableFuture<Void> addInitialized(String groupId, Uuid topicId, String topicName,
                                                               Collection<Integer> partitions) {
        Persisted before = group(groupId).orElse(new Persisted(0, Map.of()));
        TopicPartitions known = before.initialized().get(topicId);
        if (known != null && known.partitions().containsAll(partitions)) {
            return CompletableFuture.completedFuture(null);
        }
        Map<Uuid, TopicPartitions> initialized = new TreeMap<>(before.initialized());
        Set<Integer> all = new TreeSet<>(partitions);
        if (known != null) {
            all.addAll(known.partitions());
        }
        initialized.put(topicId, new TopicPartitions(topicName, Set.copyOf(all)));
        Persisted after = new Persisted(before.epoch(), Map.copyOf(initialized));
        return append(groupId, after, List.of(statePartitions(groupId, after.initialized())));
    }

    /** The share partitions of {@code topicIds} no longer have state (DeleteShareGroupOffsets). */
    public synchronized CompletableFuture<Void> removeTopics(String groupId, Collection<Uuid> topicIds) {
        Optional<Persisted> before = group(groupId);
        if (before.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Map<Uuid, TopicPartitions> initialized = new TreeMap<>(before.get().initialized());
        initialized.keySet().removeAll(topicIds);
        Persisted after = new Persisted(before.get().epoch(), Map.copyOf(initialized));
        return append(groupId, after, List.of(statePartitions(groupId, after.initialized())));
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

    private static CoordinatorRecord statePartitions(String groupId, Map<Uuid, TopicPartitions> initialized) {
        ShareGroupStatePartitionMetadataValue value = new ShareGroupStatePartitionMetadataValue();
        initialized.forEach((id, t) -> value.initializedTopics().add(
                new ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo().setTopicId(id).setTopicName(t.name())
                        .setPartitions(new ArrayList<>(new TreeSet<>(t.partitions())))));
        return record(new ShareGroupStatePartitionMetadataKey().setGroupId(groupId), value);
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
        Map<String, Map<Uuid, TopicPartitions>> initialized = new HashMap<>();
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
                    Map<Uuid, TopicPartitions> topics = new TreeMap<>();
                    for (ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo t : value.initializedTopics()) {
                        topics.put(t.topicId(), new TopicPartitions(t.topicName(), Set.copyOf(t.partitions())));
                    }
                    initialized.put(groupId, topics);
                }
            } catch (RuntimeException e) {
                log.warn("Skipping an unreadable share-group record of __consumer_offsets-{}: {}", p, e.toString());
            }
        });
        Map<String, Persisted> groups = new HashMap<>();
        epochs.forEach((groupId, epoch) -> groups.put(groupId,
                new Persisted(epoch, Map.copyOf(initialized.getOrDefault(groupId, Map.of())))));
        if (!groups.isEmpty()) {
            log.info("Loaded {} share groups of __consumer_offsets-{}", groups.size(), p);
        }
        return groups;
    }
}
