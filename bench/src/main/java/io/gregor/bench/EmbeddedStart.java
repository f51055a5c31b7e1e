package io.gregor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Start time and heap of a cluster started inside a test's JVM: Gregor's testkit ({@code GregorCluster}) side
 * by side with spring-kafka-test's {@code EmbeddedKafkaKraftBroker}, 1 and 3 brokers. Each subject runs in a
 * fresh JVM of its own ({@link EmbeddedStartSubject}) on its own classpath: Gregor's on the testkit's runtime
 * classpath, EmbeddedKafka's on the one resolved from src/embedded-kafka/pom.xml (see bench/embedded-start).
 * Usage: EmbeddedStart HOME GREGOR_CLASSPATH EMBEDDED_KAFKA_CLASSPATH [--quick] [--rounds N] [--later N]
 * [--subjects gregor-1,embedded-kafka-1,gregor-3,embedded-kafka-3] [--out DIR]
 */
public final class EmbeddedStart {
    private static final long SUBJECT_TIMEOUT_SEC = 600;

    /** Fresh JVMs per subject, and the later starts each JVM times after its first. */
    record Plan(int rounds, int laterStarts) {
        static Plan quick() {
            return new Plan(1, 3);
        }

        static Plan full() {
            return new Plan(3, 5);
        }
    }

    /** One product at one cluster size, e.g. gregor-3. */
    record Subject(String product, int brokers) {
        static Subject parse(String id) {
            int dash = id.lastIndexOf('-');
            String product = id.substring(0, dash);
            if (!product.equals("gregor") && !product.equals("embedded-kafka")) {
                throw new IllegalArgumentException("unknown subject " + id + ": gregor-N or embedded-kafka-N");
            }
            return new Subject(product, Integer.parseInt(id.substring(dash + 1)));
        }

        String id() {
            return product + "-" + brokers;
        }

        String column() {
            return product.equals("gregor") ? Results.GREGOR : Results.EMBEDDED_KAFKA;
        }

        String rowPrefix() {
            return brokers == 1 ? "1 broker: " : brokers + " brokers: ";
        }
    }

    static final String FIRST_START = "first start to Metadata answer (ms)";
    static final String FIRST_START_RETURNED = "first start: start() returned (ms)";
    static final String FIRST_START_CPU = "first start: process CPU until the answer (ms)";
    static final String FIRST_START_CLASSES = "first start: classes loaded until the answer";
    static final String LATER_START = "later start to Metadata answer (ms)";
    static final String CLOSE = "close (ms)";
    static final String HEAP_AFTER = "heap used after first start (MiB)";
    static final String HEAP_ADDED = "heap added by first start (MiB)";

    /** Each figure the subject JVM prints, and the row it goes to. */
    private static final List<Map.Entry<String, String>> ROWS = List.of(
            Map.entry("first_start_ms", FIRST_START),
            Map.entry("first_start_returned_ms", FIRST_START_RETURNED),
            Map.entry("first_start_cpu_ms", FIRST_START_CPU),
            Map.entry("first_start_classes", FIRST_START_CLASSES),
            Map.entry("later_start_ms", LATER_START),
            Map.entry("close_ms", CLOSE),
            Map.entry("heap_after_mib", HEAP_AFTER));

    static final String METHOD = """
            Each subject (product, broker count) runs in a fresh JVM of its own, with default JVM options (as a
            test fork), on its product's runtime classpath (gregor-testkit's; spring-kafka-test's) plus the same
            slf4j binding and log4j2 config (WARN, console) for both. Start: from the call to GregorCluster.start() /
            builder().brokers(3).start(), or to new EmbeddedKafkaKraftBroker(n, 1).afterPropertiesSet(), until
            the first answer to a raw Metadata v12 request (bench's MetadataProbe: one socket per try, every 1 ms,
            sent to the first bootstrap address once start returned) that lists all n brokers; the probe's
            classes (kafka-clients' Metadata messages) are loaded before timing, by a class loader of the probe's
            own, so neither product's kafka-clients is initialised before its start. Process CPU: every thread's
            (JIT and GC included) from the call until the answer. First start: the JVM's first;
            later: close, then start again, in the same JVM. Heap: MemoryMXBean heap used after two System.gc()
            with the cluster up after its first start; 'added' subtracts the heap used before it.""";

