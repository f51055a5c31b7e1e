package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka Streams' word count against Gregor, unchanged: with exactly_once_v2 every word's running count is
 * written exactly once per input word (read committed: 1, 2, ..., n), also when the Streams process is
 * killed with SIGKILL mid-stream and started again; with at_least_once the counts come out right too.
 */
class StreamsExactlyOnceTest {
    private static final List<String> WORDS = List.of("kafka", "gregor", "streams", "exactly", "once", "broker",
            "log", "offset", "commit", "abort", "marker", "fence");

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of(
            "transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
            // as Kafka's shipped single-broker server.properties: each new group's first rebalance at once
            "group.initial.rebalance.delay.ms", "0"));

    @ParameterizedTest
    @ValueSource(strings = {StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE})
    void wordCount(String guarantee) {
        String input = TestDirs.uniqueTopic("wc-in");
        String output = TestDirs.uniqueTopic("wc-out");
        Clients.createTopic(BROKER.bootstrapServers(), input, 3);
        Clients.createTopic(BROKER.bootstrapServers(), output, 3);
        Map<String, Long> expected = produceLines(input, 300, 1);
        Path stateDir = TestDirs.newDataDir("streams-state");
        KafkaStreams streams = StreamsWordCountApp.build(BROKER.bootstrapServers(),
                TestDirs.uniqueTopic("wc-app"), stateDir.toString(), input, output, guarantee);
        try {
            streams.start();
            assertEveryUpdateExactlyOnce(output, expected);
        } finally {
            streams.close(Duration.ofSeconds(30));
            TestDirs.deleteRecursively(stateDir);
        }
    }

    @Test
    void exactlyOnceSurvivesSigkillOfTheStreamsProcess() throws IOException {
        String input = TestDirs.uniqueTopic("wc-kill-in");
        String output = TestDirs.uniqueTopic("wc-kill-out");
        String applicationId = TestDirs.uniqueTopic("wc-kill-app");
        Clients.createTopic(BROKER.bootstrapServers(), input, 3);
        Clients.createTopic(BROKER.bootstrapServers(), output, 3);
        Map<String, Long> expected = produceLines(input, 3000, 2);
        long totalUpdates = expected.values().stream().mapToLong(Long::longValue).sum();
        // The same state dir after the kill: Streams keeps its process id there, so the restarted instance
        // uses the same transactional ids and fences (and so aborts) the killed one's open transaction.
        Path stateDir = TestDirs.newDataDir("streams-kill-state");
        List<String> args = List.of(BROKER.bootstrapServers(), applicationId, stateDir.toString(), input, output,
                StreamsConfig.EXACTLY_ONCE_V2);
        Process first = start(args);
        try (KafkaConsumer<String, Long> reader = committedReader(output)) {
            List<ConsumerRecord<String, Long>> seen = new ArrayList<>();
            await("the first Streams process commits some output").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ZERO).until(() -> {
                        reader.poll(Duration.ofMillis(200)).forEach(seen::add);
                        return seen.size() >= totalUpdates / 10;
                    });
            assertThat(seen.size()).as("killed mid-stream, not after the end").isLessThan((int) totalUpdates);
        } finally {
            first.destroyForcibly();
        }
        Process second = start(args);
        try {
            assertEveryUpdateExactlyOnce(output, expected);
        } finally {
            second.destroyForcibly();
            TestDirs.deleteRecursively(stateDir);
        }
    }

    private static Process start(List<String> args) throws IOException {
        Path log = TestDirs.newLogFile("streams-word-count");
        return new ProcessBuilder(JavaProcesses.command(StreamsWordCountApp.class.getName(), List.of(), args))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    /** Lines of 1-8 words from a fixed vocabulary; returns how often each word was written. */
    private static Map<String, Long> produceLines(String topic, int lines, long seed) {
        Random random = new Random(seed);
        Map<String, Long> counts = new TreeMap<>();
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            for (int i = 0; i < lines; i++) {
                StringBuilder line = new StringBuilder();
                for (int w = random.nextInt(8); w >= 0; w--) {
                    String word = WORDS.get(random.nextInt(WORDS.size()));
                    counts.merge(word, 1L, Long::sum);
                    line.append(word).append(' ');
                }
                producer.send(new ProducerRecord<>(topic, "line-" + i, line.toString().trim()));
            }
            producer.flush();
        }
        return counts;
    }

    private static KafkaConsumer<String, Long> committedReader(String topic) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new LongDeserializer());
        List<TopicPartition> tps = Clients.partitions(topic, 3);
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        return consumer;
    }

    /** Reads the output read_committed until every word reached its count; each word's updates must be 1..n. */
    private static void assertEveryUpdateExactlyOnce(String output, Map<String, Long> expected) {
        Map<String, List<Long>> updates = new TreeMap<>();
        try (KafkaConsumer<String, Long> reader = committedReader(output)) {
            await("every word counted").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ZERO).until(() -> {
                reader.poll(Duration.ofMillis(200))
                        .forEach(r -> updates.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
                return expected.entrySet().stream().allMatch(e -> {
                    List<Long> u = updates.get(e.getKey());
                    return u != null && u.get(u.size() - 1).equals(e.getValue());
                });
            });
        }
        assertThat(updates.keySet()).isEqualTo(expected.keySet());
        expected.forEach((word, count) -> assertThat(updates.get(word)).as("updates of '%s'", word)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, count).boxed().toList()));
    }
}
