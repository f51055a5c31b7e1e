package io.gregor.compat.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The long chaos run, {@code bench/chaos --minutes N [--faults kill,pause,restart,zk_isolate] [--seed S]}:
 * prints each fault as it happens and the checker's verdict; exits 1 if it found anything.
 */
public final class ChaosMain {
    private ChaosMain() {
    }

    public static void main(String[] args) throws Exception {
        double minutes = 30;
        List<Nemesis.Fault> faults = new ArrayList<>(List.of(Nemesis.Fault.values()));
        long seed = System.nanoTime();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--minutes" -> minutes = Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--faults" -> {
                    faults.clear();
                    for (String f : args[++i].split(",")) {
                        faults.add(Nemesis.Fault.valueOf(f.trim().toUpperCase(java.util.Locale.ROOT)));
                    }
                }
                default -> {
                    System.err.println("usage: bench/chaos [--minutes N] [--faults kill,pause,restart,zk_isolate] [--seed S]");
                    System.exit(2);
                }
            }
        }
        ChaosRun.Result result = new ChaosRun(Duration.ofMillis((long) (minutes * 60_000)), faults, System.out, seed).run();
        System.exit(result.valid() ? 0 : 1);
    }
}
