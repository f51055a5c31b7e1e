package io.gregor.compat.chaos;

import io.gregor.compat.TestDirs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * One chaos run: a 3-broker ZooKeeper cluster under the {@link Workload} while the {@link Nemesis} injects
 * faults for the given time; then everything is healed, writes stop, every partition is read in full with
 * read_committed and read_uncommitted, and the {@link Checker} goes over the history. Prints what it did
 * (each fault, with the time since the start) and what it found.
 */
final class ChaosRun {
    static final int PARTITIONS = 4;
    private static final Duration QUIET = Duration.ofSeconds(3);
    private static final Duration WARM_UP = Duration.ofSeconds(5);

    /** What a run did and found. */
    record Result(Checker checker, Map<Nemesis.Fault, Integer> faults, List<String> livenessFailures, History history) {
        boolean valid() {
            return checker.valid() && livenessFailures.isEmpty();
        }
    }

    private final Duration duration;
    private final List<Nemesis.Fault> faults;
    private final PrintStream out;
    private final long seed;

    ChaosRun(Duration duration, List<Nemesis.Fault> faults, PrintStream out, long seed) {
        this.duration = duration;
        this.faults = faults;
        this.out = out;
        this.seed = seed;
    }

    Result run() throws Exception {
        History history = new History();
        String topic = TestDirs.uniqueTopic("chaos");
        String group = TestDirs.uniqueTopic("chaos-group");
        say(history, "starting 3 brokers on ZooKeeper; nemesis for " + duration.toSeconds() + " s with faults " + faults
                + " (seed " + seed + ")");
        try (ChaosCluster cluster = new ChaosCluster().start()) {
            Nemesis nemesis = new Nemesis(cluster, faults, topic, history, out, seed);
            try (Admin admin = cluster.admin()) {
                awaitTrue(Duration.ofSeconds(60), () -> admin.describeCluster().nodes().get().size() == 3);
                admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 3)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
                nemesis.awaitHealed(admin, "topic creation");
            }
            Workload workload = new Workload(cluster.bootstrap(), topic, PARTITIONS, group, history);
            workload.start();
            say(history, "workload: " + Workload.IDEMPOTENT_PRODUCERS + " idempotent acks=all producers ("
                    + Workload.IDEMPOTENT_WRITES_PER_SECOND + " writes/s each), " + Workload.TRANSACTIONAL_PRODUCERS
                    + " transactional producers (" + Workload.TRANSACTIONS_PER_SECOND + " txns/s in all, 1 in 4 aborted), "
                    + Workload.CONSUMERS + " read_committed group consumers on topic " + topic + " (" + PARTITIONS
                    + " partitions, RF 3, min.insync.replicas 2)");
            LockSupport.parkNanos(WARM_UP.toNanos());
            nemesis.run(duration, QUIET);
            say(history, "nemesis done: " + nemesis.done() + "; the cluster is whole, writing on for " + WARM_UP.toSeconds()
                    + " s");
            LockSupport.parkNanos(WARM_UP.toNanos());
            say(history, "stopping writes (waiting for every write in flight to be answered)");
            workload.stopWriting();
            say(history, "writes stopped");
            List<String> liveness = new ArrayList<>(nemesis.healFailures());
            Map<Integer, Long> finalGroupOffsets;
            Map<Integer, List<Checker.LogEntry>> committedLog;
            Map<Integer, List<Checker.LogEntry>> uncommittedLog;
            Map<Integer, Map<Long, Checker.Writer>> writers;
            try (Admin admin = cluster.admin()) {
                // transactions a crashed producer left open end by timeout; then read_committed can read to the end
                if (!eventually(Duration.ofSeconds(90), () -> Workload.stableAndEndOffsets(admin, topic, PARTITIONS)
                        .values().stream().allMatch(o -> o[0] == o[1]))) {
                    liveness.add("a transaction stayed open 90 s after writes stopped: last stable offset below "
                            + "the end (read_committed/read_uncommitted latest offsets "
                            + describe(Workload.stableAndEndOffsets(admin, topic, PARTITIONS)) + ")");
                }
                say(history, "no transaction open; waiting for the group to commit up to the end offsets");
                Map<Integer, long[]> ends = Workload.stableAndEndOffsets(admin, topic, PARTITIONS);
                if (!eventually(Duration.ofSeconds(90), () -> {
                    Map<Integer, Long> offsets = groupOffsets(admin, group, topic);
                    return offsets.size() == PARTITIONS && offsets.entrySet().stream()
                            .allMatch(e -> e.getValue() >= ends.get(e.getKey())[0]);
                })) {
                    liveness.add("the group did not commit up to the last stable offsets " + describe(ends)
                            + " within 90 s: " + new TreeMap<>(groupOffsets(admin, group, topic)));
                }
                workload.stopReading();
                finalGroupOffsets = groupOffsets(admin, group, topic);
                say(history, "consumers stopped; reading every partition in full");
                committedLog = readAll(cluster.bootstrap(), topic, "read_committed");
                uncommittedLog = readAll(cluster.bootstrap(), topic, "read_uncommitted");
                writers = readWriters(cluster, topic);
            }
            Checker checker = new Checker(history, committedLog, uncommittedLog, finalGroupOffsets, writers);
            Result result = new Result(checker, nemesis.done(), liveness, history);
            report(result);
            return result;
        }
    }

    private void report(Result result) {
        out.println();
        out.println("=== chaos run: " + duration.toSeconds() + " s of faults ===");
        out.println("faults applied: " + result.faults());
        result.checker().facts().forEach(f -> out.println(f));
        if (!result.history().clientErrors.isEmpty()) {
            out.println("client errors seen (expected under faults): " + new TreeMap<>(result.history().clientErrors));
            new TreeMap<>(result.history().clientErrorSamples).forEach((k, v) -> out.println("  first " + k + " " + v));
        }
        if (result.livenessFailures().isEmpty()) {
            out.println("liveness: the cluster healed after every fault, no transaction hung, the group caught up");
        } else {
            result.livenessFailures().forEach(f -> out.println("LIVENESS: " + f));
        }
        if (result.checker().valid()) {
            out.println("checker: valid (no lost acknowledged write, no duplicate, no reordering, no aborted read, "
                    + "no committed offset going backwards)");
        } else {
            out.println("checker: INVALID");
            result.checker().findings().forEach(f -> out.println("  " + f));
        }
        out.flush();
    }

    private static Map<Integer, Long> groupOffsets(Admin admin, String group, String topic) throws Exception {
        Map<Integer, Long> out = new HashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(15, TimeUnit.SECONDS).entrySet()) {
            if (e.getKey().topic().equals(topic) && e.getValue() != null) {
                out.put(e.getKey().partition(), e.getValue().offset());
            }
        }
        return out;
    }

    private static Map<Integer, List<Checker.LogEntry>> readAll(String bootstrap, String topic, String isolation) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<Integer, List<Checker.LogEntry>> log = new TreeMap<>();
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(topic, p));
            log.put(p, new ArrayList<>());
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (!tps.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(isolation + " read did not reach the end offsets " + end);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    log.get(r.partition()).add(new Checker.LogEntry(r.offset(), r.value()));
                }
            }
        }
        return log;
    }

    /**
     * Who wrote each record, from the batch headers in a replica's segment files (a consumer does not see
     * them): producer id, epoch and sequence tell a broker that failed to drop a retried batch from a
     * producer that sent the batch again under a new epoch. Writes have stopped and every replica is in
     * sync, so any replica's files hold the whole log.
     */
    private static Map<Integer, Map<Long, Checker.Writer>> readWriters(ChaosCluster cluster, String topic)
            throws IOException {
        Map<Integer, Map<Long, Checker.Writer>> out = new TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            Map<Long, Checker.Writer> writers = new HashMap<>();
            out.put(p, writers);
            Path dir = cluster.broker(1).logDir().resolve(topic + "-" + p);
            List<Path> segments;
            try (Stream<Path> files = Files.list(dir)) {
                segments = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
            }
            for (Path segment : segments) {
                for (MutableRecordBatch batch : MemoryRecords.readableRecords(
                        ByteBuffer.wrap(Files.readAllBytes(segment))).batches()) {
                    if (batch.isControlBatch() || !batch.hasProducerId()) {
                        continue;
                    }
                    for (Record r : batch) {
                        writers.put(r.offset(), new Checker.Writer(batch.producerId(), batch.producerEpoch(),
                                batch.baseSequence() + (int) (r.offset() - batch.baseOffset())));
                    }
                }
            }
        }
        return out;
    }

    private static boolean eventually(Duration timeout, java.util.concurrent.Callable<Boolean> condition) {
        try {
            awaitTrue(timeout, condition);
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }

    private static String describe(Map<Integer, long[]> offsets) {
        StringBuilder sb = new StringBuilder();
        offsets.forEach((p, o) -> sb.append(sb.length() == 0 ? "" : ", ").append(p).append(": ").append(o[0])
                .append("/").append(o[1]));
        return "{" + sb + "}";
    }

    private static void awaitTrue(Duration timeout, java.util.concurrent.Callable<Boolean> condition) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(condition);
    }

    private void say(History history, String what) {
        out.println(history.stamp() + " " + what);
        out.flush();
    }
}
