package io.gregor.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Condenses a JFR recording of a broker under load: where CPU samples land (top frame, and first frame
 * in the broker's own code), which classes are allocated most, and bytes allocated in all (summed from
 * per-thread allocation counters, so exact rather than sampled).
 * Usage: JfrSummary FILE.jfr [PRODUCED_MIB] [OWN_PACKAGE_PREFIX]
 */
public final class JfrSummary {
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        double producedMiB = args.length > 1 ? Double.parseDouble(args[1]) : 0;
        String own = args.length > 2 ? args[2] : "io.gregor.";
        System.out.print(summarize(file, producedMiB, own, 15));
    }

    static String summarize(Path file, double producedMiB, String own, int top) throws IOException {
        Map<String, Integer> topFrames = new HashMap<>();
        Map<String, Integer> ownFrames = new HashMap<>();
        Map<String, Integer> nativeFrames = new HashMap<>();
        int nativeSamples = 0;
        Map<String, Long> allocByClass = new HashMap<>();
        Map<Long, long[]> allocatedPerThread = new HashMap<>(); // thread id -> {first, last}
        int samples = 0;
        long sampledAlloc = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            switch (e.getEventType().getName()) {
                case "jdk.ExecutionSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    samples++;
                    List<RecordedFrame> frames = st.getFrames();
                    topFrames.merge(name(frames.get(0)), 1, Integer::sum);
                    for (RecordedFrame f : frames) {
                        if (f.getMethod().getType().getName().startsWith(own)) {
                            ownFrames.merge(name(f), 1, Integer::sum);
                            break;
                        }
                    }
                }
                case "jdk.NativeMethodSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        nativeSamples++;
                        nativeFrames.merge(name(st.getFrames().get(0)), 1, Integer::sum);
                    }
                }
                case "jdk.ObjectAllocationSample" -> {
                    long w = e.getLong("weight");
                    sampledAlloc += w;
                    allocByClass.merge(e.getClass("objectClass").getName(), w, Long::sum);
                }
                case "jdk.ThreadAllocationStatistics" -> {
                    RecordedThread t = e.getThread("thread");
                    long id = t == null ? -1 : t.getId();
                    long bytes = e.getLong("allocated");
                    allocatedPerThread.merge(id, new long[] {bytes, bytes}, (a, b) -> new long[] {a[0], b[1]});
                }
                default -> {
                }
            }
        }
        long allocated = allocatedPerThread.values().stream().mapToLong(v -> v[1] - v[0]).sum();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s: %d CPU samples%n", file.getFileName(), samples));
        out.append(String.format(Locale.ROOT, "allocated: %.1f MiB (thread counters), %.1f MiB (sampled)",
                allocated / 1048576.0, sampledAlloc / 1048576.0));
        if (producedMiB > 0) {
            out.append(String.format(Locale.ROOT, "; per produced MiB: %.2f MiB (counters), %.2f MiB (sampled)",
                    allocated / 1048576.0 / producedMiB, sampledAlloc / 1048576.0 / producedMiB));
        }
        out.append("\n\ntop frames (share of CPU samples):\n");
        appendTop(out, topFrames, samples, top);
        out.append("\nfirst frame in ").append(own).append("* code (share of CPU samples):\n");
        appendTop(out, ownFrames, samples, top);
        out.append(String.format(Locale.ROOT, "%nthreads in native code (%d samples; mostly waiting in epoll or on a queue):%n",
                nativeSamples));
        appendTop(out, nativeFrames, nativeSamples, 8);
        out.append("\nallocation by class (share of sampled bytes):\n");
        long sampledTotal = Math.max(1, sampledAlloc);
        allocByClass.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(en -> out.append(String.format(Locale.ROOT, "  %5.1f%%  %s%n",
                        100.0 * en.getValue() / sampledTotal, en.getKey())));
        return out.toString();
    }

    private static void appendTop(StringBuilder out, Map<String, Integer> counts, int total, int top) {
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(en -> out.append(String.format(Locale.ROOT, "  %5.1f%%  %s%n",
                        100.0 * en.getValue() / Math.max(1, total), en.getKey())));
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