    private final Path home;
    private final Map<String, String> classpaths;
    private final Plan plan;
    private final Path outDir;
    private final Results results = new Results(Results.EMBEDDED_KAFKA,
            "Values are medians over rounds (fresh JVMs; later starts and closes: over every one), [min..max] beside them.");

    private EmbeddedStart(Path home, Map<String, String> classpaths, Plan plan, Path outDir) {
        this.home = home;
        this.classpaths = classpaths;
        this.plan = plan;
        this.outDir = outDir;
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        Map<String, String> classpaths = Map.of("gregor", args[1], "embedded-kafka", args[2]);
        Plan plan = Plan.full();
        Integer rounds = null;
        Integer later = null;
        boolean quick = false;
        List<Subject> subjects = List.of(new Subject("gregor", 1), new Subject("embedded-kafka", 1),
                new Subject("gregor", 3), new Subject("embedded-kafka", 3));
        Path out = home.resolve("bench/out");
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--later" -> later = Integer.parseInt(args[++i]);
                case "--subjects" -> subjects = java.util.Arrays.stream(args[++i].split(",")).map(Subject::parse).toList();
                case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (quick) {
            plan = Plan.quick();
        }
        plan = new Plan(rounds != null ? rounds : plan.rounds(), later != null ? later : plan.laterStarts());
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path runOut = out.resolve("embedded-" + stamp);
        Files.createDirectories(runOut);
        new EmbeddedStart(home, classpaths, plan, runOut).run(subjects, quick);
    }

    private void run(List<Subject> subjects, boolean quick) throws Exception {
        log("plan: " + plan + (quick ? " (quick)" : "") + ", output under " + outDir);
        for (int round = 1; round <= plan.rounds(); round++) {
            for (Subject s : subjects) {
                log("round " + round + ": " + s.id());
                runSubject(s, round);
            }
        }
        String embeddedKafka = classpaths.get("embedded-kafka");
        String header = "Gregor testkit vs EmbeddedKafkaKraftBroker of spring-kafka-test "
                + jarVersion(embeddedKafka, "spring-kafka-test") + " (Kafka " + jarVersion(embeddedKafka, "kafka-server")
                + "), " + LocalDateTime.now().withNano(0)
                + ", " + plan + (quick ? " (quick)" : "") + ", nproc=" + Runtime.getRuntime().availableProcessors()
                + ", java " + Runtime.version() + "\n" + METHOD + "\n\n";
        String report = header + results.table() + targets();
        System.out.println();
        System.out.print(report);
        Files.writeString(outDir.resolve("results.txt"), report);
        Path latest = outDir.getParent().resolve("embedded-latest.txt");
        Files.writeString(latest, report);
        log("written to " + outDir.resolve("results.txt") + " and " + latest);
    }

