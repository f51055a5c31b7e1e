package io.gregor.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Runs one of Kafka's tools (or our helper) as its own JVM and collects what it prints. */
final class ToolRunner {
    private final String classpath;
    private final Path logDir;
    private final Affinity affinity;

    ToolRunner(String classpath, Path logDir, Affinity affinity) {
        this.classpath = classpath;
        this.logDir = logDir;
        this.affinity = affinity;
    }

    /** What a tool printed (stdout and stderr interleaved) and how it ended. */
    record Output(int exitCode, boolean timedOut, List<String> lines, Path logFile) {
        String text() {
            return String.join("\n", lines);
        }
    }

    /**
     * Runs {@code mainClass args}; gives up after {@code timeoutSec}. When a printed line matches
     * {@code done}, the tool has printed all we need: it gets a few seconds to exit and is then stopped
     * (EndToEndLatency ends with a commitSync that a broker without consumer groups never answers).
     */
    Output run(String name, String mainClass, List<String> args, long timeoutSec, Predicate<String> done)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("java", "-Xmx512m", "-XX:+UseG1GC",
                "-Dlog4j2.level=WARN", "-cp", classpath, mainClass));
        cmd.addAll(args);
        Path logFile = logDir.resolve(name + ".out");
        Process p = new ProcessBuilder(affinity.tool(cmd)).redirectErrorStream(true).start();
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch doneSeen = new CountDownLatch(1);
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 PrintWriter w = new PrintWriter(Files.newBufferedWriter(logFile))) {
                w.println("$ " + String.join(" ", cmd.subList(cmd.indexOf(mainClass), cmd.size())));
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                    w.println(line);
                    if (done != null && done.test(line)) {
                        doneSeen.countDown();
                    }
                }
            } catch (IOException e) {
                lines.add("(output lost: " + e + ")");
            }
        }, name + "-output");
        pump.setDaemon(true);
        pump.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);
        boolean exited = false;
        boolean timedOut = false;
        while (!exited) {
            if (doneSeen.await(100, TimeUnit.MILLISECONDS)) {
                exited = p.waitFor(5, TimeUnit.SECONDS);
                break;
            }
            exited = p.waitFor(0, TimeUnit.MILLISECONDS);
            if (!exited && System.nanoTime() > deadline) {
                timedOut = true;
                break;
            }
        }
        if (!exited) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        pump.join(5000);
        return new Output(p.exitValue(), timedOut, List.copyOf(lines), logFile);
    }
}
