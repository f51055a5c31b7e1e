package io.gregor.coordinator;

import io.gregor.coordinator.consumer.ConsumerGroupRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Groups as records of {@code __consumer_offsets}: writes a group's metadata, commits and tombstones to its
 * partition, and rebuilds groups from a partition. The byte formats live in {@link OffsetsRecords}.
 */
final class GroupStore {
    private final CoordinatorLog log;

    GroupStore(CoordinatorLog log) {
        this.log = log;
    }

    int partitionCount() {
        return log.partitionCount();
    }

    boolean isLeader(int partition) {
        return log.isLeader(partition);
    }

    int partitionFor(String groupId) {
        return GroupCoordinator.partitionFor(groupId, log.partitionCount());
    }

    /**
     * Appends the records of one group as one batch; the future completes when they are replicated.
     * @throws RuntimeException when nothing was written
     */
    CompletableFuture<Void> append(String groupId, List<CoordinatorRecord> records) {
        return log.append(partitionFor(groupId), records);
    }

    /** Appends a group's records as a transactional batch of the producer. @throws RuntimeException when nothing was written */
    CompletableFuture<Void> appendTransactional(String groupId, long producerId, short producerEpoch,
                                                List<CoordinatorRecord> records, Object verificationGuard) {
        return log.appendTransactional(partitionFor(groupId), producerId, producerEpoch, records, verificationGuard);
    }

    /** The offsets partition's verification token for the producer's TxnOffsetCommit (see CoordinatorLog). */
    Object transactionVerificationGuard(String groupId, long producerId, short producerEpoch) {
        return log.transactionVerificationGuard(partitionFor(groupId), producerId, producerEpoch);
    }

    /** Writes the group's metadata record (members, generation, assignment). @throws RuntimeException on failure */
    void storeGroup(ClassicGroup group) {
        append(group.groupId, List.of(groupRecord(group)));
    }

    /** The group's metadata record (members, generation, assignment), Kafka's GroupMetadataValue. */
    static CoordinatorRecord groupRecord(ClassicGroup group) {
        List<OffsetsRecords.MemberRecord> members = new ArrayList<>(group.members.size());
        for (GroupMember m : group.members.values()) {
            members.add(new OffsetsRecords.MemberRecord(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    m.rebalanceTimeoutMs, m.sessionTimeoutMs, m.metadata(group.protocolName), m.assignment));
        }
        OffsetsRecords.GroupRecord record = new OffsetsRecords.GroupRecord(
                group.protocolType == null ? "" : group.protocolType, group.generationId, group.protocolName,
                group.leaderId, group.currentStateTimestamp, members);
        return new CoordinatorRecord(OffsetsRecords.groupMetadataKey(group.groupId), OffsetsRecords.groupMetadataValue(record));
    }

    static CoordinatorRecord offsetCommit(String groupId, TopicPartition tp, CommittedOffset offset, Uuid topicId) {
        return new CoordinatorRecord(OffsetsRecords.offsetCommitKey(groupId, tp.topic(), tp.partition()),
                OffsetsRecords.offsetCommitValue(offset, topicId));
    }

    static CoordinatorRecord offsetTombstone(String groupId, TopicPartition tp) {
        return new CoordinatorRecord(OffsetsRecords.offsetCommitKey(groupId, tp.topic(), tp.partition()), null);
    }

    static CoordinatorRecord groupTombstone(String groupId) {
        return new CoordinatorRecord(OffsetsRecords.groupMetadataKey(groupId), null);
    }

    /** The error Kafka answers when writing a group's records failed with {@code e}. */
    static Errors appendError(Throwable e) {
        Errors error = Errors.forException(e instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                ? c.getCause() : e);
        return switch (error) {
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> Errors.INVALID_COMMIT_OFFSET_SIZE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            default -> Errors.COORDINATOR_NOT_AVAILABLE;
        };
    }

