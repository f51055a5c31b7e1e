package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/** A member of a KIP-848 consumer group. Guarded by its group's lock. */
public final class ConsumerGroupMember {
    /** Where the member is in reconciling towards the target assignment (Kafka's MemberState). */
    public enum State {
        STABLE, UNREVOKED_PARTITIONS, UNRELEASED_PARTITIONS
    }

    public static final int LEAVE_GROUP_MEMBER_EPOCH = -1;
    public static final int LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

    String memberId;
    String instanceId;
    String rackId;
    String clientId = "";
    String clientHost = "";
    int rebalanceTimeoutMs = -1;
    String serverAssignor;
    List<String> subscribedTopicNames = List.of();
    /** Null when the member subscribes by names only. */
    String subscribedTopicRegex;

    int memberEpoch;
    int previousMemberEpoch;
    State state = State.STABLE;
    /** Topic id to partitions the member owns now (after reconciliation); immutable maps, replaced on change. */
    Map<Uuid, Set<Integer>> assignedPartitions = Map.of();
    /** Partitions it was asked to give up and has not confirmed yet. */
    Map<Uuid, Set<Integer>> partitionsPendingRevocation = Map.of();

    long sessionDeadlineMs;
    /** When the pending session check runs (0 when none): a shorter session than before needs an earlier one. */
    long sessionCheckAtMs;
    /** When a member in UNREVOKED_PARTITIONS is fenced if it has not revoked yet; 0 when not revoking. */
    long revocationDeadlineMs;
    /** The member epoch the revocation deadline was set at, so a stale check does nothing. */
    int revocationEpoch;
    /**
     * A classic member's pending join timeout (told to rejoin, JoinGroup not seen yet) and sync timeout (joined,
     * SyncGroup not seen yet), Kafka's consumer-group join and sync keys; null when none is pending.
     */
    MemberTimer joinTimer;
    MemberTimer syncTimer;

    /**
     * Set for a member that speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat) in a consumer group
     * (Kafka's mixed groups): its session timeout and its JoinGroup protocols, in preference order. Null for a
     * consumer-protocol member.
     */
    ClassicMetadata classic;

    /** A classic member's own settings, as Kafka's ConsumerGroupMemberMetadataValue.ClassicMemberMetadata keeps them. */
    public record ClassicMetadata(int sessionTimeoutMs, List<ClassicProtocol> protocols) {
        public ClassicMetadata {
            protocols = List.copyOf(protocols);
        }

        public String protocolName() {
            return protocols.get(0).name();
        }
    }

    public record ClassicProtocol(String name, byte[] metadata) {
    }

    /** A scheduled timeout of the member; the check it runs does nothing unless this one is still the member's. */
    static final class MemberTimer {
        private ScheduledFuture<?> future;

        void scheduled(ScheduledFuture<?> future) {
            this.future = future;
        }

        void cancel() {
            if (future != null) {
                future.cancel(false);
            }
        }
    }

    ConsumerGroupMember(String memberId) {
        this.memberId = memberId;
    }

    public String memberId() {
        return memberId;
    }

    public String instanceId() {
        return instanceId;
    }

    public String rackId() {
        return rackId;
    }

    public String clientId() {
        return clientId;
    }

    public String clientHost() {
        return clientHost;
    }

    public int rebalanceTimeoutMs() {
        return rebalanceTimeoutMs;
    }

    public String serverAssignor() {
        return serverAssignor;
    }

    public List<String> subscribedTopicNames() {
        return subscribedTopicNames;
    }

    public String subscribedTopicRegex() {
        return subscribedTopicRegex;
    }

    public int memberEpoch() {
        return memberEpoch;
    }

    public int previousMemberEpoch() {
        return previousMemberEpoch;
    }

    public State state() {
        return state;
    }

    /** Whether the member speaks the classic protocol (a classic member of a consumer group). */
    public boolean usesClassicProtocol() {
        return classic != null;
    }

    public ClassicMetadata classic() {
        return classic;
    }

    public Map<Uuid, Set<Integer>> assignedPartitions() {
        return assignedPartitions;
    }

    public Map<Uuid, Set<Integer>> partitionsPendingRevocation() {
        return partitionsPendingRevocation;
    }

    /** Moves to a new epoch, remembering the one before (a lost response's epoch stays acceptable). */
    void updateMemberEpoch(int epoch) {
        if (epoch != memberEpoch) {
            previousMemberEpoch = memberEpoch;
            memberEpoch = epoch;
        }
    }

    boolean isReconciledTo(int targetEpoch) {
        return state == State.STABLE && memberEpoch == targetEpoch;
    }
}
