package io.gregor.broker.handlers;

import io.gregor.broker.replica.Partition;
import org.apache.kafka.common.protocol.Errors;

import java.util.Optional;

/**
 * Finding the partition a request is about, as its leader at the epoch the client names (KIP-320
 * fencing): the partition, or the error to answer instead.
 */
record LeaderLookup(Partition partition, Errors error) {

    /**
     * @param requestedEpoch the client's current leader epoch; -1 means it does not know and asks for no check
     * @param unknown        the error for a partition this broker does not have
     */
    static LeaderLookup lookup(Optional<Partition> found, int requestedEpoch, Errors unknown) {
        if (found.isEmpty()) {
            return new LeaderLookup(null, unknown);
        }
        int current = found.get().leaderEpoch();
        if (requestedEpoch == -1 || requestedEpoch == current) {
            return found.get().isLeader() ? new LeaderLookup(found.get(), Errors.NONE)
                    : new LeaderLookup(null, Errors.NOT_LEADER_OR_FOLLOWER);
        }
        return new LeaderLookup(null, requestedEpoch > current ? Errors.UNKNOWN_LEADER_EPOCH : Errors.FENCED_LEADER_EPOCH);
    }
}
