package io.gregor.broker.metadata;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;

/**
 * A partition's full replica assignment as Kafka keeps it during a reassignment (KIP-455): {@code replicas} is
 * the whole replica set (target replicas first, then the original ones not in the target), {@code adding} the
 * replicas the reassignment adds and {@code removing} those it removes. Without a reassignment both are empty.
 */
public record ReplicaAssignment(List<Integer> replicas, List<Integer> adding, List<Integer> removing) {
    public ReplicaAssignment {
        replicas = List.copyOf(replicas);
        adding = List.copyOf(adding);
        removing = List.copyOf(removing);
    }

    public static ReplicaAssignment of(List<Integer> replicas) {
        return new ReplicaAssignment(replicas, List.of(), List.of());
    }

    public boolean isBeingReassigned() {
        return !adding.isEmpty() || !removing.isEmpty();
    }

    /** The replicas before the reassignment started. */
    public List<Integer> originReplicas() {
        return minus(replicas, adding);
    }

    /** The replicas once the reassignment completes. */
    public List<Integer> targetReplicas() {
        return minus(replicas, removing);
    }

    /** Kafka's rule: the replica set is the target followed by the origin replicas not in it. */
    public ReplicaAssignment reassignTo(List<Integer> target) {
        List<Integer> origin = originReplicas();
        LinkedHashSet<Integer> full = new LinkedHashSet<>(target);
        full.addAll(origin);
        List<Integer> all = new ArrayList<>(full);
        return new ReplicaAssignment(all, minus(all, origin), minus(all, target));
    }

    public static List<Integer> minus(List<Integer> a, List<Integer> b) {
        List<Integer> out = new ArrayList<>(a);
        out.removeAll(b);
        return out;
    }

    /**
     * Kafka's checks of a reassignment's target replicas: not empty, no duplicates, no negative ids, and every
     * replica it adds to this assignment a live broker. Null when the target is fine.
     */
    public ApiError validateTarget(List<Integer> target, Set<Integer> liveBrokers) {
        if (target.isEmpty()) {
            return new ApiError(Errors.INVALID_REPLICA_ASSIGNMENT, "Empty replica list specified in partition reassignment.");
        }
        if (new LinkedHashSet<>(target).size() != target.size()) {
            return new ApiError(Errors.INVALID_REPLICA_ASSIGNMENT,
                    "Duplicate replica ids in partition reassignment replica list: " + target);
        }
        if (target.stream().anyMatch(r -> r < 0)) {
            return new ApiError(Errors.INVALID_REPLICA_ASSIGNMENT, "Invalid broker id in replica list: " + target);
        }
        List<Integer> added = reassignTo(target).adding();
        if (!liveBrokers.containsAll(added)) {
            return new ApiError(Errors.INVALID_REPLICA_ASSIGNMENT, "Replica assignment has brokers that are not alive. "
                    + "Replica list: " + added + ", live broker list: " + liveBrokers);
        }
        return null;
    }
}
