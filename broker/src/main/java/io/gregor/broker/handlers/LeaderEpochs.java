package io.gregor.broker.handlers;

import org.apache.kafka.common.protocol.Errors;

/** KIP-320 fencing: a request naming a leader epoch must name the current one. */
final class LeaderEpochs {
    private LeaderEpochs() {
    }

    /** -1 in a request means the client does not know the epoch and asks for no check. */
    static Errors check(int requestedEpoch, int currentEpoch) {
        if (requestedEpoch == -1 || requestedEpoch == currentEpoch) {
            return Errors.NONE;
        }
        return requestedEpoch > currentEpoch ? Errors.UNKNOWN_LEADER_EPOCH : Errors.FENCED_LEADER_EPOCH;
    }
}
