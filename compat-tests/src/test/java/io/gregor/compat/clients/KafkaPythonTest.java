package io.gregor.compat.clients;

import io.gregor.broker.Broker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** kafka-python (pure Python, Debian's python3-kafka): compat-tests/src/test/python/kafka_python_scenarios.py. */
class KafkaPythonTest {
    @TempDir
    static Path dataDir;
    private static Broker broker;
    private static ScriptClient client;

    @BeforeAll
    static void startBroker() {
        // Debian's interpreter: the python3 first on PATH may not see Debian's packages.
        client = ScriptClient.of("/usr/bin/python3", "python/kafka_python_scenarios.py");
        broker = GregorUnderTest.start(dataDir);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void producer() {
        client.pass(broker.bootstrapServers(), "produce", "kp");
    }

    @Test
    void consumerGroupCommitsAndResumes() {
        client.pass(broker.bootstrapServers(), "group-commit-resume", "kp");
    }

    @Test
    void adminCreatesListsAndDeletesTopics() {
        client.pass(broker.bootstrapServers(), "admin-topics", "kp");
    }

    @Test
    void listAndDescribeGroups() {
        client.pass(broker.bootstrapServers(), "list-describe-groups", "kp");
    }
}
