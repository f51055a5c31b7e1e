package io.gregor.compat.clients;

import io.gregor.compat.BrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** kafka-python (pure Python, Debian's python3-kafka): compat-tests/src/test/python/kafka_python_scenarios.py. */
class KafkaPythonTest {
    @RegisterExtension
    static final BrokerExtension BROKER = BrokerExtension.shippedConfig();
    private static ScriptClient client;

    @BeforeAll
    static void findClient() {
        // Debian's interpreter: the python3 first on PATH may not see Debian's packages.
        client = ScriptClient.of("/usr/bin/python3", "python/kafka_python_scenarios.py");
    }

    @Test
    void producer() {
        client.pass(BROKER.bootstrapServers(), "produce", "kp");
    }

    @Test
    void consumerGroupCommitsAndResumes() {
        client.pass(BROKER.bootstrapServers(), "group-commit-resume", "kp");
    }

    @Test
    void adminCreatesListsAndDeletesTopics() {
        client.pass(BROKER.bootstrapServers(), "admin-topics", "kp");
    }

    @Test
    void listAndDescribeGroups() {
        client.pass(BROKER.bootstrapServers(), "list-describe-groups", "kp");
    }
}
