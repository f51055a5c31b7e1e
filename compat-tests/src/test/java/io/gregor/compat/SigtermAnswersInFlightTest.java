package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM while an idempotent producer has appended but unanswered produce requests: the broker answers every
 * request it has read before it closes the connection, so nothing is retried after the restart and nothing
 * is stored twice. (A restarted broker knows only each producer's last batch from its snapshot, as Kafka's
 * does; retried earlier batches then broke the producer's sequence and, after its epoch bump, were appended
 * again: BrokerProcessRestartTest once found 1,000 records stored twice.) The answers are held back by the
 * control endpoint's delay fault, which the broker applies after the append.
 */
class SigtermAnswersInFlightTest {
    private static final Pattern CONTROL = Pattern.compile("HTTP listener http://127.0.0.1:(\\d+)");
    private static final int BEFORE = 10;
    private static final int IN_FLIGHT = 5;

    @Test
    void appendedProducesAreAnsweredBeforeTheConnectionsCloseSoNoRetryIsStoredTwice() throws Exception {
        try (BrokerProcess broker = new BrokerProcess("sigterm-inflight",
                Map.of("gregor.http.listener", "127.0.0.1:0")).start()) {
            Matcher control = CONTROL.matcher(Files.readString(broker.outputFile()));
            assertThat(control.find()).as("the broker names its HTTP listener").isTrue();
            String topic = TestDirs.uniqueTopic("sigterm-inflight");
            Clients.createTopic(broker.bootstrapServers(), topic, 1);
            TopicPartition tp = new TopicPartition(topic, 0);

            List<Future<RecordMetadata>> sends = new ArrayList<>();
            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(), Map.of(
                    ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                    ProducerConfig.LINGER_MS_CONFIG, 0,
                    ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, IN_FLIGHT,
                    ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000,
                    ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000,
                    ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500));
                 KafkaConsumer<String, String> offsets = Clients.consumer(broker.bootstrapServers())) {
                for (int i = 0; i < BEFORE; i++) {
                    sends.add(producer.send(new ProducerRecord<>(topic, 0, null, "v" + i)));
                }
                producer.flush();

                HttpResponse<String> fault = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + control.group(1) + "/faults"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"api\":\"PRODUCE\",\"delayMs\":2000}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(fault.statusCode()).as(fault.body()).isBetween(200, 299);
                // one batch per request: each is appended (the log end moves) but its answer is held back
                for (int i = BEFORE; i < BEFORE + IN_FLIGHT; i++) {
                    sends.add(producer.send(new ProducerRecord<>(topic, 0, null, "v" + i)));
                    long end = i + 1;
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> offsets.endOffsets(List.of(tp)).get(tp) == end);
                }
                assertThat(sends.subList(BEFORE, sends.size())).noneMatch(Future::isDone);

                broker.stop();
                broker.start();
                producer.flush();
            }
            for (Future<RecordMetadata> send : sends) {
                assertThat(send).succeedsWithin(Duration.ofSeconds(1));
            }
            try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
                List<String> values = Clients.readAll(consumer, List.of(tp)).stream().map(ConsumerRecord::value)
                        .collect(Collectors.toList());
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < BEFORE + IN_FLIGHT; i++) {
                    expected.add("v" + i);
                }
                assertThat(values).as("each acknowledged record stored once, in order").isEqualTo(expected);
            }
        }
    }
}
