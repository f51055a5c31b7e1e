package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every codec a Kafka producer can use round trips through the broker with values, keys and headers intact. */
class CompressionTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final int RECORDS = 200;

    @ParameterizedTest(name = "compression.type={0}")
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void codecRoundTripsValuesAndHeaders(String codec) {
        String topic = TestDirs.uniqueTopic("codec-" + codec);
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);

        List<ProducerRecord<String, String>> sent = new ArrayList<>();
        // linger so records share batches: compression only matters for multi-record batches.
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(), Map.of(
                ProducerConfig.COMPRESSION_TYPE_CONFIG, codec,
                ProducerConfig.LINGER_MS_CONFIG, 50))) {
            for (int i = 0; i < RECORDS; i++) {
                RecordHeaders headers = new RecordHeaders();
                headers.add(new RecordHeader("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
                headers.add(new RecordHeader("empty", new byte[0]));
                headers.add(new RecordHeader("null-value", null));
                // Repetitive values compress well, so a codec that silently stores garbage would show.
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, 0, i % 3 == 0 ? null : "k" + i,
                        "value-" + i + "-" + "abc".repeat(i % 50), headers);
                sent.add(r);
                producer.send(r);
            }
            producer.flush();
        }

        try (KafkaConsumer<String, String> consumer = Clients.consumer(BROKER.bootstrapServers())) {
            List<ConsumerRecord<String, String>> received =
                    Clients.readFromBeginning(consumer, Clients.partitions(topic, 1), RECORDS);
            assertThat(received).hasSize(RECORDS);
            for (int i = 0; i < RECORDS; i++) {
                ConsumerRecord<String, String> got = received.get(i);
                ProducerRecord<String, String> want = sent.get(i);
                assertThat(got.offset()).isEqualTo(i);
                assertThat(got.key()).as("key at offset %d", i).isEqualTo(want.key());
                assertThat(got.value()).as("value at offset %d", i).isEqualTo(want.value());
                assertThat(headerList(got.headers().toArray()))
                        .as("headers at offset %d", i).isEqualTo(headerList(want.headers().toArray()));
            }
        }
    }

    private static List<String> headerList(Header[] headers) {
        List<String> out = new ArrayList<>();
        for (Header h : headers) {
            out.add(h.key() + "=" + (h.value() == null ? "<null>" : new String(h.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
