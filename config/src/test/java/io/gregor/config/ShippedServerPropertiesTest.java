package io.gregor.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The server.properties shipped in the module folder loads and says what its comments promise. */
class ShippedServerPropertiesTest {
    // Surefire runs with the module directory as working directory and sets basedir to it.
    private static final Path FILE = Path.of(System.getProperty("basedir", "."), "server.properties");

    @Test
    void shippedFileLoads() {
        assertThat(Files.isRegularFile(FILE)).as(FILE.toAbsolutePath().toString()).isTrue();
        BrokerConfig config = BrokerConfig.load(FILE, List.of());
        assertThat(config.unknownKeys()).isEmpty();
        assertThat(config.brokerId()).isZero();
        assertThat(config.listeners()).containsExactly(new Endpoint("PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092));
        assertThat(config.advertisedListeners()).isEqualTo(config.listeners());
        assertThat(config.logDirs()).containsExactly(Path.of("/tmp/gregor-logs"));
        assertThat(config.numPartitions()).isEqualTo(1);
        assertThat(config.offsetsTopicReplicationFactor()).isEqualTo((short) 1);
        assertThat(config.transactionStateLogReplicationFactor()).isEqualTo((short) 1);
        assertThat(config.transactionStateLogMinIsr()).isEqualTo(1);
        assertThat(config.logRetentionMs()).isEqualTo(168L * 3_600_000L);
        assertThat(config.zookeeperConnect()).isEmpty();
    }

    @Test
    void shippedFileTakesOverrides() {
        BrokerConfig config = BrokerConfig.load(FILE, List.of("listeners=PLAINTEXT://127.0.0.1:0", "log.dirs=/tmp/x"));
        assertThat(config.listeners().get(0).port()).isZero();
        assertThat(config.logDirs()).containsExactly(Path.of("/tmp/x"));
    }
}
