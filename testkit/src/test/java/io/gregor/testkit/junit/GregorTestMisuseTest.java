package io.gregor.testkit.junit;

import io.gregor.testkit.GregorCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/** A mistyped @GregorTest fails its class with a message naming the mistake, before any test runs. */
class GregorTestMisuseTest {
    /** The fixtures below fail on purpose: only when launched from here (not by a class path scan). */
    private static volatile boolean launchedByTheTest;

    static boolean launchedByTheTest() {
        return launchedByTheTest;
    }

    @Test
    void propertyWithoutValueIsNamed() {
        assertThat(failureOf(WithoutValue.class)).contains("key=value", "num.partitions");
    }

    @Test
    void unknownBrokerKeyIsNamed() {
        assertThat(failureOf(UnknownKey.class)).contains("Not a broker property: num.partitons");
    }

    private static String failureOf(Class<?> testClass) {
        launchedByTheTest = true;
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        try {
            LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass))
                    .build(), listener);
        } finally {
            launchedByTheTest = false;
        }
        TestExecutionSummary summary = listener.getSummary();
        assertThat(summary.getTestsSucceededCount()).isZero();
        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        assertThat(failures).hasSize(1);
        return failures.get(0).getException().toString();
    }

    @GregorTest(properties = "num.partitions")
    @EnabledIf("io.gregor.testkit.junit.GregorTestMisuseTest#launchedByTheTest")
    static class WithoutValue {
        @Test
        void test(GregorCluster cluster) {
        }
    }

    @GregorTest(properties = "num.partitons=3")
    @EnabledIf("io.gregor.testkit.junit.GregorTestMisuseTest#launchedByTheTest")
    static class UnknownKey {
        @Test
        void test(GregorCluster cluster) {
        }
    }
}
