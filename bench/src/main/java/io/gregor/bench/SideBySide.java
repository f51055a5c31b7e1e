package io.gregor.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the same workloads, with Kafka's stock load tools, against real Apache Kafka and against Gregor,
 * one broker at a time, alternating Kafka, Gregor, Kafka, Gregor... and prints the medians side by side.
 * Usage: SideBySide HOME CLASSPATH [--quick] [--rounds N] [--brokers kafka,gregor] [--out DIR]
 * [--only secure|transactions|groups] ({@code --only secure}: only the TLS and SASL_SSL rows; {@code --only transactions}:
 * only the transactional produce and read_committed / read_uncommitted consume rows; {@code --only groups}: only the
 * group assignment and share consume rows).
 */
public final class SideBySide {
    private static final long MIB = 1024 * 1024;

    /** Record counts and round count; --quick takes a few minutes, the full run about 10 minutes on 2 cores. */
    record Plan(int rounds, long records100B, long records1KiB, int e2eRecords, long idleSettleMs) {
        static Plan quick() {
            return new Plan(1, 500_000, 100_000, 2_000, 3_000);
        }

        static Plan full() {
            return new Plan(3, 2_000_000, 1_000_000, 10_000, 5_000);
        }
    }

    /** {@code compression} is the producer's compression.type ("none" for the plain cases). */
    record ProduceCase(int partitions, int recordSize, String acks, String compression) {
        ProduceCase(int partitions, int recordSize, String acks) {
            this(partitions, recordSize, acks, "none");
        }

        String topic() {
            return "perf-p" + partitions + "-" + recordSize + "b-acks" + acks
                    + (compression.equals("none") ? "" : "-" + compression);
        }

        String label() {
            return partitions + "p " + (recordSize >= 1024 ? (recordSize / 1024) + "KiB" : recordSize + "B")
                    + " acks=" + acks + (compression.equals("none") ? "" : " " + compression);
        }
    }

    static final List<ProduceCase> PRODUCE_CASES = List.of(
            new ProduceCase(1, 100, "1"), new ProduceCase(1, 100, "all"),
            new ProduceCase(1, 1024, "1"), new ProduceCase(1, 1024, "all"),
            new ProduceCase(8, 100, "1"), new ProduceCase(8, 100, "all"),
            new ProduceCase(8, 1024, "1"), new ProduceCase(8, 1024, "all"),
            // compressed batches: the leader decompresses each one to check its records (as Kafka's
            // LogValidator does), so these rows show what that costs beside Kafka doing the same
            new ProduceCase(1, 1024, "1", "lz4"), new ProduceCase(1, 1024, "1", "zstd"));

    /** Transactional produce: 1 KiB records, 1,000 per transaction, on 1 and 8 partitions. */
    static final List<ProduceCase> TXN_CASES = List.of(new ProduceCase(1, 1024, "all"), new ProduceCase(8, 1024, "all"));
    static final int RECORDS_PER_TXN = 1_000;

    static String txnTopic(ProduceCase c) {
        return "txn-" + c.topic();
    }

    /** Topics consumed after the produce runs: both sizes, both partition counts. */
    static final List<ProduceCase> CONSUME_CASES = List.of(PRODUCE_CASES.get(0), PRODUCE_CASES.get(6));

    private final Path home;
    private final String classpath;
    private final Plan plan;
    private final Path outDir;
    private final Results results = new Results();
    private Affinity affinity = Affinity.NONE;
    /** --profile: a JFR recording of each broker over the produce workloads, summarised per run. */
    private boolean profile;
    /** --only: which rows a run is limited to. */
    private Only only = Only.ALL;

    /** The rows of {@code --only}: all of them, the TLS and SASL_SSL rows, the transactional rows, the group rows. */
    enum Only { ALL, SECURE, TRANSACTIONS, GROUPS }
    /** The broker key and SCRAM user of the TLS and SASL_SSL rows, made at bench start. */
    private BenchTls tls;

