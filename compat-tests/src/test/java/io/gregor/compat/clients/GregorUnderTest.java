package io.gregor.compat.clients;

import io.gregor.broker.Broker;
import io.gregor.config.BrokerConfig;

import java.nio.file.Path;
import java.util.List;

/** One in-process broker per test class, configured by the shipped server.properties (Gregor's defaults). */
final class GregorUnderTest {
    private GregorUnderTest() {
    }

    static Broker start(Path dataDir) {
        Path moduleDir = Path.of(System.getProperty("basedir", "."));
        Path serverProperties = moduleDir.resolve("../config/server.properties").normalize();
        return Broker.start(BrokerConfig.load(serverProperties, List.of(
                "log.dirs=" + dataDir,
                "listeners=PLAINTEXT://127.0.0.1:0")));
    }
}
