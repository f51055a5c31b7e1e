package io.gregor.compat;

import org.junit.jupiter.api.Test;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

    @Test
    void theWireTraceSettingLogsEveryAnswerOnOneLineAndTheStartLineNamesTheControlEndpoint() throws Exception {
        List<String> lines = runBroker("wire-trace", List.of(),
                List.of("gregor.wire.trace.enable=true", "gregor.http.listener=127.0.0.1:0"), output -> {
                    String log = Files.readString(output);
                    Matcher kafka = Pattern.compile("listening on PLAINTEXT://127.0.0.1:(\\d+)").matcher(log);
                    Matcher http = Pattern.compile("HTTP listener http://127.0.0.1:(\\d+)").matcher(log);
                    assertThat(kafka.find()).as(log).isTrue();
                    assertThat(http.find()).as(log).isTrue();
                    try (Admin admin = Clients.admin("127.0.0.1:" + kafka.group(1))) {
                        Clients.get(admin.describeCluster(new DescribeClusterOptions()).nodes());
                    }
                    HttpResponse<String> trace = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + http.group(1) + "/trace")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(trace.statusCode()).isEqualTo(200);
                    assertThat(trace.body()).contains("\"api\":\"DESCRIBE_CLUSTER\"");
                    await("the trace line is written").atMost(Duration.ofSeconds(30))
                            .until(() -> Files.readString(output).contains("DESCRIBE_CLUSTER"));
                });
        assertThat(lines).as("every line is a log line").allMatch(l -> LINE.matcher(l).matches());
        assertThat(lines).anyMatch(l -> l.matches(".* INFO trace - .* broker 0 DESCRIBE_CLUSTER v\\d+ correlation \\d+ client adminclient-\\d+ .*"
                + "\\| request: .*\\| response: .*"));
    }

    /** Starts the broker, waits until it listens, stops it with SIGTERM and returns all it printed. */
    private static List<String> runBroker(String name, List<String> jvmArgs) throws Exception {
        return runBroker(name, jvmArgs, List.of(), output -> { });
    }

    interface WhileRunning {
        void run(Path output) throws Exception;
    }

    private static List<String> runBroker(String name, List<String> jvmArgs, List<String> overrides, WhileRunning whileRunning)
            throws Exception {
        Path dir = TestDirs.newDataDir(name);
        Path output = TestDirs.newLogFile("broker-" + name);
        Path config = Path.of("..", "config", "server.properties").toAbsolutePath().normalize();
        List<String> args = new java.util.ArrayList<>(List.of(config.toString(), "--override", "log.dirs=" + dir,
                "--override", "listeners=PLAINTEXT://127.0.0.1:0"));
        for (String override : overrides) {
            args.add("--override");
            args.add(override);
        }
        Process p = new ProcessBuilder(JavaProcesses.command("io.gregor.broker.GregorMain", jvmArgs, args))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            await("broker listens").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || Files.readString(output).contains("listening on"));
            assertThat(p.isAlive()).as(Files.readString(output)).isTrue();
            whileRunning.run(output);
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        return Files.readAllLines(output);
    }
}