    /** The case of the TLS and SASL_SSL rows: 1 KiB records, 8 partitions, acks=1. */
    static final ProduceCase SECURE_CASE = new ProduceCase(8, 1024, "1");
    /** Fresh connections timed per broker and round (after a few untimed ones warm up the client code). */
    private static final int CONNECT_SAMPLES = 15;
    private static final int CONNECT_WARMUP = 3;

    private SideBySide(Path home, String classpath, Plan plan, Path outDir) {
        this.home = home;
        this.classpath = classpath;
        this.plan = plan;
        this.outDir = outDir;
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        String classpath = args[1];
        Plan plan = Plan.full();
        boolean quick = false;
        List<String> brokers = List.of("kafka", "gregor");
        Path out = home.resolve("bench/out");
        Integer rounds = null;
        boolean profileRun = false;
        Only only = Only.ALL;
        Affinity affinity = Affinity.NONE;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--brokers" -> brokers = List.of(args[++i].toLowerCase().split(","));
                case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
                case "--profile" -> profileRun = true;
                case "--pin" -> affinity = Affinity.brokerOnFirstCpu();
                case "--only" -> {
                    String rows = args[++i];
                    only = switch (rows) {
                        case "secure" -> Only.SECURE;
                        case "transactions" -> Only.TRANSACTIONS;
                        case "groups" -> Only.GROUPS;
                        default -> throw new IllegalArgumentException("--only takes 'secure' (the TLS and SASL_SSL "
                                + "rows), 'transactions' (transactional produce and consume rows) or 'groups' (group "
                                + "assignment and share consume rows)");
                    };
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (quick) {
            plan = Plan.quick();
        }
        if (rounds != null) {
            plan = new Plan(rounds, plan.records100B, plan.records1KiB, plan.e2eRecords, plan.idleSettleMs);
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path runOut = out.resolve(stamp);
        Files.createDirectories(runOut);
        SideBySide bench = new SideBySide(home, classpath, plan, runOut);
        bench.profile = profileRun;
        bench.affinity = affinity;
        bench.only = only;
        bench.tls = BenchTls.create(runOut);
        bench.run(brokers, quick);
    }

    private void run(List<String> brokers, boolean quick) throws Exception {
        log("plan: " + plan + (quick ? " (quick)" : "") + ", output under " + outDir);
        for (int round = 1; round <= plan.rounds; round++) {
            for (String b : brokers) {
                Path dir = outDir.resolve("round" + round + "-" + b);
                BrokerProcess broker = b.equals("kafka") ? new BrokerProcess.Kafka(classpath, dir)
                        : new BrokerProcess.Gregor(home, dir);
                try {
                    runAgainst(broker, dir, round);
                } catch (Exception e) {
                    log(broker.name() + " round " + round + " aborted: " + e);
                    results.fail("start to first Metadata answer (ms)", broker.name(), "round " + round + ": " + e);
                } finally {
                    broker.close();
                    deleteTree(dir.resolve("data"));
                }
            }
        }
        String table = results.table();
        String header = "Gregor vs Apache Kafka 4.4.0, " + LocalDateTime.now().withNano(0) + ", " + plan
                + (quick ? " (quick)" : "") + ", nproc=" + Runtime.getRuntime().availableProcessors()
                + affinity.describe() + "\n\n";
        System.out.println();
        System.out.print(header + table);
        Files.writeString(outDir.resolve("results.txt"), header + table);
        Path latest = outDir.getParent().resolve("latest.txt");
        Files.writeString(latest, header + table);
        log("written to " + outDir.resolve("results.txt") + " and " + latest);
    }

    /** Fresh starts timed per broker and round. */
    private static final int START_SAMPLES = 3;

    private void runAgainst(BrokerProcess broker, Path dir, int round) throws Exception {
        switch (only) {
            case TRANSACTIONS -> runTransactionsOnly(broker, dir, round);
            case GROUPS -> runGroupsOnly(broker, dir, round);
            case SECURE -> runSecure(broker, dir);
            case ALL -> {
                runPlaintext(broker, dir, round);
                runSecure(broker, dir);
            }
        }
    }

    private void runPlaintext(BrokerProcess broker, Path dir, int round) throws Exception {
        String name = broker.name();
        log("round " + round + ": starting " + name + " on " + broker.bootstrap());
        // A start of ~250 ms moves with whatever the machine did just before, so each round times several
        // fresh starts (each from an empty data dir); the last one stays up for the workloads.
        for (int sample = 1; sample <= START_SAMPLES; sample++) {
            if (sample > 1) {
                broker.close();
                deleteTree(dir.resolve("data"));
            }
            // Earlier data on disk and the disks idle, so a start's own fsyncs queue behind nothing (the previous
            // broker's data was just deleted, on a file system mounted with discard).
            flushDirtyPages();
            awaitQuietDisks();
            broker.start(affinity);
            results.add("start to first Metadata answer (ms)", name, broker.startToMetadataMs());
        }
        long pid = broker.pid();
        // Let start-up work (JIT, first background tasks) settle before calling the process idle.
        Thread.sleep(plan.idleSettleMs);
        results.add("RSS idle (MiB)", name, ProcStat.rssKib(pid) / 1024.0);
        ToolRunner tools = new ToolRunner(classpath, dir, affinity);

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()))) {
            List<NewTopic> topics = new ArrayList<>();
            for (ProduceCase c : PRODUCE_CASES) {
                topics.add(new NewTopic(c.topic(), c.partitions(), (short) 1));
            }
            for (ProduceCase c : TXN_CASES) {
                topics.add(new NewTopic(txnTopic(c), c.partitions(), (short) 1));
            }
            topics.add(new NewTopic("e2e", 1, (short) 1));
            topics.add(new NewTopic(GROUP_TOPIC, GROUP_TOPIC_PARTITIONS, (short) 1));
            topics.add(new NewTopic(SHARE_TOPIC, 1, (short) 1));
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }

