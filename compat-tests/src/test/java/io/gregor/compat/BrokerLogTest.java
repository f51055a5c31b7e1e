package io.gregor.compat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker process's own log: Kafka-style lines on stdout ({@code yyyy-MM-dd HH:mm:ss,SSS [thread] LEVEL
 * Logger - message}) in local time, and levels set with {@code -Dgregor.log.level[.LOGGER]}.
 */
class BrokerLogTest {
    private static final Pattern LINE = Pattern.compile(
            "^(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2},\\d{3}) \\[([^\\]]+)] (TRACE|DEBUG|INFO|WARN|ERROR) (\\S+) - (.*)$");

    @Test
    void linesCarryLocalTimeThreadLevelAndLoggerLikeKafkasServerLog() throws Exception {
        LocalDateTime before = LocalDateTime.now().withNano(0);
        List<String> lines = runBroker("log-format", List.of());
        LocalDateTime after = LocalDateTime.now();

        assertThat(lines).as("every line is a log line").allMatch(l -> LINE.matcher(l).matches());
        Matcher started = lines.stream().map(LINE::matcher).filter(Matcher::matches)
                .filter(m -> m.group(5).startsWith("Gregor broker 0 started in")).findFirst().orElseThrow();
        assertThat(started.group(2)).isEqualTo("main");
        assertThat(started.group(3)).isEqualTo("INFO");
        assertThat(started.group(4)).isEqualTo("Broker");
        LocalDateTime stamp = LocalDateTime.parse(started.group(1),
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS"));
        assertThat(stamp).isBetween(before, after);
        assertThat(lines).anyMatch(l -> l.contains("INFO FileLogManager - Loaded 0 logs"));
    }

    @Test
    void levelsAreSetPerLoggerWithTheLongestPrefixWinning() throws Exception {
        List<String> lines = runBroker("log-levels",
                List.of("-Dgregor.log.level=warn", "-Dgregor.log.level.io.gregor.broker.Broker=info"));

        assertThat(lines).anyMatch(l -> l.contains("INFO Broker - Gregor broker 0 started in"));
        assertThat(lines).as("root at WARN silences the other INFO lines")
                .noneMatch(l -> l.contains("INFO FileLogManager") || l.contains("INFO LocalMetadataStore"));
        assertThat(lines).as("no SLF4J notices").noneMatch(l -> l.startsWith("SLF4J"));
    }

    /** Starts the broker, waits until it listens, stops it with SIGTERM and returns all it printed. */
    private static List<String> runBroker(String name, List<String> jvmArgs) throws IOException, InterruptedException {
        Path dir = TestDirs.newDataDir(name);
        Path output = TestDirs.newLogFile("broker-" + name);
        Path config = Path.of("..", "config", "server.properties").toAbsolutePath().normalize();
        Process p = new ProcessBuilder(JavaProcesses.command("io.gregor.broker.GregorMain", jvmArgs,
                List.of(config.toString(), "--override", "log.dirs=" + dir,
                        "--override", "listeners=PLAINTEXT://127.0.0.1:0")))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            await("broker listens").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || Files.readString(output).contains("listening on"));
            assertThat(p.isAlive()).as(Files.readString(output)).isTrue();
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        return Files.readAllLines(output);
    }
}
