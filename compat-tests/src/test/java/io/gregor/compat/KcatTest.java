package io.gregor.compat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** kcat (librdkafka, a non-Java client with its own protocol choices) lists, produces and consumes. */
class KcatTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final String KCAT = "/usr/bin/kcat";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @BeforeAll
    static void kcatInstalled() {
        assertThat(Path.of(KCAT)).as("kcat is required: apt-get install -y kcat").satisfies(p ->
                assertThat(Files.isExecutable(p)).isTrue());
    }

    private static ToolRunner.Result kcat(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of(KCAT, "-b", BROKER.bootstrapServers()));
        cmd.addAll(List.of(args));
        return ToolRunner.run(cmd, stdin, TIMEOUT);
    }

    @Test
    void metadataListing() {
        String topic = TestDirs.uniqueTopic("kcat-list");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 3);

        ToolRunner.Result list = kcat(null, "-L");
        assertThat(list.exitCode()).as(list.describe()).isZero();
        assertThat(list.stdout()).as(list.describe())
                .contains("1 brokers:", "127.0.0.1:" + BROKER.broker().port())
                .contains("topic \"" + topic + "\" with 3 partitions:");
    }

    @Test
    void produceWithKeysThenConsumeFromBeginning() {
        String topic = TestDirs.uniqueTopic("kcat-rt");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        List<String> lines = List.of("k1:first value", "k2:second value", "k3:third: has a colon");

        ToolRunner.Result produce = kcat(String.join("\n", lines) + "\n", "-t", topic, "-P", "-K:", "-p", "0");
        assertThat(produce.exitCode()).as(produce.describe()).isZero();

        ToolRunner.Result consume = kcat(null, "-t", topic, "-C", "-e", "-o", "beginning", "-q",
                "-f", "%k:%s@%o\\n");
        assertThat(consume.exitCode()).as(consume.describe()).isZero();
        assertThat(consume.stdoutLines()).as(consume.describe())
                .containsExactly("k1:first value@0", "k2:second value@1", "k3:third: has a colon@2");
    }

    @Test
    void javaProducedRecordsAreReadableByKcat() {
        String topic = TestDirs.uniqueTopic("kcat-java");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of("compression.type", "lz4"))) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "key" + i, "v" + i));
            }
            producer.flush();
        }

        ToolRunner.Result consume = kcat(null, "-t", topic, "-C", "-e", "-o", "beginning", "-q", "-f", "%k=%s\\n");
        assertThat(consume.exitCode()).as(consume.describe()).isZero();
        assertThat(consume.stdoutLines()).as(consume.describe())
                .containsExactly("key0=v0", "key1=v1", "key2=v2", "key3=v3", "key4=v4");
    }
}