        Path jfr = dir.resolve(name.toLowerCase() + "-produce.jfr");
        if (profile) {
            jcmd(pid, "JFR.start", "name=produce", "settings=profile", "filename=" + jfr);
        }
        double producedMiB = 0;
        for (ProduceCase c : PRODUCE_CASES) {
            long records = c.recordSize() >= 1024 ? plan.records1KiB : plan.records100B;
            producedMiB += records * (double) c.recordSize() / MIB;
            flushDirtyPages();
            ProcStat.Cpu before = ProcStat.cpu(pid);
            ToolRunner.Output out = tools.run("produce-" + c.topic(), "org.apache.kafka.tools.ProducerPerformance",
                    List.of("--topic", c.topic(), "--num-records", Long.toString(records), "--record-size",
                            Integer.toString(c.recordSize()), "--throughput", "-1", "--producer-props",
                            "bootstrap.servers=" + broker.bootstrap(), "acks=" + c.acks(),
                            "compression.type=" + c.compression()), 600, null);
            ProcStat.Cpu used = ProcStat.cpu(pid).minus(before);
            String p = "produce " + c.label();
            Optional<ToolOutput.Produce> r = ToolOutput.produce(out.lines());
            if (r.isPresent() && out.exitCode() == 0 && r.get().records() == records) {
                double mb = records * (double) c.recordSize() / MIB;
                results.add(p + ": MB/s", name, r.get().mbPerSec());
                results.add(p + ": p99 latency (ms)", name, r.get().p99Ms());
                results.add(p + ": broker CPU s", name, used.total());
                results.add(p + ": broker CPU s in kernel", name, used.kernel());
                results.add(p + ": broker CPU s in user space", name, used.user());
                results.add(p + ": MB per broker CPU s", name, mb / used.total());
                log(String.format("%s %s: %.1f MB/s, p99 %.0f ms, broker CPU %.1f s", name, p, r.get().mbPerSec(),
                        r.get().p99Ms(), used.total()));
            } else {
                results.fail(p + ": MB/s", name, failure(out));
                log(name + " " + p + " failed: " + failure(out));
            }
        }

        if (profile) {
            jcmd(pid, "JFR.stop", "name=produce");
            String summary = JfrSummary.summarize(jfr, producedMiB,
                    name.equals("Kafka") ? "org.apache.kafka." : "io.gregor.", 20);
            Files.writeString(dir.resolve(name.toLowerCase() + "-produce-profile.txt"), summary);
            log(name + " produce profile:\n" + summary);
        }