    private void runSubject(Subject s, int round) throws IOException, InterruptedException {
        List<String> cmd = List.of("java",
                "-Dlog4j2.configurationFile=" + home.resolve("bench/src/embedded-kafka/log4j2.properties"),
                "-cp", classpaths.get(s.product()), EmbeddedStartSubject.class.getName(), s.product(),
                Integer.toString(s.brokers()), Integer.toString(plan.laterStarts()));
        Path logFile = outDir.resolve("round" + round + "-" + s.id() + ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        String figure = s.rowPrefix() + FIRST_START;
        // The subject prints each figure as soon as it has it: one that hangs (a close that never ends) still
        // leaves what it measured before, and the table says it did not finish.
        boolean finished = p.waitFor(SUBJECT_TIMEOUT_SEC, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly().waitFor();
        }
        Map<String, List<Double>> figures = parse(Files.readAllLines(logFile));
        if (!finished) {
            results.fail(figure, s.column(), "round " + round + " timed out after " + SUBJECT_TIMEOUT_SEC
                    + " s (figures it printed before are kept), see " + logFile);
        } else if (p.exitValue() != 0) {
            results.fail(figure, s.column(), "round " + round + " exit " + p.exitValue() + ", see " + logFile);
        }
        for (Map.Entry<String, String> row : ROWS) {
            for (double v : figures.getOrDefault(row.getKey(), List.of())) {
                results.add(s.rowPrefix() + row.getValue(), s.column(), v);
            }
        }
        if (figures.containsKey("heap_after_mib")) {
            results.add(s.rowPrefix() + HEAP_ADDED, s.column(),
                    figures.get("heap_after_mib").get(0) - figures.get("heap_before_mib").get(0));
        }
    }

    /** The version in a classpath's jar named {@code artifact-VERSION.jar}, or "?". */
    static String jarVersion(String classpath, String artifact) {
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("(?:^|[/\\\\])" + java.util.regex.Pattern.quote(artifact) + "-(\\d[^/\\\\:;]*?)\\.jar(?:$|[:;])")
                .matcher(classpath);
        return m.find() ? m.group(1) : "?";
    }

    /** The subject's {@code result<TAB>name<TAB>value} lines, values per name in order. */
    static Map<String, List<Double>> parse(List<String> lines) {
        Map<String, List<Double>> figures = new LinkedHashMap<>();
        for (String line : lines) {
            String[] parts = line.split("\t");
            if (parts.length == 3 && parts[0].equals("result")) {
                figures.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(Double.parseDouble(parts[2]));
            }
        }
        return figures;
    }

    /** Issue 12's targets against this run's medians. */
    private String targets() {
        StringBuilder out = new StringBuilder("\nTargets (issue 12), from the medians above:\n");
        target(out, "1 broker: " + FIRST_START, Results.GREGOR, "Gregor 1 broker, first start < 300 ms", 300);
        target(out, "1 broker: " + LATER_START, Results.GREGOR, "Gregor 1 broker, later starts < 50 ms", 50);
        target(out, "3 brokers: " + FIRST_START, Results.GREGOR, "Gregor 3 brokers, first start < 1500 ms", 1500);
        target(out, "3 brokers: " + LATER_START, Results.GREGOR, "Gregor 3 brokers, later starts < 1500 ms", 1500);
        for (String prefix : List.of("1 broker: ", "3 brokers: ")) {
            ratio(out, prefix + FIRST_START, 0.1);
            ratio(out, prefix + LATER_START, 0.1);
            ratio(out, prefix + HEAP_AFTER, 0.25);
        }
        return out.toString();
    }

    private void target(StringBuilder out, String figure, String column, String label, double limit) {
        results.median(figure, column).ifPresent(v -> out.append(String.format(Locale.ROOT, "  %-60s %10s  %s%n",
                label, Results.num(v), v < limit ? "met" : "NOT met")));
    }

    private void ratio(StringBuilder out, String figure, double limit) {
        var g = results.median(figure, Results.GREGOR);
        var k = results.median(figure, Results.EMBEDDED_KAFKA);
        if (g.isPresent() && k.isPresent() && k.get() != 0) {
            double r = g.get() / k.get();
            out.append(String.format(Locale.ROOT, "  %-60s %10s  %s%n", figure + " <= " + limit + "x EmbeddedKafka",
                    String.format(Locale.ROOT, "%.3f", r), r <= limit ? "met" : "NOT met"));
        }
    }

    private static void log(String msg) {
        System.out.println("[embedded-start " + LocalDateTime.now().withNano(0).toLocalTime() + "] " + msg);
    }
}
