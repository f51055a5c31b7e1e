package io.gregor.broker.metadata;

import java.util.List;

/**
 * A partition's leadership as the cluster agreed it (Kafka's {@code /brokers/topics/T/partitions/P/state}):
 * leader broker (-1 for none), leader epoch, in-sync replicas, the epoch of the controller that last wrote it,
 * and the znode version, which guards the next write.
 */
public record PartitionState(int leader, int leaderEpoch, List<Integer> isr, int controllerEpoch, int zkVersion) {
    public static final int NO_LEADER = -1;

    public PartitionState {
        isr = List.copyOf(isr);
    }
}
