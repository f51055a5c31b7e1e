package io.gregor.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Optional CPU pinning ({@code bench/run --pin}): the broker on CPU 0, the load tools on the others, so
 * that on a small machine neither steals the other's core and a throughput row shows what one core of
 * broker can carry. Both brokers get the same core, so the comparison stays like for like.
 */
record Affinity(String brokerCpus, String toolCpus) {
    static final Affinity NONE = new Affinity(null, null);

    static Affinity brokerOnFirstCpu() {
        int n = Runtime.getRuntime().availableProcessors();
        if (n < 2) {
            throw new IllegalArgumentException("--pin needs at least 2 CPUs, this machine has " + n);
        }
        return new Affinity("0", n == 2 ? "1" : "1-" + (n - 1));
    }

    List<String> broker(List<String> command) {
        return pinned(brokerCpus, command);
    }

    List<String> tool(List<String> command) {
        return pinned(toolCpus, command);
    }

    String describe() {
        return brokerCpus == null ? "" : ", pinned: broker on CPU " + brokerCpus + ", tools on CPU " + toolCpus;
    }

    private static List<String> pinned(String cpus, List<String> command) {
        if (cpus == null) {
            return command;
        }
        List<String> out = new ArrayList<>(List.of("taskset", "-c", cpus));
        out.addAll(command);
        return out;
    }
}
