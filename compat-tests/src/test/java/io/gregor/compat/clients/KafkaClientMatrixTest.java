package io.gregor.compat.clients;

import io.gregor.compat.BrokerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same produce / consume / consumer group / admin scenario with kafka-clients 2.8 through the pinned
 * 4.x, each version in its own class loader (jars copied from Maven Central by the build into
 * {@code target/kafka-clients-matrix/<version>}). Steps of one version run in order and share a topic.
 */
class KafkaClientMatrixTest {
    private static final List<String> OLD_VERSIONS = List.of("2.8.2", "3.0.2", "3.6.2", "3.9.1");
    private static final List<String> STEPS = List.of("create-topic", "produce-keyed", "consume-assign",
            "group-commit-resume", "admin-list-describe-delete");

    @RegisterExtension
    static final BrokerExtension BROKER = BrokerExtension.shippedConfig();
    private static final List<URLClassLoader> loaders = new ArrayList<>();

    @AfterAll
    static void closeLoaders() throws IOException {
        for (URLClassLoader loader : loaders) {
            loader.close();
        }
    }

    @TestFactory
    Stream<DynamicContainer> everyClientVersionRunsTheScenario() throws IOException {
        List<String> versions = new ArrayList<>(OLD_VERSIONS);
        versions.add(JavaClientScenario.kafkaClientsVersion());
        return versions.stream().map(version -> {
            String suffix = version.replace('.', '-');
            Function<Map<String, String>, String> scenario = scenarioFor(version);
            Stream<DynamicTest> isolated = Stream.of(DynamicTest.dynamicTest("runs kafka-clients " + version,
                    () -> assertThat(scenario.apply(Map.of("step", "version"))).isEqualTo(version)));
            Stream<DynamicTest> steps = STEPS.stream().map(step -> DynamicTest.dynamicTest(step, () -> {
                String outcome = scenario.apply(Map.of("step", step, "bootstrap", BROKER.bootstrapServers(),
                        "topic", "matrix-" + suffix, "group", "matrix-group-" + suffix));
                System.out.println("kafka-clients " + version + " " + step + ": " + outcome);
            }));
            return DynamicContainer.dynamicContainer("kafka-clients " + version, Stream.concat(isolated, steps));
        });
    }

    @SuppressWarnings("unchecked")
    private static Function<Map<String, String>, String> scenarioFor(String version) {
        Path matrix = Path.of(System.getProperty("gregor.kafka.matrix.dir", "target/kafka-clients-matrix"));
        List<URL> urls = new ArrayList<>();
        try {
            urls.addAll(jars(matrix.resolve(version)));
            urls.addAll(jars(matrix.resolve("common")));
            urls.add(JavaClientScenario.class.getProtectionDomain().getCodeSource().getLocation());
            // The platform loader as parent: neither the pinned kafka-clients nor the broker leaks in.
            URLClassLoader loader = new URLClassLoader("kafka-clients-" + version, urls.toArray(URL[]::new),
                    ClassLoader.getPlatformClassLoader());
            loaders.add(loader);
            return (Function<Map<String, String>, String>) loader.loadClass(JavaClientScenario.class.getName())
                    .getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load the scenario for kafka-clients " + version, e);
        }
    }

    private static List<URL> jars(Path dir) {
        assertThat(dir).as("copied by mvn generate-test-resources").isDirectory();
        try (Stream<Path> files = Files.list(dir)) {
            List<URL> urls = new ArrayList<>();
            for (Path jar : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
                urls.add(jar.toUri().toURL());
            }
            return urls;
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
