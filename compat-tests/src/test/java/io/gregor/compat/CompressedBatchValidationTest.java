package io.gregor.compat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compressed batches a stock client would never send, through a real socket: data that does not decompress
 * (with a correct CRC), a header counting 1,000,000 records over one, and inner offset deltas out of order.
 * Each is refused with Kafka's error code, nothing is appended, and both the Java client and librdkafka
 * (kcat) still produce with that codec and read the partition from the beginning past where the bad batch
 * was attempted.
 */
class CompressedBatchValidationTest {
    private static final String KCAT = "/usr/bin/kcat";
    // v2 batch header offsets (Kafka's DefaultRecordBatch)
    private static final int LAST_OFFSET_DELTA = 23;
    private static final int CRC = 17;
    private static final int ATTRIBUTES = 21;
    private static final int RECORDS_COUNT = 57;
    private static final int HEADER_SIZE = 61;

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    @ParameterizedTest(name = "compression.type={0}")
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void badCompressedBatchesAreRefusedAndReadersGetPastThem(String codec) throws Exception {
        CompressionType type = CompressionType.forName(codec);
        String topic = TestDirs.uniqueTopic("bad-" + codec);
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);

        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec))) {
            RecordMetadata first = Clients.get(producer.send(new ProducerRecord<>(topic, 0, "k", "java-before")));
            assertThat(first.offset()).isZero();

            ProduceResponseData.PartitionProduceResponse garbage = produceRaw(topic, garbageData(type));
            assertThat(Errors.forCode(garbage.errorCode())).as(garbage.errorMessage()).isEqualTo(Errors.CORRUPT_MESSAGE);
            assertThat(garbage.errorMessage()).contains("cannot be decompressed");

            ProduceResponseData.PartitionProduceResponse miscounted = produceRaw(topic, miscounted(type));
            assertThat(Errors.forCode(miscounted.errorCode())).as(miscounted.errorMessage())
                    .isEqualTo(Errors.INVALID_RECORD);
            assertThat(miscounted.errorMessage()).contains("declares 1000000 records but holds 1");

            ProduceResponseData.PartitionProduceResponse reordered = produceRaw(topic, skippedOffsetDelta(type));
            assertThat(Errors.forCode(reordered.errorCode())).as(reordered.errorMessage())
                    .isEqualTo(Errors.INVALID_RECORD);
            // the record at fault is named as Kafka's record_errors do, so a producer can fail just that one
            assertThat(reordered.recordErrors()).singleElement().satisfies(e -> {
                assertThat(e.batchIndex()).isEqualTo(1);
                assertThat(e.batchIndexErrorMessage()).contains("offset delta 2");
            });

            try (KafkaConsumer<String, String> c = Clients.consumer(BROKER.bootstrapServers())) {
                assertThat(c.endOffsets(List.of(tp))).as("nothing appended").containsEntry(tp, 1L);
            }
            RecordMetadata after = Clients.get(producer.send(new ProducerRecord<>(topic, 0, "k", "java-after")));
            assertThat(after.offset()).isEqualTo(1);
        }

        // librdkafka produces with the same codec, then reads the whole partition: no _BAD_COMPRESSION stop
        assertThat(kcat("k:kcat-after\n", "-P", "-t", topic, "-p", "0", "-K:", "-z", codec)).isEmpty();
        assertThat(kcat(null, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o:%s\\n"))
                .containsExactly("0:java-before", "1:java-after", "2:kcat-after");
    }

    private static SimpleRecord record(String value) {
        return new SimpleRecord(1_000L, "k".getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    /** A real batch of the codec whose compressed bytes are replaced by noise, under a correct CRC. */
    private static MemoryRecords garbageData(CompressionType type) {
        ByteBuffer batch = MemoryRecords.withRecords(Compression.of(type).build(),
                record("will be noise ".repeat(20)), record("and this too ".repeat(20))).buffer();
        byte[] noise = new byte[batch.limit() - HEADER_SIZE];
        new Random(17).nextBytes(noise);
        batch.put(HEADER_SIZE, noise);
        return reCrc(batch);
    }

    /** One record under a header that claims a million (count and last offset delta agree). */
    private static MemoryRecords miscounted(CompressionType type) {
        ByteBuffer batch = MemoryRecords.withRecords(Compression.of(type).build(), record("only one")).buffer();
        batch.putInt(RECORDS_COUNT, 1_000_000);
        batch.putInt(LAST_OFFSET_DELTA, 999_999);
        return reCrc(batch);
    }

    /** Two records with inner offset deltas 0 and 2 under a header for two records. */
    private static MemoryRecords skippedOffsetDelta(CompressionType type) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2,
                Compression.of(type).build(), TimestampType.CREATE_TIME, 0L);
        builder.appendWithOffset(0, record("first"));
        builder.appendWithOffset(2, record("second"));
        ByteBuffer batch = builder.build().buffer();
        batch.putInt(LAST_OFFSET_DELTA, 1);
        return reCrc(batch);
    }

    private static MemoryRecords reCrc(ByteBuffer batch) {
        CRC32C crc = new CRC32C();
        crc.update(batch.duplicate().position(ATTRIBUTES).limit(batch.limit()));
        batch.putInt(CRC, (int) crc.getValue());
        return MemoryRecords.readableRecords(batch);
    }

    /** A raw Produce (acks=all, the highest version up to 12) of {@code records} to partition 0. */
    private static ProduceResponseData.PartitionProduceResponse produceRaw(String topic, MemoryRecords records)
            throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(10))) {
            ApiVersionsResponseData versions = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"),
                    ApiVersionsResponseData::new);
            short version = (short) Math.min(versions.apiKeys().find(ApiKeys.PRODUCE.id).maxVersion(), 12);
            ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
            topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))));
            ProduceResponseData response = raw.roundTrip(ApiKeys.PRODUCE, version,
                    new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000).setTopicData(topics),
                    ProduceResponseData::new);
            return response.responses().iterator().next().partitionResponses().get(0);
        }
    }

    /** Runs kcat against the broker; returns its stdout lines after checking it exited 0. */
    private static List<String> kcat(String stdin, String... args) throws IOException, InterruptedException {
        assertThat(Files.isExecutable(Path.of(KCAT))).as("kcat is required: run .ci/install-clients").isTrue();
        Path out = Files.createTempFile("kcat", ".out");
        Path err = Files.createTempFile("kcat", ".err");
        try {
            List<String> command = new java.util.ArrayList<>(List.of(KCAT, "-b", BROKER.bootstrapServers()));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kcat " + command + " timed out; stderr: " + Files.readString(err));
            }
            assertThat(p.exitValue()).as("kcat %s; stderr: %s", command, Files.readString(err)).isZero();
            return Files.readAllLines(out);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
