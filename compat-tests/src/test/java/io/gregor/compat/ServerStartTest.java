package io.gregor.compat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** What a user sees when the server start command is given a bad configuration: a message naming the key. */
class ServerStartTest {
    private static final String MAIN = "io.gregor.broker.GregorMain";

    private static Path shippedConfig() {
        Path file = Path.of("..", "config", "server.properties").toAbsolutePath().normalize();
        assertThat(file).as("the shipped config/server.properties").exists();
        return file;
    }

    @Test
    void invalidValueFailsAtStartNamingTheKey() {
        Path dir = TestDirs.newDataDir("bad-config");
        ToolRunner.Result result = ToolRunner.runTool(MAIN, shippedConfig().toString(),
                "--override", "log.dirs=" + dir, "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--override", "num.partitions=many");
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stderr()).as(result.describe()).contains("num.partitions").contains("many");
    }

    @Test
    void unsupportedListenerProtocolFailsAtStartNamingTheKey() {
        Path dir = TestDirs.newDataDir("bad-listener");
        ToolRunner.Result result = ToolRunner.runTool(MAIN, shippedConfig().toString(),
                "--override", "log.dirs=" + dir, "--override", "listeners=SSL://127.0.0.1:0");
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stderr()).as(result.describe()).contains("listeners");
    }

    @Test
    void unusableLogDirFailsAtStartNamingTheKey() throws IOException {
        Path notADir = Files.createTempFile(TestDirs.target(), "plain-file", ".txt");
        ToolRunner.Result result = ToolRunner.runTool(MAIN, shippedConfig().toString(),
                "--override", "log.dirs=" + notADir.resolve("data"), "--override", "listeners=PLAINTEXT://127.0.0.1:0");
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        assertThat(result.stderr()).as(result.describe()).contains("log.dirs");
    }

    @Test
    void malformedOverrideAndMissingFileAreExplained() throws IOException {
        ToolRunner.Result noValue = ToolRunner.runTool(MAIN, shippedConfig().toString(), "--override", "num.partitions");
        assertThat(noValue.exitCode()).as(noValue.describe()).isNotZero();
        assertThat(noValue.stderr()).as(noValue.describe()).contains("num.partitions");

        Path missing = Files.createTempDirectory(TestDirs.target(), "empty").resolve("server.properties");
        ToolRunner.Result noFile = ToolRunner.runTool(MAIN, missing.toString());
        assertThat(noFile.exitCode()).as(noFile.describe()).isNotZero();
        assertThat(noFile.stderr()).as(noFile.describe()).contains(missing.toString());
    }
}
