package io.gregor.compat.clients;

import io.gregor.compat.BrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** librdkafka through Debian's python3-confluent-kafka: compat-tests/src/test/python/confluent_scenarios.py. */
class ConfluentKafkaPythonTest {
    @RegisterExtension
    static final BrokerExtension BROKER = BrokerExtension.shippedConfig();
    private static ScriptClient client;

    @BeforeAll
    static void findClient() {
        // Debian's interpreter: the python3 first on PATH may not see Debian's packages.
        client = ScriptClient.of("/usr/bin/python3", "python/confluent_scenarios.py");
    }

    @Test
    void producerWithDeliveryReports() {
        client.pass(BROKER.bootstrapServers(), "producer-delivery-reports", "ck");
    }

    @Test
    void consumerGroupCommitsAndResumes() {
        client.pass(BROKER.bootstrapServers(), "group-commit-resume", "ck");
    }

    @Test
    void rebalanceBetweenTwoMembers() {
        client.pass(BROKER.bootstrapServers(), "rebalance-two-members", "ck");
    }

    @Test
    void adminTopicsConfigsAndPartitions() {
        client.pass(BROKER.bootstrapServers(), "admin-topics-and-configs", "ck");
    }

    @Test
    void listAndDescribeGroups() {
        client.pass(BROKER.bootstrapServers(), "list-describe-groups", "ck");
    }

    @Test
    void transactionalProducer() {
        client.pass(BROKER.bootstrapServers(), "transactional-producer", "ck");
    }
}
