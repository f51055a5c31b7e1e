package io.gregor.compat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Kafka's own command-line tools, run unchanged as subprocesses, against Gregor. */
class ConsoleToolsTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final int RECORDS = 10;

    private static List<String> keyedLines() {
        return IntStream.range(0, RECORDS).mapToObj(i -> "key" + i + ":value " + i).collect(Collectors.toList());
    }

    private static void consoleProduce(String topic, List<String> lines) {
        ToolRunner.Result produced = ToolRunner.runToolWithInput(ToolRunner.CONSOLE_PRODUCER,
                String.join("\n", lines) + "\n",
                "--bootstrap-server", BROKER.bootstrapServers(), "--topic", topic,
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        assertThat(produced.exitCode()).as(produced.describe()).isZero();
    }

    @Test
    void consoleProducerThenConsoleConsumerWithGroup() {
        String topic = TestDirs.uniqueTopic("console");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        consoleProduce(topic, keyedLines());

        // No --partition: the console consumer subscribes with a generated group, so this needs the coordinator.
        ToolRunner.Result consumed = ToolRunner.runTool(ToolRunner.CONSOLE_CONSUMER,
                "--bootstrap-server", BROKER.bootstrapServers(), "--topic", topic,
                "--from-beginning", "--max-messages", Integer.toString(RECORDS), "--timeout-ms", "40000",
                "--formatter-property", "print.key=true", "--formatter-property", "key.separator=:");
        assertThat(consumed.exitCode()).as(consumed.describe()).isZero();
        assertThat(consumed.stdoutLines()).as(consumed.describe()).containsExactlyElementsOf(keyedLines());
        assertThat(consumed.stderr()).as(consumed.describe()).contains("Processed a total of " + RECORDS + " messages");
    }

    @Test
    void consoleConsumerOnOnePartitionWithoutGroup() {
        String topic = TestDirs.uniqueTopic("console-assign");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        consoleProduce(topic, keyedLines());

        ToolRunner.Result consumed = ToolRunner.runTool(ToolRunner.CONSOLE_CONSUMER,
                "--bootstrap-server", BROKER.bootstrapServers(), "--topic", topic,
                "--partition", "0", "--offset", "earliest", "--max-messages", Integer.toString(RECORDS),
                "--timeout-ms", "40000",
                "--formatter-property", "print.key=true", "--formatter-property", "key.separator=:");
        assertThat(consumed.exitCode()).as(consumed.describe()).isZero();
        assertThat(consumed.stdoutLines()).as(consumed.describe()).containsExactlyElementsOf(keyedLines());
    }

    @Test
    void topicCommandCreatesListsAndDescribes() {
        String topic = TestDirs.uniqueTopic("kafka-topics");
        String bootstrap = BROKER.bootstrapServers();

        ToolRunner.Result create = ToolRunner.runTool(ToolRunner.TOPIC_COMMAND, "--bootstrap-server", bootstrap,
                "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1",
                "--config", "retention.ms=1000000");
        assertThat(create.exitCode()).as(create.describe()).isZero();
        assertThat(create.stdout()).as(create.describe()).contains("Created topic " + topic + ".");

        // the two read-only runs side by side
        List<ToolRunner.Result> reads = ToolRunner.concurrently(
                () -> ToolRunner.runTool(ToolRunner.TOPIC_COMMAND, "--bootstrap-server", bootstrap, "--list"),
                () -> ToolRunner.runTool(ToolRunner.TOPIC_COMMAND, "--bootstrap-server", bootstrap,
                        "--describe", "--topic", topic));
        ToolRunner.Result list = reads.get(0);
        assertThat(list.exitCode()).as(list.describe()).isZero();
        assertThat(list.stdoutLines()).as(list.describe()).contains(topic);

        ToolRunner.Result describe = reads.get(1);
        assertThat(describe.exitCode()).as(describe.describe()).isZero();
        assertThat(describe.stdout()).as(describe.describe())
                .contains("PartitionCount: 3", "ReplicationFactor: 1", "retention.ms=1000000");
        assertThat(describe.stdoutLines().stream().filter(l -> l.contains("Partition: ")).count())
                .as(describe.describe()).isEqualTo(3);
        assertThat(describe.stdout()).doesNotContain("TopicId: AAAAAAAAAAAAAAAAAAAAAA");

        ToolRunner.Result alter = ToolRunner.runTool(ToolRunner.TOPIC_COMMAND, "--bootstrap-server", bootstrap,
                "--alter", "--topic", topic, "--partitions", "5");
        assertThat(alter.exitCode()).as(alter.describe()).isZero();

        ToolRunner.Result delete = ToolRunner.runTool(ToolRunner.TOPIC_COMMAND, "--bootstrap-server", bootstrap,
                "--delete", "--topic", topic);
        assertThat(delete.exitCode()).as(delete.describe()).isZero();
    }

    @Test
    void configCommandAltersAndDescribesTopicConfig() {
        String topic = TestDirs.uniqueTopic("kafka-configs");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);

        ToolRunner.Result alter = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND,
                "--bootstrap-server", BROKER.bootstrapServers(), "--entity-type", "topics", "--entity-name", topic,
                "--alter", "--add-config", "retention.ms=5000,max.message.bytes=100000");
        assertThat(alter.exitCode()).as(alter.describe()).isZero();

        ToolRunner.Result describe = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND,
                "--bootstrap-server", BROKER.bootstrapServers(), "--entity-type", "topics", "--entity-name", topic,
                "--describe");
        assertThat(describe.exitCode()).as(describe.describe()).isZero();
        assertThat(describe.stdout()).as(describe.describe()).contains("retention.ms=5000", "max.message.bytes=100000");

        ToolRunner.Result remove = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND,
                "--bootstrap-server", BROKER.bootstrapServers(), "--entity-type", "topics", "--entity-name", topic,
                "--alter", "--delete-config", "retention.ms");
        assertThat(remove.exitCode()).as(remove.describe()).isZero();
        ToolRunner.Result after = ToolRunner.runTool(ToolRunner.CONFIG_COMMAND,
                "--bootstrap-server", BROKER.bootstrapServers(), "--entity-type", "topics", "--entity-name", topic,
                "--describe");
        assertThat(after.stdout()).as(after.describe()).doesNotContain("retention.ms=5000").contains("max.message.bytes=100000");
    }

    @Test
    void getOffsetShellPrintsLatestAndEarliest() {
        String topic = TestDirs.uniqueTopic("get-offsets");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 2);
        consoleProduce(topic, keyedLines());

        // latest and earliest side by side: both read a topic nothing writes to any more
        List<ToolRunner.Result> runs = ToolRunner.concurrently(
                () -> ToolRunner.runTool(ToolRunner.GET_OFFSET_SHELL,
                        "--bootstrap-server", BROKER.bootstrapServers(), "--topic", topic),
                () -> ToolRunner.runTool(ToolRunner.GET_OFFSET_SHELL,
                        "--bootstrap-server", BROKER.bootstrapServers(), "--topic", topic, "--time", "-2"));
        ToolRunner.Result latest = runs.get(0);
        assertThat(latest.exitCode()).as(latest.describe()).isZero();
        // Keys spread the records over both partitions; the two end offsets add up to all of them.
        List<String> lines = latest.stdoutLines();
        assertThat(lines).as(latest.describe()).hasSize(2)
                .allSatisfy(l -> assertThat(l).matches(topic + ":[01]:\\d+"));
        long total = lines.stream().mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(':') + 1))).sum();
        assertThat(total).as(latest.describe()).isEqualTo(RECORDS);

        ToolRunner.Result earliest = runs.get(1);
        assertThat(earliest.exitCode()).as(earliest.describe()).isZero();
        assertThat(earliest.stdoutLines()).as(earliest.describe())
                .containsExactlyInAnyOrder(topic + ":0:0", topic + ":1:0");
    }
}
