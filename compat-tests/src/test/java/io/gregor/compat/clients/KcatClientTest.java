package io.gregor.compat.clients;

import io.gregor.compat.BrokerExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** librdkafka through Debian's kcat: metadata, keyed produce with headers, consume, offsets, groups, codecs. */
class KcatClientTest {
    private static final String KCAT = "/usr/bin/kcat";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final BrokerExtension BROKER = BrokerExtension.shippedConfig();

    @BeforeAll
    static void findKcat() {
        assertThat(Files.isExecutable(Path.of(KCAT))).as("kcat is required: run .ci/install-clients").isTrue();
    }

    private static ClientProcess.Result kcat(String stdin, String... args) {
        List<String> command = new ArrayList<>(List.of(KCAT, "-b", BROKER.bootstrapServers()));
        command.addAll(List.of(args));
        return ClientProcess.run(command, stdin, TIMEOUT);
    }

    private static ClientProcess.Result succeeded(ClientProcess.Result result) {
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    private static String lines(String prefix, int from, int to) {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < to; i++) {
            out.append(prefix).append(i).append('\n');
        }
        return out.toString();
    }

    @Test
    void metadataListsTheBrokerAndAProducedTopic() {
        succeeded(kcat("k:v\n", "-P", "-t", "kcat-meta", "-K:"));

        ClientProcess.Result list = succeeded(kcat(null, "-L"));
        assertThat(list.stdout()).as(list.describe())
                .contains("1 brokers:", "broker 0 at 127.0.0.1:" + BROKER.port())
                .contains("topic \"kcat-meta\" with 1 partitions:", "partition 0, leader 0, replicas: 0, isrs: 0");
    }

    @Test
    void keysAndHeadersRoundTrip() {
        String records = "k1:first\nk2:second\nk3:third: with a colon\n";
        succeeded(kcat(records, "-P", "-t", "kcat-keys", "-K:", "-H", "source=kcat", "-H", "trace=abc"));

        ClientProcess.Result consumed = succeeded(kcat(null, "-C", "-t", "kcat-keys", "-o", "beginning", "-e", "-q",
                "-f", "%k|%s|%h|%p:%o\\n"));
        assertThat(consumed.stdoutLines()).as(consumed.describe()).containsExactly(
                "k1|first|source=kcat,trace=abc|0:0",
                "k2|second|source=kcat,trace=abc|0:1",
                "k3|third: with a colon|source=kcat,trace=abc|0:2");
    }

    @Test
    void consumesFromBeginningAndFromAnOffset() {
        succeeded(kcat(lines("m", 0, 10), "-P", "-t", "kcat-offsets"));

        ClientProcess.Result all = succeeded(kcat(null, "-C", "-t", "kcat-offsets", "-o", "beginning", "-e", "-q"));
        assertThat(all.stdoutLines()).as(all.describe()).containsExactlyElementsOf(lines("m", 0, 10).lines().toList());

        ClientProcess.Result fromSeven = succeeded(kcat(null, "-C", "-t", "kcat-offsets", "-p", "0", "-o", "7", "-e", "-q",
                "-f", "%o=%s\\n"));
        assertThat(fromSeven.stdoutLines()).as(fromSeven.describe()).containsExactly("7=m7", "8=m8", "9=m9");

        // A negative offset counts back from the end of the partition.
        ClientProcess.Result lastTwo = succeeded(kcat(null, "-C", "-t", "kcat-offsets", "-p", "0", "-o", "-2", "-e", "-q"));
        assertThat(lastTwo.stdoutLines()).as(lastTwo.describe()).containsExactly("m8", "m9");
    }

    @Test
    void queriesOffsetsForTimes() throws Exception {
        String topic = "kcat-times";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                "bootstrap.servers", BROKER.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            for (long ts : new long[] {1_000, 2_000, 3_000}) {
                producer.send(new ProducerRecord<>(topic, 0, ts, "k", "at " + ts)).get();
            }
        }

