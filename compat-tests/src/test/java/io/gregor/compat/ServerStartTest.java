package io.gregor.compat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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

    /**
     * The first {@code bin/gregor-server-start} of a fresh checkout builds the broker: it says so before the
     * long silence, and Maven's terminal colour codes stay out of what the user (or a log file) gets.
     */
    @Test
    void firstStartSaysItIsBuildingAndWritesNoTerminalEscapes() throws Exception {
        Path checkout = TestDirs.newDataDir("fresh-checkout");
        Path project = Path.of("..").toAbsolutePath().normalize();
        for (String module : List.of("config", "wire", "storage", "coordinator", "broker")) {
            copySources(project.resolve(module), checkout.resolve(module));
        }
        // Maven reads every module's pom of the reactor, also those the build does not compile
        String rootPom = Files.readString(project.resolve("pom.xml"));
        java.util.regex.Matcher modules = java.util.regex.Pattern.compile("<module>([^<]+)</module>").matcher(rootPom);
        List<String> poms = new java.util.ArrayList<>(List.of("pom.xml"));
        while (modules.find()) {
            poms.add(modules.group(1) + "/pom.xml");
        }
        for (String pom : poms) {
            if (!Files.exists(checkout.resolve(pom))) {
                Files.createDirectories(checkout.resolve(pom).getParent());
                Files.copy(project.resolve(pom), checkout.resolve(pom));
            }
        }
        copySources(project.resolve("bin"), checkout.resolve("bin"));
        Path script = checkout.resolve("bin/gregor-server-start");
        script.toFile().setExecutable(true);
        Path output = TestDirs.newLogFile("first-start");

        Process start = new ProcessBuilder(script.toString(), "--prepare").directory(checkout.toFile())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean exited = start.waitFor(5, TimeUnit.MINUTES);
        if (!exited) {
            start.destroyForcibly().waitFor();
        }
        String text = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(exited).as(text).isTrue();
        assertThat(start.exitValue()).as(text).isZero();
        assertThat(text).startsWith("Building Gregor (first start").doesNotContain("\u001b");
        assertThat(checkout.resolve("broker/target/gregor-cds.jsa")).as(text).exists();
        TestDirs.deleteRecursively(checkout);
    }

    /** The module's pom and src (or every file, for bin/), without build output. */
    private static void copySources(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            files.filter(f -> !from.relativize(f).startsWith("target")).forEach(f -> {
                try {
                    Path target = to.resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
