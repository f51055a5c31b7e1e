package io.gregor.compat.clients;

import io.gregor.broker.Broker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** kafkajs (pure JavaScript, from the committed lock file): compat-tests/src/test/js/scenarios.js. */
class KafkaJsTest {
    @TempDir
    static Path dataDir;
    private static Broker broker;
    private static ScriptClient client;

    @BeforeAll
    static void startBroker() {
        client = ScriptClient.of("/usr/bin/node", "js/scenarios.js");
        assertThat(client.script().resolveSibling("node_modules/kafkajs/package.json"))
                .as("kafkajs is required: run .ci/install-clients (npm ci)").isRegularFile();
        broker = GregorUnderTest.start(dataDir);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void producerPlainAndIdempotent() {
        client.pass(broker.bootstrapServers(), "produce", "js");
    }

    @Test
    void consumerGroupCommitsAndResumes() {
        client.pass(broker.bootstrapServers(), "group-commit-resume", "js");
    }

    @Test
    void adminCreatesListsDescribesAndDeletesTopics() {
        client.pass(broker.bootstrapServers(), "admin-topics", "js");
    }

    @Test
    void listAndDescribeGroups() {
        client.pass(broker.bootstrapServers(), "list-describe-groups", "js");
    }
}
