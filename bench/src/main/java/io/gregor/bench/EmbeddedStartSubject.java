package io.gregor.bench;

import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One subject of {@link EmbeddedStart}, in a fresh JVM of its own: starts an in-JVM cluster the way a test
 * does, times the first start, the heap with the cluster up, then closes and starts it again N times.
 * Prints one {@code result<TAB>name<TAB>value} line per figure for the parent to read.
 * Usage: EmbeddedStartSubject gregor|embedded-kafka|floor BROKERS LATER_STARTS
 */
public final class EmbeddedStartSubject {
    private static final long MIB = 1024 * 1024;
    private static final long PROBE_TIMEOUT_MS = 120_000;

    /** A started cluster, as far as the benchmark needs it. */
    interface Started {
        String bootstrapServers();

        void close() throws Exception;
    }

    interface Starter {
        Started start(int brokers) throws Exception;
    }

    private EmbeddedStartSubject() {
    }

    public static void main(String[] args) throws Exception {
        String product = args[0];
        int brokers = Integer.parseInt(args[1]);
        int laterStarts = Integer.parseInt(args[2]);
        // Each starter names its product's classes only when it runs, so each subject JVM loads only its own.
        Starter starter = switch (product) {
            case "gregor" -> new GregorStarter();
            case "embedded-kafka" -> new EmbeddedKafkaStarter();
            // not a product: the floor of a start on this machine, see FloorServer and bench/embedded-floor
            case "floor" -> new FloorStarter(Boolean.getBoolean("floor.allApis"));
            default -> throw new IllegalArgumentException("unknown subject " + product);
        };
        // The probe is the measuring instrument: its request is built and its parser loaded before any timing,
        // in a class loader of its own, so the subject's own kafka-clients starts as cold as in a fresh test JVM.
        IsolatedProbe probe = new IsolatedProbe();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ClassLoadingMXBean classLoading = ManagementFactory.getClassLoadingMXBean();
        report("heap_before_mib", heapUsedAfterGc() / (double) MIB);

        long cpuBefore = os.getProcessCpuTime();
        long classesBefore = classLoading.getTotalLoadedClassCount();
        long called = System.nanoTime();
        Started cluster = starter.start(brokers);
        long returned = System.nanoTime();
        long answered = probe.awaitMetadata(cluster, brokers);
        // every thread's CPU (JIT compilers and GC included) and every class loaded until the answer:
        // steadier than the wall time on a machine shared with other work
        long cpuUntilAnswer = os.getProcessCpuTime() - cpuBefore;
        long classesUntilAnswer = classLoading.getTotalLoadedClassCount() - classesBefore;
        report("first_start_returned_ms", millis(returned - called));
        report("first_start_ms", millis(answered - called));
        report("first_start_cpu_ms", millis(cpuUntilAnswer));
        report("first_start_classes", classesUntilAnswer);
        report("heap_after_mib", heapUsedAfterGc() / (double) MIB);

        for (int i = 0; i < laterStarts; i++) {
            long closing = System.nanoTime();
            cluster.close();
            report("close_ms", millis(System.nanoTime() - closing));
            called = System.nanoTime();
            cluster = starter.start(brokers);
            answered = probe.awaitMetadata(cluster, brokers);
            report("later_start_ms", millis(answered - called));
        }
        long closing = System.nanoTime();
        cluster.close();
        report("close_ms", millis(System.nanoTime() - closing));
        // A thread some library left running must not keep this JVM, and so the benchmark, waiting.
        System.exit(0);
    }

    /**
     * {@link MetadataProbe} loaded from the bench's classes and the subject classpath's kafka-clients jar by a
     * class loader of its own. On the subject's class loader it would share kafka-clients with EmbeddedKafka's
     * broker and initialise its protocol classes (ApiKeys and every message schema, the bulk of a broker's
     * class loading) before the timing starts, which a test's JVM does not do for its broker.
     */
    private static final class IsolatedProbe {
        private final Method awaitFirstAnswer;

        IsolatedProbe() throws Exception {
            URL kafkaClients = jarOf("org/apache/kafka/common/protocol/ApiKeys.class");
            URL bench = jarOf("io/gregor/bench/MetadataProbe.class");
            ClassLoader loader = new URLClassLoader("metadata-probe", new URL[]{bench, kafkaClients},
                    ClassLoader.getPlatformClassLoader());
            Class<?> probe = Class.forName(MetadataProbe.class.getName(), true, loader);
            awaitFirstAnswer = probe.getDeclaredMethod("awaitFirstAnswer", String.class, int.class, int.class,
                    long.class, BooleanSupplier.class);
            awaitFirstAnswer.setAccessible(true);
        }

