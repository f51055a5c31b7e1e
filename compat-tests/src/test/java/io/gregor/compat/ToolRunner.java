package io.gregor.compat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a stock Kafka tool's main class (or any other program) in a subprocess with a timeout and
 * captures what a user would see: stdout, stderr and the exit code. Output goes to files under
 * target/compat-logs so a failing run can be read afterwards.
 */
final class ToolRunner {
    static final String CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
    static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    static final String DUMP_LOG_SEGMENTS = "org.apache.kafka.tools.DumpLogSegments";
    static final String TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
    static final String CONFIG_COMMAND = "org.apache.kafka.tools.ConfigCommand";
    static final String GET_OFFSET_SHELL = "org.apache.kafka.tools.GetOffsetShell";
    static final String CONSUMER_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        List<String> stdoutLines() {
            return stdout.lines().filter(l -> !l.isBlank()).toList();
        }

        /** For assertion messages: everything needed to understand a failed tool run. */
        String describe() {
            return "command: " + String.join(" ", command.stream()
                    .map(a -> a.length() > 200 ? a.substring(0, 60) + "...(" + a.length() + " chars)" : a).toList())
                    + "\nexit code: " + exitCode + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private ToolRunner() {
    }

    static Result runTool(String mainClass, String... args) {
        return run(JavaProcesses.command(mainClass, List.of(), List.of(args)), null, DEFAULT_TIMEOUT);
    }

    static Result runToolWithInput(String mainClass, String stdin, String... args) {
        return run(JavaProcesses.command(mainClass, List.of(), List.of(args)), stdin, DEFAULT_TIMEOUT);
    }

    /**
     * Runs independent tool invocations at once and returns their results in order: each is a JVM of its own whose
     * startup dominates its time, so read-only runs that do not depend on one another need not wait in line.
     */
    @SafeVarargs
    static List<Result> concurrently(java.util.function.Supplier<Result>... runs) {
        return Concurrently.run(List.of(runs));
    }

    /** Starts a tool that runs until killed (a console consumer in a group); output goes to log files. */
    static Process startTool(String mainClass, String... args) {
        List<String> command = JavaProcesses.command(mainClass, List.of(), List.of(args));
        String name = simpleName(command);
        try {
            return new ProcessBuilder(command)
                    .redirectOutput(TestDirs.newLogFile(name + "-stdout").toFile())
                    .redirectError(TestDirs.newLogFile(name + "-stderr").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code command}, feeding {@code stdin} (then closing it) if non-null; kills it after {@code timeout}. */
    static Result run(List<String> command, String stdin, Duration timeout) {
        String name = simpleName(command);
        Path out = TestDirs.newLogFile(name + "-stdout");
        Path err = TestDirs.newLogFile(name + "-stderr");
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        }
        try {
            Process p = pb.start();
            if (stdin != null) {
                try (OutputStream os = p.getOutputStream()) {
                    os.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("timed out after " + timeout + "\n"
                        + new Result(command, -1, Files.readString(out), Files.readString(err)).describe());
            }
            return new Result(command, p.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    private static java.io.File nullDevice() {
        return new java.io.File("/dev/null");
    }

    private static String simpleName(List<String> command) {
        for (String arg : command) {
            if (arg.startsWith("org.apache.kafka.") || arg.startsWith("io.gregor.")) {
                return arg.substring(arg.lastIndexOf('.') + 1);
            }
        }
        return Path.of(command.get(0)).getFileName().toString();
    }
}
