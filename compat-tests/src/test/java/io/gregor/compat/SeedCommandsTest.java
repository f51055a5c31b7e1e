package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every shell command of the seed design note (000_5efd301d89cedcf4.txt, "消费者组信息存储" and "实现消费者组"),
 * run as written against Gregor: only host:port is the test broker's and each script name is the main class that
 * script runs. Once with Apache Kafka 3.9.1's tools, whose syntax the note uses ({@code --broker-list},
 * {@code GroupMetadataManager$OffsetsMessageFormatter}), and once with the 4.4 tools, where those two are
 * spelled {@code --bootstrap-server} and {@code org.apache.kafka.tools.consumer.OffsetsMessageFormatter}.
 * The 3.9 tools run on their own classpath (resolved by the build from src/test/kafka-3.9/pom.xml).
 */
class SeedCommandsTest {
    private static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    private static final String CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";

    private static final String TOPIC = "test-topic";
    private static final String GROUP = "test2_consumer_group";
    private static final String FORMATTER_GROUP = "test-17";
    /** What the note types into the console producer, trailing blanks included. */
    private static final List<String> TYPED = List.of("ok", "have two consumer ", "add one ", "add new onw",
            "just do it", "no no no ", "123", "123", "3423", "ow ", "wo ", "you know");

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);

    /** Awaits {@code condition}, failing early if a tool exits, and with the tools' output when it times out. */
    private static void awaitWhileRunning(String what, Callable<Boolean> condition, RunningTool... running) {
        try {
            await(what).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .failFast("a tool exited", () -> Arrays.stream(running).anyMatch(t -> !t.process.isAlive()))
                    .until(condition);
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            throw new AssertionError(e.getMessage() + "\n" + Arrays.stream(running).map(RunningTool::describe)
                    .collect(Collectors.joining("\n")), e);
        }
    }

    /** A table's rows for {@code group}: each line that starts with it, split on blanks. */
    private static List<List<String>> rows(ToolRunner.Result result, String group) {
        return result.stdoutLines().stream().map(l -> List.of(l.trim().split("\\s+")))
                .filter(cols -> cols.get(0).equals(group)).toList();
    }

    private static List<String> onlyRow(ToolRunner.Result result, String group) {
        List<List<String>> rows = rows(result, group);
        assertThat(rows).as(result.describe()).hasSize(1);
        return rows.get(0);
    }

    /** One Kafka release's tools: where its classes are and the main classes and names its scripts use. */
    private record KafkaTools(String release, String classpath, List<String> jvmArgs, String consoleProducer,
                              String producerBrokerFlag, String offsetsFormatter) {
        List<String> command(String mainClass, List<String> args) {
            return JavaProcesses.command(classpath, mainClass, jvmArgs, args);
        }
    }

    /** kafka_2.13 3.9.1: bin/kafka-console-producer.sh still runs the Scala kafka.tools.ConsoleProducer. */
    private static KafkaTools kafka39(Path config) throws IOException {
        Path classpathFile = TestDirs.target().resolve("kafka-3.9-tools.classpath");
        assertThat(classpathFile).as("written by the build (exec-maven-plugin, generate-test-resources)").exists();
        // The distribution's config/tools-log4j.properties, which bin/kafka-run-class.sh hands every tool.
        Path log4j = Files.writeString(config.resolve("tools-log4j.properties"), """
                log4j.rootLogger=WARN, stderr
                log4j.appender.stderr=org.apache.log4j.ConsoleAppender
                log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
                log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
                log4j.appender.stderr.Target=System.err
                """);
        return new KafkaTools("3.9.1", Files.readString(classpathFile).trim(),
                List.of("-Dlog4j.configuration=file:" + log4j), "kafka.tools.ConsoleProducer", "--broker-list",
                "kafka.coordinator.group.GroupMetadataManager$OffsetsMessageFormatter");
    }

    private static KafkaTools kafka44() {
        return new KafkaTools("4.4.0", System.getProperty("java.class.path"), List.of(),
                "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server",
                "org.apache.kafka.tools.consumer.OffsetsMessageFormatter");
    }

    @Test
    void seedCommandsWithKafka39Tools(@TempDir Path kafkaHome) throws Exception {
        Path config = Files.createDirectories(kafkaHome.resolve("config"));
        runSeed(kafka39(config), kafkaHome);
    }

    @Test
    void seedCommandsWithKafka44Tools(@TempDir Path kafkaHome) throws Exception {
        Files.createDirectories(kafkaHome.resolve("config"));
        runSeed(kafka44(), kafkaHome);
    }

    private static void runSeed(KafkaTools tools, Path kafkaHome) throws Exception {
        // As Kafka's shipped single-broker server.properties: no initial rebalance delay.
        try (TestBroker broker = TestBroker.start("seed-" + tools.release(),
                Map.of("group.initial.rebalance.delay.ms", "0"));
             Admin admin = Clients.admin(broker.bootstrapServers())) {
            Seed seed = new Seed(tools, kafkaHome, broker.bootstrapServers(), admin);
            seed.run();
        }
    }

    /** The note's commands against one broker, in the note's order where the state they need allows. */
    private static final class Seed {
        private final KafkaTools tools;
        private final Path bin;
        private final String bootstrap;
        private final Admin admin;

        Seed(KafkaTools tools, Path kafkaHome, String bootstrap, Admin admin) throws IOException {
            this.tools = tools;
            this.bin = Files.createDirectories(kafkaHome.resolve("bin"));
            this.bootstrap = bootstrap;
            this.admin = admin;
            // "在node02、node03 上修改 config/consumer.properties配置文件中的group.id属性为任意组名": Kafka's shipped
            // file with its group.id changed; the tools find it as ../config/consumer.properties from bin/.
            Files.writeString(kafkaHome.resolve("config/consumer.properties"),
                    "bootstrap.servers=" + bootstrap + "\ngroup.id=" + GROUP + "\n");
        }

        void run() {
            // kafka-console-consumer.sh --bootstrap-server node01:9092 --topic test-topic --consumer.config ../config/consumer.properties
            try (RunningTool node02 = start("node02", CONSOLE_CONSUMER,
                    "--bootstrap-server", bootstrap, "--topic", TOPIC, "--consumer.config", "../config/consumer.properties");
                 RunningTool node03 = start("node03", CONSOLE_CONSUMER,
                         "--bootstrap-server", bootstrap, "--topic", TOPIC, "--consumer.config", "../config/consumer.properties")) {
                awaitStableGroupWithPositions(2, node02, node03);

                // kafka-console-producer.sh --broker-list node01:9092 --topic test-topic
                ToolRunner.Result produced = run(String.join("\n", TYPED) + "\n", tools.consoleProducer(),
                        tools.producerBrokerFlag(), bootstrap, "--topic", TOPIC);
                assertThat(produced.exitCode()).as(produced.describe()).isZero();

                // "可见同一时刻只有一个消费者接收到消息": the auto-created topic has one partition (num.partitions=1).
                awaitWhileRunning("the typed lines reach the group",
                        () -> node02.stdoutLines().size() + node03.stdoutLines().size() >= TYPED.size(), node02, node03);
                List<String> got02 = node02.stdoutLines();
                List<String> got03 = node03.stdoutLines();
                String both = node02.describe() + "\n" + node03.describe();
                assertThat(List.of(got02, got03)).as(both).containsExactlyInAnyOrder(TYPED, List.of());

                consumeFromBeginning();
                activeGroupCommands();
            }
            inactiveGroupCommands();
            offsetsFormatterShowsTheGroupsCommits();
        }

        /** kafka-console-consumer.sh --bootstrap-server node01:9092 --topic test-topic --from-beginning */
        private void consumeFromBeginning() {
            try (RunningTool fromBeginning = start("from-beginning", CONSOLE_CONSUMER,
                    "--bootstrap-server", bootstrap, "--topic", TOPIC, "--from-beginning")) {
                awaitWhileRunning("--from-beginning prints every line",
                        () -> fromBeginning.stdoutLines().size() >= TYPED.size(), fromBeginning);
                assertThat(fromBeginning.stdoutLines()).as(fromBeginning.describe()).isEqualTo(TYPED);
            }
        }

        /** The kafka-consumer-groups.sh lines while node02 and node03 are running. */
        private void activeGroupCommands() {
            await("auto-commit of the consumed position").atMost(Duration.ofSeconds(30))
                    .until(() -> committed(GROUP).equals(Map.of(0, 12L)));

            // The note's read-only lines while the group is stable, run side by side (each tool is a JVM):
            List<ToolRunner.Result> reads = ToolRunner.concurrently(
                    // sh bin/kafka-consumer-groups.sh --bootstrap-server xxxx:9090 --list
                    () -> groups("--bootstrap-server", bootstrap, "--list"),
                    // sh bin/kafka-consumer-groups.sh --bootstrap-server xxxxx:9090 --describe --group test2_consumer_group
                    () -> groups("--bootstrap-server", bootstrap, "--describe", "--group", GROUP),
                    // sh bin/kafka-consumer-groups.sh --bootstrap-server xxxxx:9090 --describe --all-groups
                    () -> groups("--bootstrap-server", bootstrap, "--describe", "--all-groups"),
                    // sh bin/kafka-consumer-groups.sh --describe --all-groups --members --bootstrap-server xxx:9090
                    () -> groups("--describe", "--all-groups", "--members", "--bootstrap-server", bootstrap),
                    // sh bin/kafka-consumer-groups.sh --describe --members --group test2_consumer_group --bootstrap-server xxxx:9090
                    () -> groups("--describe", "--members", "--group", GROUP, "--bootstrap-server", bootstrap),
                    // # 查询消费者状态信息--state
                    () -> groups("--bootstrap-server", bootstrap, "--describe", "--group", GROUP, "--state"));
            assertThat(reads.get(0).stdoutLines()).contains(GROUP);

            ToolRunner.Result describe = reads.get(1);
            List<String> row = onlyRow(describe, GROUP);
            assertThat(row.subList(1, 6)).as(describe.describe()).containsExactly(TOPIC, "0", "12", "12", "0");
            assertThat(row.get(6)).as(describe.describe()).isNotEqualTo("-");
            assertThat(row.get(7)).as(describe.describe()).isEqualTo("/127.0.0.1");

            ToolRunner.Result all = reads.get(2);
            assertThat(onlyRow(all, GROUP)).as(all.describe()).isEqualTo(row);

            ToolRunner.Result allMembers = reads.get(3);
            assertTwoMembersOneOwningThePartition(allMembers, row.get(6));

            ToolRunner.Result members = reads.get(4);
            assertTwoMembersOneOwningThePartition(members, row.get(6));

            ToolRunner.Result state = reads.get(5);
            List<String> stateRow = onlyRow(state, GROUP);
            assertThat(stateRow).as(state.describe()).endsWith("range", "Stable", "2");

            // # 删除消费者组--delete: not while it has members.
            ToolRunner.Result delete = groupsMayFail("--bootstrap-server", bootstrap, "--delete", "--group", GROUP);
            assertThat(delete.stdout() + delete.stderr()).as(delete.describe())
                    .contains("Group '" + GROUP + "' could not be deleted due to:").contains("The group is not empty");

            // # 重置消费组的偏移量 --reset-offsets / "能够执行成功的一个前提是 消费组这会是不可用状态"
            ToolRunner.Result reset = groupsMayFail("--bootstrap-server", bootstrap, "--reset-offsets", "--group", GROUP,
                    "--topic", TOPIC, "--to-earliest", "--execute");
            assertThat(reset.stdout() + reset.stderr()).as(reset.describe())
                    .contains("Assignments can only be reset if the group '" + GROUP
                            + "' is inactive, but the current state is Stable.");
            assertThat(committed(GROUP)).isEqualTo(Map.of(0, 12L));

            // # 删除偏移量delete-offsets / "能够执行成功的一个前提是 消费组这会是不可用状态"
            ToolRunner.Result deleteOffsets = groupsMayFail("--bootstrap-server", bootstrap, "--delete-offsets",
                    "--group", GROUP, "--topic", TOPIC);
            assertThat(deleteOffsets.stdout() + deleteOffsets.stderr()).as(deleteOffsets.describe())
                    .contains("GroupSubscribedToTopicException");
            assertThat(committed(GROUP)).isEqualTo(Map.of(0, 12L));
        }

        private void assertTwoMembersOneOwningThePartition(ToolRunner.Result members, String owner) {
            List<List<String>> rows = rows(members, GROUP);
            assertThat(rows).as(members.describe()).hasSize(2)
                    .allSatisfy(r -> assertThat(r.get(2)).isEqualTo("/127.0.0.1"));
            assertThat(rows.stream().map(r -> r.get(1) + " " + r.get(r.size() - 1)).toList()).as(members.describe())
                    .contains(owner + " 1")
                    .anySatisfy(r -> assertThat(r).endsWith(" 0").doesNotStartWith(owner));
        }

        /** The same tool lines once node02 and node03 have stopped (Ctrl-C), which empties the group. */
        private void inactiveGroupCommands() {
            await("group " + GROUP + " empty").atMost(Duration.ofSeconds(30)).until(() ->
                    Clients.get(admin.describeConsumerGroups(List.of(GROUP)).all()).get(GROUP).groupState() == GroupState.EMPTY);

            List<ToolRunner.Result> reads = ToolRunner.concurrently(
                    () -> groups("--bootstrap-server", bootstrap, "--describe", "--group", GROUP, "--state"),
                    () -> groups("--bootstrap-server", bootstrap, "--describe", "--group", GROUP));
            ToolRunner.Result state = reads.get(0);
            assertThat(onlyRow(state, GROUP)).as(state.describe()).endsWith("Empty", "0");

            ToolRunner.Result describe = reads.get(1);
            assertThat(describe.stdout() + describe.stderr()).as(describe.describe())
                    .contains("Consumer group '" + GROUP + "' has no active members.");
            assertThat(onlyRow(describe, GROUP)).as(describe.describe())
                    .containsExactly(GROUP, TOPIC, "0", "12", "12", "0", "-", "-", "-");

            ToolRunner.Result reset = groups("--bootstrap-server", bootstrap, "--reset-offsets", "--group", GROUP,
                    "--topic", TOPIC, "--to-earliest", "--execute");
            // Pattern, not row: the 3.9 tool prints the table's header without a line break after it.
            assertThat(reset.stdout()).as(reset.describe())
                    .containsPattern("NEW-OFFSET\\s+" + GROUP + "\\s+" + TOPIC + "\\s+0\\s+0\\s");
            assertThat(committed(GROUP)).isEqualTo(Map.of(0, 0L));

            ToolRunner.Result deleteOffsets = groups("--bootstrap-server", bootstrap, "--delete-offsets",
                    "--group", GROUP, "--topic", TOPIC);
            assertThat(deleteOffsets.stdout()).as(deleteOffsets.describe())
                    // 3.9 says "Request succeed for deleting offsets with topic ...", 4.4 "Request succeeded ...".
                    .containsPattern("Request succeed(ed)? for deleting offsets")
                    .containsPattern(TOPIC + "\\s+0\\s+Successful");
            assertThat(committed(GROUP)).isEmpty();

            ToolRunner.Result delete = groups("--bootstrap-server", bootstrap, "--delete", "--group", GROUP);
            assertThat(delete.stdout()).as(delete.describe())
                    .contains("Deletion of requested consumer groups ('" + GROUP + "') was successful.");
            assertThat(groups("--bootstrap-server", bootstrap, "--list").stdoutLines()).doesNotContain(GROUP);
        }

        /**
         * ./bin/kafka-console-consumer.sh --bootstrap-server message-1:9092 --topic __consumer_offsets
         *   --formatter "kafka.coordinator.group.GroupMetadataManager\$OffsetsMessageFormatter" --partition 45
         * with the partition the note computes for its example group: Math.abs("test-17".hashCode()) % 50.
         */
        private void offsetsFormatterShowsTheGroupsCommits() {
            int partition = Math.abs(FORMATTER_GROUP.hashCode()) % 50;
            assertThat(partition).isEqualTo(13);
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            try (RunningTool formatter = start("offsets-formatter", CONSOLE_CONSUMER, "--bootstrap-server", bootstrap,
                    "--topic", "__consumer_offsets", "--formatter", tools.offsetsFormatter(),
                    "--partition", Integer.toString(partition));
                 KafkaConsumer<String, String> test17 = Clients.consumer(bootstrap,
                         Map.of(ConsumerConfig.GROUP_ID_CONFIG, FORMATTER_GROUP))) {
                // 3.9 prints "[group,topic,partition]::OffsetAndMetadata(...)", 4.4 a JSON document per record.
                Pattern commit = tools.release().startsWith("3.")
                        ? Pattern.compile(Pattern.quote("[" + FORMATTER_GROUP + "," + TOPIC + ",0]::OffsetAndMetadata(offset=7, ")
                        + ".*metadata=seed, ")
                        : Pattern.compile(Pattern.quote("{\"key\":{\"type\":1,\"data\":{\"group\":\"" + FORMATTER_GROUP
                        + "\",\"topic\":\"" + TOPIC + "\",\"partition\":0}},\"value\":{\"version\":4,\"data\":{\"offset\":7,")
                        + ".*\"metadata\":\"seed\"");
                // Without --offset the formatter starts at the partition's end, so commit until it has printed one.
                awaitWhileRunning("the formatter prints a commit of " + FORMATTER_GROUP, () -> {
                    test17.commitSync(Map.of(tp, new OffsetAndMetadata(7, "seed")));
                    return commit.matcher(formatter.stdout()).find();
                }, formatter);
                // The partition holds this group's records only; test2_consumer_group's are in partition 27.
                assertThat(formatter.stdout()).as(formatter.describe()).doesNotContain(GROUP);
            }
        }

        ToolRunner.Result groups(String... args) {
            ToolRunner.Result r = groupsMayFail(args);
            assertThat(r.exitCode()).as(r.describe()).isZero();
            return r;
        }

        ToolRunner.Result groupsMayFail(String... args) {
            return run(null, CONSUMER_GROUPS, args);
        }

        /** Both members joined, and the partition's owner has its position (auto-commit wrote it). */
        private void awaitStableGroupWithPositions(int members, RunningTool... tools) {
            await("group " + GROUP + " stable with " + members + " members and a committed position")
                    .atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(200))
                    // Until the first member joins, the group does not exist.
                    .ignoreException(GroupIdNotFoundException.class)
                    .failFast(() -> {
                        for (RunningTool t : tools) {
                            assertThat(t.process.isAlive()).as("tool exited early\n" + t.describe()).isTrue();
                        }
                    })
                    .until(() -> {
                        ConsumerGroupDescription d = Clients.get(admin.describeConsumerGroups(List.of(GROUP)).all()).get(GROUP);
                        return d.groupState() == GroupState.STABLE && d.members().size() == members
                                && committed(GROUP).containsKey(0);
                    });
        }

        Map<Integer, Long> committed(String group) {
            Map<Integer, Long> out = new HashMap<>();
            Clients.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())
                    .forEach((tp, o) -> {
                        if (o != null && tp.topic().equals(TOPIC)) {
                            out.put(tp.partition(), o.offset());
                        }
                    });
            return out;
        }

        ToolRunner.Result run(String stdin, String mainClass, String... args) {
            return ToolRunner.run(tools.command(mainClass, List.of(args)), stdin, TOOL_TIMEOUT);
        }

        RunningTool start(String name, String mainClass, String... args) {
            return new RunningTool(tools.release() + "-" + name, tools.command(mainClass, List.of(args)), bin);
        }
    }

    /** A tool that runs until stopped, like a console consumer in a terminal: started in {@code cwd}, output to files. */
    private static final class RunningTool implements AutoCloseable {
        private static final Pattern DEPRECATED_OPTION =
                Pattern.compile("Option --[a-z.-]+ is deprecated and will be removed in a future version\\..*");
        private final List<String> command;
        private final Path stdout;
        private final Path stderr;
        private final Process process;

        RunningTool(String name, List<String> command, Path cwd) {
            this.command = command;
            this.stdout = TestDirs.newLogFile(name + "-stdout");
            this.stderr = TestDirs.newLogFile(name + "-stderr");
            try {
                this.process = new ProcessBuilder(command).directory(cwd.toFile())
                        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String stdout() {
            return read(stdout);
        }

        /** What the tool printed on stdout, less blank lines and the 4.x tools' notice that an option is deprecated. */
        List<String> stdoutLines() {
            return read(stdout).lines().filter(l -> !l.isBlank() && !DEPRECATED_OPTION.matcher(l).matches()).toList();
        }

        String describe() {
            return "command: " + String.join(" ", command.stream()
                    .map(a -> a.length() > 200 ? a.substring(0, 60) + "...(" + a.length() + " chars)" : a).toList())
                    + "\nalive: " + process.isAlive() + "\n--- stdout ---\n" + read(stdout)
                    + "\n--- stderr ---\n" + read(stderr);
        }

        private static String read(Path file) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Ctrl-C: SIGTERM runs the tool's shutdown hook, so a group member leaves its group. */
        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