        // One query per run: kcat keeps only the last timestamp given for a partition.
        assertThat(offsetForTime(topic, 1_000)).isEqualTo(0);
        assertThat(offsetForTime(topic, 2_000)).isEqualTo(1);
        assertThat(offsetForTime(topic, 2_500)).isEqualTo(2);
        // Later than every record: Kafka answers offset -1.
        assertThat(offsetForTime(topic, 9_000)).isEqualTo(-1);
        // -1 asks for the end offset, -2 for the start.
        ClientProcess.Result ends = succeeded(kcat(null, "-Q", "-t", topic + ":0:-1"));
        assertThat(ends.stdout()).as(ends.describe()).contains(topic + " [0] offset 3");
        ClientProcess.Result starts = succeeded(kcat(null, "-Q", "-t", topic + ":0:-2"));
        assertThat(starts.stdout()).as(starts.describe()).contains(topic + " [0] offset 0");
    }

    private static long offsetForTime(String topic, long timestamp) {
        ClientProcess.Result query = succeeded(kcat(null, "-Q", "-t", topic + ":0:" + timestamp));
        String prefix = topic + " [0] offset ";
        return query.stdoutLines().stream().filter(line -> line.startsWith(prefix))
                .mapToLong(line -> Long.parseLong(line.substring(prefix.length()).trim())).findFirst()
                .orElseThrow(() -> new AssertionError(query.describe()));
    }

    @Test
    void balancedConsumerGroupResumesFromItsCommits() {
        String topic = "kcat-group";
        succeeded(kcat(lines("a", 0, 5), "-P", "-t", topic));

        ClientProcess.Result first = succeeded(kcatGroupMember("kcat-group-1", topic));
        assertThat(first.stdoutLines()).as(first.describe()).containsExactlyElementsOf(lines("a", 0, 5).lines().toList());

        succeeded(kcat(lines("b", 0, 3), "-P", "-t", topic));
        // The same group again: only what arrived after the first run's commit on close.
        ClientProcess.Result second = succeeded(kcatGroupMember("kcat-group-1", topic));
        assertThat(second.stdoutLines()).as(second.describe()).containsExactlyElementsOf(lines("b", 0, 3).lines().toList());
    }

    /** One balanced-consumer member that leaves (committing) once it reached the end of its partitions. */
    private static ClientProcess.Result kcatGroupMember(String group, String topic) {
        // A join takes the broker's initial rebalance delay (3 s) plus a round trip or two.
        return ClientProcess.run(List.of(KCAT, "-b", BROKER.bootstrapServers(), "-G", group,
                "-X", "auto.offset.reset=earliest", "-e", "-q", topic), null, Duration.ofSeconds(30));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void everyCompressionCodecRoundTrips(String codec) {
        String topic = "kcat-codec-" + codec;
        String payload = lines(codec + " record with some repeated padding padding padding #", 0, 200);
        succeeded(kcat(payload, "-P", "-t", topic, "-z", codec, "-K:", "-X", "linger.ms=50"));

        ClientProcess.Result consumed = succeeded(kcat(null, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                "-f", "%o %s\\n"));
        List<String> expected = IntStream.range(0, 200)
                .mapToObj(i -> i + " " + codec + " record with some repeated padding padding padding #" + i).toList();
        assertThat(consumed.stdoutLines()).as(consumed.describe()).containsExactlyElementsOf(expected);
    }

    @Test
    void idempotentProduceWritesEachRecordOnceInOrder() {
        String topic = "kcat-idempotent";
        ClientProcess.Result produce = succeeded(kcat(lines("i", 0, 500), "-P", "-t", topic,
                "-X", "enable.idempotence=true", "-X", "linger.ms=5", "-X", "batch.num.messages=50"));
        assertThat(produce.stderr()).as(produce.describe()).doesNotContain("ERROR");

        ClientProcess.Result consumed = succeeded(kcat(null, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                "-f", "%o %s\\n"));
        List<String> expected = IntStream.range(0, 500).mapToObj(i -> i + " i" + i).toList();
        assertThat(consumed.stdoutLines()).as(consumed.describe()).containsExactlyElementsOf(expected);
    }
}