        for (ProduceCase c : CONSUME_CASES) {
            long records = c.recordSize() >= 1024 ? plan.records1KiB : plan.records100B;
            String label = "consume " + c.partitions() + "p " + (c.recordSize() >= 1024 ? "1KiB" : "100B");
            consume(tools, broker, label + " (ConsumerPerformance)", "consumer-perf-" + c.topic(),
                    "org.apache.kafka.tools.ConsumerPerformance",
                    List.of("--bootstrap-server", broker.bootstrap(), "--topic", c.topic(), "--num-records",
                            Long.toString(records), "--timeout", "15000"), records);
            consume(tools, broker, label + " (assign, no group)", "consume-assign-" + c.topic(),
                    AssignConsumerPerformance.class.getName(),
                    List.of(broker.bootstrap(), c.topic(), Long.toString(records), "15000"), records);
        }

        transactions(tools, broker, round);
        groupAssignment(tools, broker);
        shareConsume(tools, broker);

        // The first run is the first time either broker serves one-record produce and fetch round trips, and its
        // tail is mostly the JIT (and the tool's) warming up; the second, identical run is the steady state.
        endToEnd(tools, broker, "end-to-end-latency-1", "end-to-end latency, first run", false);
        endToEnd(tools, broker, "end-to-end-latency-2", "end-to-end latency", true);

