package io.gregor.compat.clients;

import io.gregor.compat.BrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

/**
 * librdkafka (python3-confluent-kafka) through faults injected over the broker's HTTP control endpoint
 * with Python's urllib: compat-tests/src/test/python/confluent_faults.py.
 */
class ConfluentKafkaFaultsTest {
    @RegisterExtension
    static final BrokerExtension BROKER = BrokerExtension.withControlEndpoint();
    private static ScriptClient client;

    @BeforeAll
    static void findClient() {
        client = ScriptClient.of("/usr/bin/python3", "python/confluent_faults.py");
    }

    private Map<String, String> control() {
        return Map.of("GREGOR_CONTROL", BROKER.controlEndpoint());
    }

    @Test
    void idempotentProducerRetriesThroughInjectedNotLeader() {
        client.pass(BROKER.bootstrapServers(), "produce-through-not-leader", "ckf", control());
    }

    @Test
    void consumerWaitsOutADelayedFetch() {
        client.pass(BROKER.bootstrapServers(), "delayed-fetch", "ckf", control());
    }

    @Test
    void badFaultsGetJsonErrors() {
        client.pass(BROKER.bootstrapServers(), "bad-faults", "ckf", control());
    }
}