        /** The first Metadata answer that lists every broker, probed at the first bootstrap address. */
        long awaitMetadata(Started cluster, int brokers) throws Exception {
            String first = cluster.bootstrapServers().split(",")[0].trim();
            int colon = first.lastIndexOf(':');
            BooleanSupplier alive = () -> true;
            try {
                return (long) awaitFirstAnswer.invoke(null, first.substring(0, colon),
                        Integer.parseInt(first.substring(colon + 1)), brokers, PROBE_TIMEOUT_MS, alive);
            } catch (InvocationTargetException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }

        /** The classpath entry (jar or classes dir) holding this resource, found without loading any class. */
        private static URL jarOf(String resource) throws Exception {
            URL url = ClassLoader.getSystemResource(resource);
            if (url == null) {
                throw new IllegalStateException(resource + " is not on the classpath");
            }
            String s = url.toString();
            if (s.startsWith("jar:")) {
                return new URL(s.substring(4, s.indexOf("!/")));
            }
            return new URL(s.substring(0, s.length() - resource.length()));
        }
    }

    private static long heapUsedAfterGc() {
        // Two collections: the first may only queue finalizable and reference-held objects for the second.
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static double millis(long nanos) {
        return nanos / (double) TimeUnit.MILLISECONDS.toNanos(1);
    }

    private static void report(String name, double value) {
        System.out.println(String.format(Locale.ROOT, "result\t%s\t%.3f", name, value));
    }

    /** {@code GregorCluster.start()}, or {@code GregorCluster.builder().brokers(n).start()}, as a test calls them. */
    private static final class GregorStarter implements Starter {
        @Override
        public Started start(int brokers) {
            io.gregor.testkit.GregorCluster cluster = brokers == 1 ? io.gregor.testkit.GregorCluster.start()
                    : io.gregor.testkit.GregorCluster.builder().brokers(brokers).start();
            return new Started() {
                @Override
                public String bootstrapServers() {
                    return cluster.bootstrapServers();
                }

                @Override
                public void close() {
                    cluster.close();
                }
            };
        }
    }

    /** {@link FloorServer}: one "broker" answering ApiVersions and Metadata, nothing else. */
    private static final class FloorStarter implements Starter {
        private final boolean allApis;

        FloorStarter(boolean allApis) {
            this.allApis = allApis;
        }

        @Override
        public Started start(int brokers) throws Exception {
            if (brokers != 1) {
                throw new IllegalArgumentException("the floor server is one broker");
            }
            FloorServer server = FloorServer.start(allApis);
            return new Started() {
                @Override
                public String bootstrapServers() {
                    return server.bootstrapServers();
                }

                @Override
                public void close() {
                    server.close();
                }
            };
        }
    }

    /**
     * spring-kafka-test's {@code new EmbeddedKafkaKraftBroker(n, 1)} with {@code afterPropertiesSet()} and
     * {@code destroy()}, what {@code @EmbeddedKafka} and its JUnit condition call. Through reflection, so that
     * this module compiles without spring-kafka-test: it is only on the EmbeddedKafka subjects' classpath.
     */
    private static final class EmbeddedKafkaStarter implements Starter {
        private static final String BROKER_CLASS = "org.springframework.kafka.test.EmbeddedKafkaKraftBroker";

        @Override
        public Started start(int brokers) throws Exception {
            Class<?> type = Class.forName(BROKER_CLASS);
            Object broker = type.getConstructor(int.class, int.class, String[].class)
                    .newInstance(brokers, 1, new String[0]);
            invoke(type.getMethod("afterPropertiesSet"), broker);
            String bootstrap = (String) invoke(type.getMethod("getBrokersAsString"), broker);
            Method destroy = type.getMethod("destroy");
            return new Started() {
                @Override
                public String bootstrapServers() {
                    return bootstrap;
                }

                @Override
                public void close() throws Exception {
                    invoke(destroy, broker);
                }
            };
        }

        private static Object invoke(Method method, Object target) throws Exception {
            try {
                return method.invoke(target);
            } catch (InvocationTargetException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }
    }
}
