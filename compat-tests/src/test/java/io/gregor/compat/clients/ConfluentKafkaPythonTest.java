package io.gregor.compat.clients;

import io.gregor.broker.Broker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** librdkafka through Debian's python3-confluent-kafka: compat-tests/src/test/python/confluent_scenarios.py. */
class ConfluentKafkaPythonTest {
    @TempDir
    static Path dataDir;
    private static Broker broker;
    private static ScriptClient client;

    @BeforeAll
    static void startBroker() {
        // Debian's interpreter: the python3 first on PATH may not see Debian's packages.
        client = ScriptClient.of("/usr/bin/python3", "python/confluent_scenarios.py");
        broker = GregorUnderTest.start(dataDir);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void producerWithDeliveryReports() {
        client.pass(broker.bootstrapServers(), "producer-delivery-reports", "ck");
    }

    @Test
    void consumerGroupCommitsAndResumes() {
        client.pass(broker.bootstrapServers(), "group-commit-resume", "ck");
    }

    @Test
    void rebalanceBetweenTwoMembers() {
        client.pass(broker.bootstrapServers(), "rebalance-two-members", "ck");
    }

    @Test
    void adminTopicsConfigsAndPartitions() {
        client.pass(broker.bootstrapServers(), "admin-topics-and-configs", "ck");
    }

    @Test
    void listAndDescribeGroups() {
        client.pass(broker.bootstrapServers(), "list-describe-groups", "ck");
    }
}
