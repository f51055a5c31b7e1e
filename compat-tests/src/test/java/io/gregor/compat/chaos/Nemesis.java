package io.gregor.compat.chaos;

import io.gregor.compat.BrokerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;
import org.awaitility.core.ConditionTimeoutException;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.awaitility.Awaitility.await;

/**
 * Applies one fault at a time to one broker, heals it, and waits for the cluster to be whole again (all
 * brokers registered, every partition fully in sync) before the next. Targets alternate between the leader
 * of a data partition, the controller and a random broker, so leaders, coordinators and the controller all
 * move under load.
 */
final class Nemesis {
    enum Fault {
        /** SIGKILL, down for a few seconds, start again. */
        KILL,
        /** SIGSTOP past the ZooKeeper session timeout and replica lag time, then SIGCONT. */
        PAUSE,
        /** SIGTERM (controlled shutdown) and start again. */
        RESTART,
        /** The broker's ZooKeeper connections dropped and refused past the session timeout, then allowed again. */
        ZK_ISOLATE
    }

    static final Duration HEAL_TIMEOUT = Duration.ofSeconds(120);
    private static final long PAST_SESSION_MS = ChaosCluster.ZK_SESSION_TIMEOUT_MS + 4_000;

    private final ChaosCluster cluster;
    private final List<Fault> faults;
    private final String topic;
    private final History history;
    private final PrintStream out;
    private final Random random;
    private final List<String> healFailures = new ArrayList<>();
    private final Map<Fault, Integer> done = new EnumMap<>(Fault.class);

    Nemesis(ChaosCluster cluster, List<Fault> faults, String topic, History history, PrintStream out, long seed) {
        this.cluster = cluster;
        this.faults = faults;
        this.topic = topic;
        this.history = history;
        this.out = out;
        this.random = new Random(seed);
    }

    /** Runs faults until {@code duration} has passed (the fault under way is always healed). */
    void run(Duration duration, Duration quiet) {
        long end = System.nanoTime() + duration.toNanos();
        int round = 0;
        try (Admin admin = cluster.admin()) {
            while (System.nanoTime() < end) {
                Fault fault = faults.get(round % faults.size());
                int target = target(admin, round);
                round++;
                long faultStart = history.nowMs();
                apply(fault, target);
                done.merge(fault, 1, Integer::sum);
                awaitHealed(admin, fault + " of broker " + target);
                history.faultWindows.add(new long[] {faultStart, history.nowMs()});
                pause(quiet.toMillis());
            }
        }
    }

    private int target(Admin admin, int round) {
        try {
            switch (round % 3) {
                case 0 -> {
                    var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
                            .get(topic).partitions();
                    Node leader = partitions.get(round % partitions.size()).leader();
                    if (leader != null) {
                        return leader.id();
                    }
                }
                case 1 -> {
                    Node controller = admin.describeCluster().controller().get(10, TimeUnit.SECONDS);
                    if (controller != null && controller.id() >= 1) {
                        return controller.id();
                    }
                }
                default -> {
                }
            }
        } catch (Exception e) {
            // no metadata right now: any broker will do
        }
        return 1 + random.nextInt(ChaosCluster.SIZE);
    }

    private void apply(Fault fault, int id) {
        BrokerProcess broker = cluster.broker(id);
        switch (fault) {
            case KILL -> {
                event("SIGKILL broker " + id);
                broker.kill();
                pause(2_000 + random.nextInt(3_000));
                broker.start();
                event("broker " + id + " started again after SIGKILL");
            }
            case PAUSE -> {
                event("SIGSTOP broker " + id + " for " + PAST_SESSION_MS + " ms");
                broker.pause();
                pause(PAST_SESSION_MS);
                broker.resume();
                event("SIGCONT broker " + id);
            }
            case RESTART -> {
                event("SIGTERM broker " + id);
                int code = broker.stop();
                broker.start();
                event("broker " + id + " exited with " + code + " and started again");
            }
            case ZK_ISOLATE -> {
                event("cut broker " + id + " off from ZooKeeper for " + PAST_SESSION_MS + " ms");
                cluster.proxy(id).cut();
                pause(PAST_SESSION_MS);
                cluster.proxy(id).heal();
                event("broker " + id + " reaches ZooKeeper again");
            }
        }
    }

    void awaitHealed(Admin admin, String after) {
        long start = history.nowMs();
        String[] problem = {null};
        try {
            await().atMost(HEAL_TIMEOUT).pollInterval(Duration.ofMillis(500))
                    .until(() -> (problem[0] = cluster.unhealthy(admin, List.of(topic))) == null);
            event("healed (" + (history.nowMs() - start) + " ms)");
        } catch (ConditionTimeoutException e) {
            String failure = "not healed " + HEAL_TIMEOUT.toSeconds() + " s after " + after + ": " + problem[0];
            healFailures.add("at +" + history.nowMs() / 1000 + " s " + failure);
            event(failure);
        }
    }

    private void event(String what) {
        history.events.add(new History.Event(history.nowMs(), what));
        out.println(history.stamp() + " nemesis: " + what);
        out.flush();
    }

    List<String> healFailures() {
        return healFailures;
    }

    Map<Fault, Integer> done() {
        return done;
    }

    /** The nemesis's own schedule (fault durations), not a wait for anything. */
    private static void pause(long millis) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
    }
}
