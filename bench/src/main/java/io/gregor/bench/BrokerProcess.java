package io.gregor.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** A broker under test, run as its own process with a fresh data dir, each with its own launch defaults. */
abstract class BrokerProcess implements AutoCloseable {
    final Path runDir;
    final int port;
    final int sslPort;
    final int saslSslPort;
    /** Set: the next start adds SSL and SASL_SSL listeners (the TLS rows); null: PLAINTEXT only. */
    BenchTls tls;
    private Process process;
    /** Nanoseconds from process start to the first answered Metadata request. */
    private long startToMetadataNanos;

    BrokerProcess(Path runDir) throws IOException {
        this.runDir = runDir;
        this.port = freePort();
        this.sslPort = freePort();
        this.saslSslPort = freePort();
        Files.createDirectories(runDir);
    }

    abstract String name();

    /** Anything that must happen before the measured start (Kafka's storage format). */
    void prepare() throws IOException, InterruptedException {
    }

    abstract List<String> command();

    String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The listener of {@code protocol}: PLAINTEXT, SSL or SASL_SSL (the latter two while {@link #tls} is set). */
    String bootstrap(String protocol) {
        return "127.0.0.1:" + switch (protocol) {
            case "SSL" -> sslPort;
            case "SASL_SSL" -> saslSslPort;
            default -> port;
        };
    }

    final void start(Affinity affinity) throws IOException, InterruptedException {
        prepare();
        MetadataProbe.load();
        ProcessBuilder pb = new ProcessBuilder(affinity.broker(command())).redirectErrorStream(true)
                .redirectOutput(runDir.resolve("broker.out").toFile());
        long started = System.nanoTime();
        process = pb.start();
        Process started0 = process;
        // If the harness is stopped (Ctrl-C), the broker must not outlive it.
        Runtime.getRuntime().addShutdownHook(new Thread(started0::destroy));
        long answered = MetadataProbe.awaitFirstAnswer("127.0.0.1", port, 180_000, process::isAlive);
        startToMetadataNanos = answered - started;
    }

    long pid() {
        return process.pid();
    }

    double startToMetadataMs() {
        return startToMetadataNanos / 1e6;
    }

    /** SIGTERM, then wait for a clean shutdown; SIGKILL only if it hangs. */
    @Override
    public void close() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /**
     * A free loopback port below the kernel's ephemeral range (32768 and up): a port taken from that range can be
     * handed to a client socket before the broker binds it, and the broker then fails to start.
     */
    static int freePort() throws IOException {
        // -Dgregor.bench.ports=FROM-TO keeps the brokers in a range of ports (a machine shared with other runs)
        String[] range = System.getProperty("gregor.bench.ports", "20000-32767").split("-");
        int from = Integer.parseInt(range[0].trim());
        int to = Integer.parseInt(range[1].trim());
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(from, to + 1);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no free loopback port in " + from + "-" + to);
    }

    /** Gregor through its own start script, with the shipped config/server.properties. */
    static final class Gregor extends BrokerProcess {
        private final Path home;

        Gregor(Path home, Path runDir) throws IOException {
            super(runDir);
            this.home = home;
        }

        @Override
        String name() {
            return "Gregor";
        }

        @Override
        List<String> command() {
            List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/gregor-server-start").toString(),
                    home.resolve("config/server.properties").toString(),
                    "--override", "log.dirs=" + runDir.resolve("data")));
            if (tls == null) {
                cmd.addAll(List.of("--override", "listeners=PLAINTEXT://127.0.0.1:" + port));
            } else {
                cmd.addAll(List.of("--override", "listeners=" + BenchTls.listeners(port, sslPort, saslSslPort),
                        "--override", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
                        "--override", "inter.broker.listener.name=PLAINTEXT"));
                cmd.addAll(BenchTls.overrides(tls.brokerSettings()));
            }
            return cmd;
        }
    }

    /**
     * Apache Kafka in KRaft combined mode, one node, with the settings of Kafka's shipped
     * config/server.properties and the JVM options kafka-server-start.sh uses.
     */
    static final class Kafka extends BrokerProcess {
        private final String classpath;
        private final int controllerPort;
        private final Path config;

        Kafka(String classpath, Path runDir) throws IOException {
            super(runDir);
            this.classpath = classpath;
            this.controllerPort = freePort();
            this.config = runDir.resolve("server.properties");
        }

        @Override
        String name() {
            return "Kafka";
        }

        @Override
        void prepare() throws IOException, InterruptedException {
            String listeners = tls == null ? "PLAINTEXT://127.0.0.1:" + port
                    : BenchTls.listeners(port, sslPort, saslSslPort);
            StringBuilder security = new StringBuilder();
            if (tls != null) {
                tls.brokerSettings().forEach((k, v) -> security.append(k).append('=').append(v).append('\n'));
            }
            Files.writeString(config, security + String.join("\n",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
                    "listeners=" + listeners + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "inter.broker.listener.name=PLAINTEXT",
                    "advertised.listeners=" + listeners + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
                    "num.network.threads=3",
                    "num.io.threads=8",
                    "socket.send.buffer.bytes=102400",
                    "socket.receive.buffer.bytes=102400",
                    "socket.request.max.bytes=104857600",
                    "log.dirs=" + runDir.resolve("data"),
                    "num.partitions=1",
                    "num.recovery.threads.per.data.dir=1",
                    "offsets.topic.replication.factor=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "log.retention.hours=168",
                    "log.segment.bytes=1073741824",
                    "log.retention.check.interval.ms=300000",
                    // The shipped file sets this for development setups like this one.
                    "group.initial.rebalance.delay.ms=0",
                    ""));
            Files.writeString(runDir.resolve("log4j2.properties"), String.join("\n",
                    "appender.file.type=File",
                    "appender.file.name=file",
                    "appender.file.fileName=" + runDir.resolve("server.log"),
                    "appender.file.layout.type=PatternLayout",
                    "appender.file.layout.pattern=[%d] %p %m (%c)%n",
                    "rootLogger.level=INFO",
                    "rootLogger.appenderRef.file.ref=file",
                    ""));
            List<String> format = List.of("java", "-Xmx256m", "-cp", classpath, "kafka.tools.StorageTool", "format",
                    "--cluster-id=" + org.apache.kafka.common.Uuid.randomUuid(), "-c", config.toString(), "--standalone");
            Process p = new ProcessBuilder(format).redirectErrorStream(true)
                    .redirectOutput(runDir.resolve("format.out").toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("kafka-storage format failed: see " + runDir.resolve("format.out"));
            }
        }

        @Override
        List<String> command() {
            List<String> cmd = new ArrayList<>(List.of("java",
                    // kafka-server-start.sh: KAFKA_HEAP_OPTS
                    "-Xmx1G", "-Xms1G",
                    // kafka-run-class.sh: KAFKA_JVM_PERFORMANCE_OPTS
                    "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
                    "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
                    "-Dlog4j2.configurationFile=" + runDir.resolve("log4j2.properties"),
                    "-cp", classpath, "kafka.Kafka", config.toString()));
            return cmd;
        }
    }
}
