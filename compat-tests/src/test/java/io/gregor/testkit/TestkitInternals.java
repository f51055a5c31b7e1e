package io.gregor.testkit;

import io.gregor.broker.Broker;

/**
 * The compatibility suite's way to a testkit node's running {@link Broker} (for its test hooks: fault
 * injector, request trace, control endpoint), kept out of the testkit's public API: applications get
 * these through {@link GregorCluster#faults()} and {@link GregorCluster#trace()}.
 */
public final class TestkitInternals {
    private TestkitInternals() {
    }

    /** The node's running broker; null while it is stopped. */
    public static Broker broker(GregorNode node) {
        return node.broker();
    }
}
