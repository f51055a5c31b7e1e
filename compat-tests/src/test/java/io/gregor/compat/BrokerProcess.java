package io.gregor.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * A Gregor broker in its own JVM ({@code io.gregor.broker.GregorMain server.properties --override ...}),
 * for tests that need real process death: {@link #stop()} sends SIGTERM (clean shutdown),
 * {@link #kill()} sends SIGKILL. {@link #start()} after either brings it back on the same port and data dir.
 * All of its output across restarts is appended to one file under target/compat-logs.
 */
public final class BrokerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on PLAINTEXT://127\\.0\\.0\\.1:(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final Path root;
    private final Path configFile;
    private final Path logDir;
    private final Path output;
    private Process process;
    private int port;

    /** Writes server.properties (with {@code props} plus listeners and log.dirs) but does not start yet. */
    public BrokerProcess(String name, Map<String, String> props) {
        root = TestDirs.newDataDir(name);
        logDir = root.resolve("logs");
        configFile = root.resolve("server.properties");
        output = TestDirs.newLogFile("broker-" + name);
        Map<String, String> all = new TreeMap<>();
        all.put("listeners", "PLAINTEXT://127.0.0.1:0");
        all.put("log.dirs", logDir.toString());
        all.put("offsets.topic.replication.factor", "1");
        all.putAll(props);
        try (Writer w = Files.newBufferedWriter(configFile, StandardCharsets.UTF_8)) {
            for (Map.Entry<String, String> e : all.entrySet()) {
                w.write(e.getKey() + "=" + e.getValue() + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the JVM and waits for its "listening on" line; the first start picks a free port, later ones reuse it. */
    public BrokerProcess start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running");
        }
        List<String> args = new ArrayList<>();
        args.add(configFile.toString());
        if (port != 0) {
            args.add("--override");
            args.add("listeners=PLAINTEXT://127.0.0.1:" + port);
        }
        long outputStart = size(output);
        try {
            appendMarker("=== starting broker (port " + (port == 0 ? "ephemeral" : port) + ") ===");
            process = new ProcessBuilder(JavaProcesses.command("io.gregor.broker.GregorMain", List.of(), args))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process p = process;
        int[] found = new int[1];
        await("broker prints 'listening on PLAINTEXT://127.0.0.1:<port>'").atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    Matcher m = LISTENING.matcher(readFrom(outputStart));
                    if (m.find()) {
                        found[0] = Integer.parseInt(m.group(1));
                        return true;
                    }
                    if (!p.isAlive()) {
                        throw new AssertionError("broker exited with " + p.exitValue() + " before listening:\n"
                                + readFrom(outputStart));
                    }
                    return false;
                });
        if (port != 0 && found[0] != port) {
            throw new AssertionError("broker restarted on port " + found[0] + " instead of " + port);
        }
        port = found[0];
        return this;
    }

    /** SIGTERM and wait: a clean shutdown. Returns the exit code. */
    public int stop() {
        return terminate(false);
    }

    /** SIGKILL and wait: the broker gets no chance to flush or write its clean-shutdown marker. */
    public int kill() {
        return terminate(true);
    }

    private int terminate(boolean forcibly) {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException("not started");
        }
        if (forcibly) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("broker did not exit within " + STOP_TIMEOUT + " of SIGTERM; killed it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
        appendMarker("=== broker exited with " + p.exitValue() + (forcibly ? " after SIGKILL" : " after SIGTERM")
                + " ===");
        return p.exitValue();
    }

    /** SIGSTOP: the JVM freezes (no fetches, no ZooKeeper heartbeats) but keeps its sockets and session for now. */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        Process p = process;
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + p.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
        appendMarker("=== SIG" + name + " ===");
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public int port() {
        return port;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public Path logDir() {
        return logDir;
    }

    public Path outputFile() {
        return output;
    }

    /** The running broker JVM's process id (to attach to it, as jconsole does). */
    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        TestDirs.deleteRecursively(root);
    }

    private void appendMarker(String line) {
        try {
            Files.writeString(output, line + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String readFrom(long offset) throws IOException {
        byte[] all = Files.readAllBytes(output);
        int from = (int) Math.min(offset, all.length);
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    private static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