    /**
     * Rebuilds the groups of one partition from its records, the last record of each key winning. A group
     * loaded with members is Stable (as in Kafka); its members' sessions are the caller's to start.
     */
    List<ClassicGroup> load(int partition, long now) {
        Map<String, Map<TopicPartition, CommittedOffset>> offsets = new HashMap<>();
        Map<String, OffsetsRecords.GroupRecord> metadata = new HashMap<>();
        Set<String> seen = new HashSet<>();
        // transactional offset commits per producer, until their marker: committed ones apply in log order
        Map<Long, Map<String, Map<TopicPartition, CommittedOffset>>> pendingByProducer = new HashMap<>();
        ConsumerGroupRecords.Loader consumerGroups = new ConsumerGroupRecords.Loader();
        log.replayTransactional(partition, new CoordinatorLog.TransactionalVisitor() {
            @Override
            public void record(ByteBuffer key, ByteBuffer value, long producerId, boolean transactional) {
                short type = key.getShort(key.position());
                if (ConsumerGroupRecords.isConsumerGroupRecord(type)) {
                    ByteBuffer fields = key.duplicate();
                    fields.position(fields.position() + 2);
                    consumerGroups.replay(type, fields, value);
                    return;
                }
                OffsetsRecords.Key k = OffsetsRecords.readKey(key);
                if (k == null) {
                    return;
                }
                seen.add(k.group());
                if (k.isOffsetCommit()) {
                    TopicPartition tp = new TopicPartition(k.topic(), k.partition());
                    if (transactional && value != null) {
                        pendingByProducer.computeIfAbsent(producerId, id -> new HashMap<>())
                                .computeIfAbsent(k.group(), g -> new HashMap<>())
                                .put(tp, OffsetsRecords.readOffsetValue(value));
                    } else if (value == null) {
                        Map<TopicPartition, CommittedOffset> forGroup = offsets.get(k.group());
                        if (forGroup != null) {
                            forGroup.remove(tp);
                        }
                    } else {
                        offsets.computeIfAbsent(k.group(), g -> new HashMap<>()).put(tp, OffsetsRecords.readOffsetValue(value));
                    }
                } else if (value == null) {
                    metadata.remove(k.group());
                } else {
                    metadata.put(k.group(), OffsetsRecords.readGroupValue(value));
                }
            }

            @Override
            public void transactionEnded(long producerId, boolean committed) {
                Map<String, Map<TopicPartition, CommittedOffset>> pending = pendingByProducer.remove(producerId);
                if (pending != null && committed) {
                    pending.forEach((group, o) -> offsets.computeIfAbsent(group, g -> new HashMap<>()).putAll(o));
                }
            }
        });
        List<ClassicGroup> loaded = new ArrayList<>();
        Set<String> consumerGroupIds = consumerGroups.groupIds();
        seen.addAll(consumerGroupIds);
        for (String groupId : seen) {
            OffsetsRecords.GroupRecord record = metadata.get(groupId);
            Map<TopicPartition, CommittedOffset> committed = offsets.getOrDefault(groupId, Map.of());
            boolean pendingOffsets = pendingByProducer.values().stream().anyMatch(byGroup -> byGroup.containsKey(groupId));
            boolean consumerGroup = consumerGroupIds.contains(groupId);
            if (record == null && committed.isEmpty() && !pendingOffsets && !consumerGroup) {
                continue;
            }
            ClassicGroup group = new ClassicGroup(groupId, now);
            group.offsets.putAll(committed);
            pendingByProducer.forEach((producerId, byGroup) -> {
                Map<TopicPartition, CommittedOffset> pending = byGroup.get(groupId);
                if (pending != null) {
                    group.pendingTxnOffsets.put(producerId, new HashMap<>(pending));
                }
            });
            if (consumerGroup) {
                group.consumer = consumerGroups.build(groupId, group);
                group.protocolType = ClassicGroup.CONSUMER_PROTOCOL_TYPE;
                if (!group.consumer.isEmpty()) {
                    group.state = GroupState.STABLE;
                }
            } else if (record != null) {
                restoreMetadata(group, record, now);
            }
            loaded.add(group);
        }
        return loaded;
    }

    private static void restoreMetadata(ClassicGroup group, OffsetsRecords.GroupRecord record, long now) {
        group.protocolType = record.protocolType();
        group.generationId = record.generation();
        group.protocolName = record.protocol();
        group.currentStateTimestamp = record.currentStateTimestamp() >= 0 ? record.currentStateTimestamp() : now;
        for (OffsetsRecords.MemberRecord m : record.members()) {
            Map<String, byte[]> protocols = new LinkedHashMap<>();
            if (record.protocol() != null) {
                protocols.put(record.protocol(), m.subscription());
            }
            GroupMember member = new GroupMember(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(),
                    m.rebalanceTimeoutMs(), m.sessionTimeoutMs(), protocols);
            member.assignment = m.assignment();
            group.add(member);
        }
        group.leaderId = record.leader();
        if (!group.members.isEmpty()) {
            group.state = GroupState.STABLE;
        }
    }
}