        results.add("RSS after load (MiB)", name, ProcStat.rssKib(pid) / 1024.0);
        results.add("broker CPU s, whole run", name, ProcStat.cpuSeconds(pid));
    }

    /** --only transactions: a fresh broker, the transactional topics, and {@link #transactions} alone. */
    private void runTransactionsOnly(BrokerProcess broker, Path dir, int round) throws Exception {
        flushDirtyPages();
        awaitQuietDisks();
        broker.start(affinity);
        log("round " + round + ": " + broker.name() + " on " + broker.bootstrap() + " (transactions only)");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()))) {
            List<NewTopic> topics = new ArrayList<>();
            for (ProduceCase c : TXN_CASES) {
                topics.add(new NewTopic(txnTopic(c), c.partitions(), (short) 1));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
        transactions(new ToolRunner(classpath, dir, affinity), broker, round);
    }

    /** --only groups: a fresh broker, the group and share topics, and the group assignment and share rows alone. */
    private void runGroupsOnly(BrokerProcess broker, Path dir, int round) throws Exception {
        flushDirtyPages();
        awaitQuietDisks();
        broker.start(affinity);
        log("round " + round + ": " + broker.name() + " on " + broker.bootstrap() + " (group rows only)");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(GROUP_TOPIC, GROUP_TOPIC_PARTITIONS, (short) 1),
                    new NewTopic(SHARE_TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        ToolRunner tools = new ToolRunner(classpath, dir, affinity);
        groupAssignment(tools, broker);
        shareConsume(tools, broker);
    }

    /**
     * The TLS and SASL_SSL rows, on a fresh start of the broker with SSL and SASL_SSL listeners beside PLAINTEXT
     * (a start of its own, so the other rows' broker has the settings it always had): produce 1 KiB to 8
     * partitions and read them back with assign() over each, and the time a fresh AdminClient takes to its
     * first describeCluster answer over PLAINTEXT, SSL (TLS handshake) and SASL_SSL (TLS + SCRAM-SHA-256).
     */
    private void runSecure(BrokerProcess broker, Path dir) throws Exception {
        String name = broker.name();
        broker.close();
        deleteTree(dir.resolve("data"));
        broker.tls = tls;
        flushDirtyPages();
        awaitQuietDisks();
        broker.start(affinity);
        log("TLS rows: " + name + " on " + broker.bootstrap("SSL") + " (SSL) and " + broker.bootstrap("SASL_SSL")
                + " (SASL_SSL)");
        List<String> protocols = List.of("SSL", "SASL_SSL");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String protocol : protocols) {
                topics.add(new NewTopic(secureTopic(protocol), SECURE_CASE.partitions(), (short) 1));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(BenchTls.SCRAM_USER,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), BenchTls.SCRAM_PASSWORD)))
                    .all().get(60, TimeUnit.SECONDS);
        }
        // the credential reaches the broker's SASL servers a moment after the answer on Kafka (its metadata log)
        awaitLogin(broker, "SASL_SSL");

        for (String protocol : List.of("PLAINTEXT", "SSL", "SASL_SSL")) {
            String label = "connection set-up " + label(protocol) + ": fresh AdminClient to first describeCluster (ms)";
            for (int i = 0; i < CONNECT_WARMUP + CONNECT_SAMPLES; i++) {
                double ms = connectMs(broker, protocol);
                if (i >= CONNECT_WARMUP) {
                    results.add(label, name, ms);
                }
            }
            log(String.format("%s %s: %.1f ms", name, label, results.median(label, name).orElse(Double.NaN)));
        }

        ToolRunner tools = new ToolRunner(classpath, dir, affinity);
        long records = plan.records1KiB;
        for (String protocol : protocols) {
            Path config = tls.clientConfigFile(dir, protocol);
            String topic = secureTopic(protocol);
            flushDirtyPages();
            ProcStat.Cpu before = ProcStat.cpu(broker.pid());
            ToolRunner.Output out = tools.run("produce-" + topic, "org.apache.kafka.tools.ProducerPerformance",
                    List.of("--topic", topic, "--num-records", Long.toString(records), "--record-size",
                            Integer.toString(SECURE_CASE.recordSize()), "--throughput", "-1",
                            "--command-config", config.toString(), "--producer-props",
                            "bootstrap.servers=" + broker.bootstrap(protocol), "acks=" + SECURE_CASE.acks()), 600, null);
            ProcStat.Cpu used = ProcStat.cpu(broker.pid()).minus(before);
            String p = "produce " + SECURE_CASE.label() + " over " + label(protocol);
            Optional<ToolOutput.Produce> r = ToolOutput.produce(out.lines());
            if (r.isPresent() && out.exitCode() == 0 && r.get().records() == records) {
                double mb = records * (double) SECURE_CASE.recordSize() / MIB;
                results.add(p + ": MB/s", name, r.get().mbPerSec());
                results.add(p + ": p99 latency (ms)", name, r.get().p99Ms());
                results.add(p + ": broker CPU s", name, used.total());
                results.add(p + ": MB per broker CPU s", name, mb / used.total());
                log(String.format("%s %s: %.1f MB/s, p99 %.0f ms, broker CPU %.1f s", name, p, r.get().mbPerSec(),
                        r.get().p99Ms(), used.total()));
            } else {
                results.fail(p + ": MB/s", name, failure(out));
                log(name + " " + p + " failed: " + failure(out));
            }
            consume(tools, broker, "consume 8p 1KiB over " + label(protocol) + " (assign, no group)",
                    "consume-assign-" + topic, AssignConsumerPerformance.class.getName(),
                    List.of(broker.bootstrap(protocol), topic, Long.toString(records), "15000", "read_uncommitted",
                            config.toString()), records);
        }
    }

    private static String secureTopic(String protocol) {
        return "perf-" + protocol.toLowerCase() + "-" + SECURE_CASE.topic().substring("perf-".length());
    }

    private static String label(String protocol) {
        return switch (protocol) {
            case "SSL" -> "TLS";
            case "SASL_SSL" -> "SASL_SSL (TLS + SCRAM-SHA-256)";
            default -> protocol;
        };
    }

    private Map<String, Object> adminProps(BrokerProcess broker, String protocol) {
        Map<String, Object> props = new java.util.HashMap<>();
        if (!protocol.equals("PLAINTEXT")) {
            props.putAll(tls.clientProps(protocol));
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap(protocol));
        return props;
    }

    /** A fresh AdminClient's time to its first describeCluster answer: connection, TLS handshake, SASL, metadata. */
    private double connectMs(BrokerProcess broker, String protocol) throws Exception {
        Map<String, Object> props = adminProps(broker, protocol);
        long started = System.nanoTime();
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            return (System.nanoTime() - started) / 1e6;
        }
    }

    /** Waits (up to 30 s) until a client can log in over {@code protocol}. */
    private void awaitLogin(BrokerProcess broker, String protocol) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                connectMs(broker, protocol);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    /**
     * Transactional produce (commit every 1,000 records), then the 8-partition topic read with assign() both
     * read_committed and read_uncommitted: the cost of stopping at the last stable offset and of the
     * aborted-transaction lookups is the difference between those two rows on one broker.
     */
    private void transactions(ToolRunner tools, BrokerProcess broker, int round) throws IOException, InterruptedException {
        String name = broker.name();
        long records = plan.records1KiB / 2;
        for (ProduceCase c : TXN_CASES) {
            flushDirtyPages();
            ProcStat.Cpu before = ProcStat.cpu(broker.pid());
            ToolRunner.Output out = tools.run("produce-" + txnTopic(c), TransactionalProducerPerformance.class.getName(),
                    List.of(broker.bootstrap(), txnTopic(c), Long.toString(records), Integer.toString(c.recordSize()),
                            Integer.toString(RECORDS_PER_TXN)), 600, null);
            ProcStat.Cpu used = ProcStat.cpu(broker.pid()).minus(before);
            String p = "transactional produce " + c.partitions() + "p 1KiB, " + RECORDS_PER_TXN + " per txn";
            Optional<ToolOutput.Produce> r = ToolOutput.produce(out.lines());
            if (r.isPresent() && out.exitCode() == 0 && r.get().records() == records) {
                results.add(p + ": MB/s", name, r.get().mbPerSec());
                results.add(p + ": broker CPU s", name, used.total());
                results.add(p + ": broker CPU s in user space", name, used.user());
                log(String.format("%s %s: %.1f MB/s, broker CPU %.1f s", name, p, r.get().mbPerSec(), used.total()));
            } else {
                results.fail(p + ": MB/s", name, failure(out));
                log(name + " " + p + " failed: " + failure(out));
            }
        }
        ProduceCase consumed = TXN_CASES.get(1);
        // the first read after the produce costs the broker more (once measured: 0.24 s of Gregor's CPU against
        // 0.12-0.18 s for later reads), which favours the second row: the order alternates by round
        List<String> order = round % 2 == 1 ? List.of("read_committed", "read_uncommitted")
                : List.of("read_uncommitted", "read_committed");
        for (String isolation : order) {
            consume(tools, broker, "consume transactional 8p 1KiB (assign, " + isolation + ")",
                    "consume-" + isolation + "-" + txnTopic(consumed), AssignConsumerPerformance.class.getName(),
                    List.of(broker.bootstrap(), txnTopic(consumed), Long.toString(records), "15000", isolation), records);
        }
    }

    static final String GROUP_TOPIC = "groups-12p";
    static final int GROUP_TOPIC_PARTITIONS = 12;
    static final String SHARE_TOPIC = "share-1p";
    static final int SHARE_CONSUMERS = 4;

    /**
     * Issue 14's row: how long 3 consumers of a 12-partition topic take until all are assigned, with the classic
     * protocol (JoinGroup/SyncGroup, client-side assignor) and the consumer protocol (KIP-848, server-side
     * assignor). Three timed repeats per protocol, each a fresh group.
     */
    private void groupAssignment(ToolRunner tools, BrokerProcess broker) throws IOException, InterruptedException {
        String name = broker.name();
        for (String protocol : List.of("classic", "consumer")) {
            String label = "3 consumers of 12 partitions all assigned, " + protocol + " protocol (ms)";
            ToolRunner.Output out = tools.run("group-assignment-" + protocol, GroupAssignmentTime.class.getName(),
                    List.of(broker.bootstrap(), GROUP_TOPIC, Integer.toString(GROUP_TOPIC_PARTITIONS), protocol, "3",
                            "60000"), 300, null);
            List<Double> times = out.lines().stream().filter(l -> l.startsWith("assigned " + protocol + " ms="))
                    .map(l -> Double.parseDouble(l.substring(l.indexOf("ms=") + 3).trim())).toList();
            if (out.exitCode() == 0 && !times.isEmpty()) {
                for (double t : times) {
                    results.add(label, name, t);
                }
                log(name + " " + label + ": " + times);
            } else {
                results.fail(label, name, failure(out));
                log(name + " " + label + " failed: " + failure(out));
            }
        }
    }

    /**
     * Issue 15's row: 4 share consumers (KIP-932) of one partition read it whole, acknowledging implicitly;
     * records per second and the broker's CPU for it.
     */
    private void shareConsume(ToolRunner tools, BrokerProcess broker) throws IOException, InterruptedException {
        String name = broker.name();
        long records = plan.records1KiB;
        String label = "share consume 1p 100B, " + SHARE_CONSUMERS + " consumers";
        ToolRunner.Output produced = tools.run("produce-" + SHARE_TOPIC, "org.apache.kafka.tools.ProducerPerformance",
                List.of("--topic", SHARE_TOPIC, "--num-records", Long.toString(records), "--record-size", "100",
                        "--throughput", "-1", "--producer-props", "bootstrap.servers=" + broker.bootstrap(), "acks=1"),
                600, null);
        if (produced.exitCode() != 0) {
            results.fail(label + ": records/s", name, failure(produced));
            return;
        }
        flushDirtyPages();
        ProcStat.Cpu before = ProcStat.cpu(broker.pid());
        ToolRunner.Output out = tools.run("share-consume-" + SHARE_TOPIC, ShareConsumerPerformance.class.getName(),
                List.of(broker.bootstrap(), SHARE_TOPIC, Long.toString(records), Integer.toString(SHARE_CONSUMERS),
                        "120000"), 300, null);
        ProcStat.Cpu used = ProcStat.cpu(broker.pid()).minus(before);
        Optional<String> line = out.lines().stream().filter(l -> l.startsWith("share-consume ")).findFirst();
        if (out.exitCode() == 0 && line.isPresent()) {
            String l = line.get();
            double rate = Double.parseDouble(l.replaceAll(".*records/s=([0-9.]+).*", "$1"));
            results.add(label + ": records/s", name, rate);
            results.add(label + ": broker CPU s", name, used.total());
            results.add(label + ": records per broker CPU s", name, records / used.total());
            // the records/s window includes it: joining, the partition's initialization, its assignment
            double firstRecordMs = Double.parseDouble(l.replaceAll(".*first-record-ms=(-?[0-9]+).*", "$1"));
            results.add(label + ": first record after (ms)", name, firstRecordMs);
            log(String.format("%s %s: %.0f records/s, broker CPU %.1f s, first record after %.0f ms", name, label,
                    rate, used.total(), firstRecordMs));
        } else {
            results.fail(label + ": records/s", name, failure(out));
            log(name + " " + label + " failed: " + failure(out));
        }
    }

    private void endToEnd(ToolRunner tools, BrokerProcess broker, String logName, String label, boolean allRows)
            throws IOException, InterruptedException {
        String name = broker.name();
        flushDirtyPages();
        ProcStat.Cpu before = ProcStat.cpu(broker.pid());
        ToolRunner.Output out = tools.run(logName, "org.apache.kafka.tools.EndToEndLatency",
                List.of("--bootstrap-server", broker.bootstrap(), "--topic", "e2e", "--num-records",
                        Integer.toString(plan.e2eRecords), "--producer-acks", "1", "--record-size", "100"),
                600, line -> line.startsWith("Percentiles:"));
        ProcStat.Cpu used = ProcStat.cpu(broker.pid()).minus(before);
        Optional<ToolOutput.Latency> lat = ToolOutput.latency(out.lines());
        if (lat.isPresent()) {
            if (allRows) {
                results.add(label + " avg (ms)", name, lat.get().avgMs());
                results.add(label + " p50 (ms)", name, lat.get().p50Ms());
            }
            results.add(label + " p99 (ms)", name, lat.get().p99Ms());
            if (allRows) {
                results.add(label + " p99.9 (ms)", name, lat.get().p999Ms());
                results.add(label + ": broker CPU s", name, used.total());
                results.add(label + ": broker CPU s in kernel", name, used.kernel());
                results.add(label + ": broker CPU s in user space", name, used.user());
            }
            log(String.format("%s %s p50 %.0f p99 %.0f p99.9 %.0f ms", name, label, lat.get().p50Ms(),
                    lat.get().p99Ms(), lat.get().p999Ms()));
        } else {
            results.fail(label + " p99 (ms)", name, failure(out));
            log(name + " " + label + " failed: " + failure(out));
        }
    }

    private void consume(ToolRunner tools, BrokerProcess broker, String label, String logName, String mainClass,
                         List<String> args, long records) throws IOException, InterruptedException {
        String name = broker.name();
        flushDirtyPages();
        ProcStat.Cpu before = ProcStat.cpu(broker.pid());
        ToolRunner.Output out = tools.run(logName, mainClass, args, 300, null);
        ProcStat.Cpu used = ProcStat.cpu(broker.pid()).minus(before);
        Optional<ToolOutput.Consume> r = ToolOutput.consume(out.lines());
        if (r.isPresent() && r.get().records() >= records) {
            results.add(label + ": MB/s", name, r.get().mbPerSec());
            results.add(label + ": fetch-phase MB/s", name, r.get().fetchMbPerSec());
            results.add(label + ": broker CPU s", name, used.total());
            results.add(label + ": broker CPU s in kernel", name, used.kernel());
            results.add(label + ": broker CPU s in user space", name, used.user());
            results.add(label + ": MB per broker CPU s", name, r.get().mb() / used.total());
            log(String.format("%s %s: %.1f MB/s, broker CPU %.1f s", name, label, r.get().mbPerSec(), used.total()));
        } else {
            String why = r.map(c -> "consumed " + c.records() + " of " + records + " records")
                    .orElse(failure(out));
            results.fail(label + ": MB/s", name, why);
            log(name + " " + label + " failed: " + why);
        }
    }

    private static void jcmd(long pid, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("jcmd " + String.join(" ", command) + " failed: " + out);
        }
    }

    /** The most telling line of a failed tool run, plus where its whole output is. */
    private String failure(ToolRunner.Output out) {
        String last = out.lines().stream()
                .filter(l -> l.contains("Exception") || l.contains("ERROR") || l.contains("WARNING"))
                .reduce((a, b) -> b).orElse(out.lines().isEmpty() ? "no output" : out.lines().get(out.lines().size() - 1));
        String how = out.timedOut() ? "timed out" : "exit " + out.exitCode();
        return how + ": " + last.trim() + " (" + home.relativize(out.logFile()) + ")";
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Every start and workload begins with no dirty pages left by what ran before: otherwise the kernel's
     * write-back of earlier data (its I/O interrupts) can run during a later workload and, on 2 cores, be
     * charged to whichever broker thread is on the CPU.
     */
    private static void flushDirtyPages() throws IOException, InterruptedException {
        Process sync = new ProcessBuilder("sync").inheritIO().start();
        if (!sync.waitFor(120, TimeUnit.SECONDS)) {
            sync.destroyForcibly();
            throw new IllegalStateException("sync did not finish within 120 s");
        }
    }

    /** Waits (up to 60 s) until no block device has I/O in flight or has completed any write or discard for 1 s. */
    private static void awaitQuietDisks() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long last = -1;
        long quietSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            long activity = 0;
            boolean inFlight = false;
            for (String line : Files.readAllLines(Path.of("/proc/diskstats"))) {
                String[] f = line.trim().split("\\s+");
                activity += Long.parseLong(f[7]) + (f.length > 14 ? Long.parseLong(f[14]) : 0); // writes, discards
                inFlight |= Long.parseLong(f[11]) > 0;
            }
            if (inFlight || activity != last) {
                last = activity;
                quietSince = System.nanoTime();
            } else if (System.nanoTime() - quietSince >= TimeUnit.SECONDS.toNanos(1)) {
                return;
            }
            Thread.sleep(100);
        }
        log("disks still busy after 60 s; starting anyway");
    }

    private static void log(String msg) {
        System.out.println("[bench " + LocalDateTime.now().withNano(0).toLocalTime() + "] " + msg);
    }
}
