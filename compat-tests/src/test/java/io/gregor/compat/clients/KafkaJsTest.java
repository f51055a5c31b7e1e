package io.gregor.compat.clients;

import io.gregor.compat.BrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** kafkajs (pure JavaScript, from the committed lock file): compat-tests/src/test/js/scenarios.js. */
class KafkaJsTest {
    @RegisterExtension
    static final BrokerExtension BROKER = BrokerExtension.shippedConfig();
    private static ScriptClient client;

    @BeforeAll
    static void findClient() {
        client = ScriptClient.of("/usr/bin/node", "js/scenarios.js");
        assertThat(client.script().resolveSibling("node_modules/kafkajs/package.json"))
                .as("kafkajs is required: run .ci/install-clients (npm ci)").isRegularFile();
    }

    @Test
    void producerPlainAndIdempotent() {
        client.pass(BROKER.bootstrapServers(), "produce", "js");
    }

    @Test
    void consumerGroupCommitsAndResumes() {
        client.pass(BROKER.bootstrapServers(), "group-commit-resume", "js");
    }

    @Test
    void adminCreatesListsDescribesAndDeletesTopics() {
        client.pass(BROKER.bootstrapServers(), "admin-topics", "js");
    }

    @Test
    void listAndDescribeGroups() {
        client.pass(BROKER.bootstrapServers(), "list-describe-groups", "js");
    }

    @Test
    void transactionsWithOffsetsCommitAndAbort() {
        client.pass(BROKER.bootstrapServers(), "transactions", "js");
    }
}
