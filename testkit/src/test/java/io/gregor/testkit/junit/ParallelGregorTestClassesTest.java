package io.gregor.testkit.junit;

import io.gregor.testkit.GregorCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Two {@code @GregorTest} classes run at the same time in this JVM (JUnit's parallel execution), each with its
 * own cluster: both wait at a barrier while their clusters run, which only passes if they overlap.
 */
class ParallelGregorTestClassesTest {
    /** The fixtures below wait for each other: they run only when launched from here. */
    private static volatile boolean launchedByTheTest;

    static boolean launchedByTheTest() {
        return launchedByTheTest;
    }
    private static final CyclicBarrier BOTH_RUNNING = new CyclicBarrier(2);
    private static final Map<String, String> BOOTSTRAP_BY_CLASS = new ConcurrentHashMap<>();

    @Test
    void twoGregorTestClassesRunInParallelEachWithItsOwnCluster() {
        launchedByTheTest = true;
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(First.class), selectClass(Second.class))
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.mode.classes.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
                .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "2")
                .build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        try {
            LauncherFactory.create().execute(request, listener);
        } finally {
            launchedByTheTest = false;
        }
        TestExecutionSummary summary = listener.getSummary();
        StringWriter failures = new StringWriter();
        summary.printFailuresTo(new PrintWriter(failures), 30);

        assertThat(summary.getTotalFailureCount()).as(failures.toString()).isZero();
        assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
        assertThat(BOOTSTRAP_BY_CLASS).hasSize(2);
        assertThat(BOOTSTRAP_BY_CLASS.get("First")).isNotEqualTo(BOOTSTRAP_BY_CLASS.get("Second"));
    }

    /** Creates its own topic, meets the other class while both clusters run, and sees only its own topic. */
    static void ownClusterWhileTheOtherRuns(String name, GregorCluster cluster) throws Exception {
        BOOTSTRAP_BY_CLASS.put(name, cluster.bootstrapServers());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("topic-of-" + name, 1, (short) 1))).all().get();
            BOTH_RUNNING.await(60, TimeUnit.SECONDS);
            assertThat(admin.listTopics().names().get()).containsExactly("topic-of-" + name);
        }
    }

    @GregorTest
    @EnabledIf("io.gregor.testkit.junit.ParallelGregorTestClassesTest#launchedByTheTest")
    static class First {
        @Test
        void test(GregorCluster cluster) throws Exception {
            ownClusterWhileTheOtherRuns("First", cluster);
        }
    }

    @GregorTest
    @EnabledIf("io.gregor.testkit.junit.ParallelGregorTestClassesTest#launchedByTheTest")
    static class Second {
        @Test
        void test(GregorCluster cluster) throws Exception {
            ownClusterWhileTheOtherRuns("Second", cluster);
        }
    }
}
