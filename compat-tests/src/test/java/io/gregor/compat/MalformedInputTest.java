package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bytes no stock client would send: the broker drops the offending connection (or, for a corrupt batch,
 * rejects the batch) while a well-behaved producer and consumer on other connections carry on.
 */
class MalformedInputTest {
    private static final int MAX_REQUEST_BYTES = 1024 * 1024;

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of(
            "socket.request.max.bytes", Integer.toString(MAX_REQUEST_BYTES)));

    private static String healthTopic;
    private static KafkaProducer<String, String> producer;
    private static KafkaConsumer<String, String> consumer;

    @BeforeAll
    static void connectWellBehavedClients() {
        healthTopic = TestDirs.uniqueTopic("health");
        Clients.createTopic(BROKER.bootstrapServers(), healthTopic, 1);
        producer = Clients.producer(BROKER.bootstrapServers());
        consumer = Clients.consumer(BROKER.bootstrapServers());
        TopicPartition tp = new TopicPartition(healthTopic, 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        // Both connections exist before any bad input arrives.
        Clients.get(producer.send(new ProducerRecord<>(healthTopic, "before")));
        assertThat(Clients.pollUntil(consumer, 1)).extracting(ConsumerRecord::value).containsExactly("before");
    }

    @AfterAll
    static void closeClients() {
        if (producer != null) {
            producer.close();
        }
        if (consumer != null) {
            consumer.close();
        }
    }

    @AfterEach
    void wellBehavedClientsStillWork(TestInfo test) {
        String value = "after " + test.getDisplayName();
        Clients.get(producer.send(new ProducerRecord<>(healthTopic, value)));
        assertThat(Clients.pollUntil(consumer, 1)).extracting(ConsumerRecord::value).containsExactly(value);
    }

    private static RawKafkaConnection connect() {
        return new RawKafkaConnection(BROKER.broker().port(), Duration.ofSeconds(10));
    }

    @Test
    void randomGarbageFrameClosesTheConnection() throws Exception {
        byte[] garbage = new byte[64];
        new Random(20261125L).nextBytes(garbage);
        garbage[0] = (byte) 0xAB; // an API key no Kafka has: the rest is noise
        garbage[1] = (byte) 0xCD;
        try (RawKafkaConnection raw = connect()) {
            raw.writeFrame(garbage);
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
    }

    @Test
    void validHeaderWithTruncatedBodyClosesTheConnection() throws Exception {
        // Metadata v12 header, then a body whose topic array claims 1000 entries and ends at once.
        ByteBuffer frame = ByteBuffer.allocate(64);
        frame.putShort(ApiKeys.METADATA.id).putShort((short) 12).putInt(5);
        frame.putShort((short) 3).put("bad".getBytes(StandardCharsets.UTF_8)).put((byte) 0); // client id, no tags
        frame.put((byte) 0xE9).put((byte) 0x07); // unsigned varint 1001 = 1000 topics + 1
        frame.flip();
        byte[] payload = new byte[frame.remaining()];
        frame.get(payload);
        try (RawKafkaConnection raw = connect()) {
            raw.writeFrame(payload);
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
    }

    @Test
    void lengthPrefixOverSocketRequestMaxBytesClosesTheConnection() throws Exception {
        try (RawKafkaConnection raw = connect()) {
            // Only the prefix and a few bytes: the broker must not wait for (or buffer) the 2 MiB it announces.
            raw.writeRaw(ByteBuffer.allocate(12).putInt(2 * MAX_REQUEST_BYTES).putLong(0).array());
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
    }

    @Test
    void negativeLengthPrefixClosesTheConnection() throws Exception {
        try (RawKafkaConnection raw = connect()) {
            raw.writeRaw(ByteBuffer.allocate(12).putInt(-5).putLong(0).array());
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
    }

    @Test
    void unknownApiKeyClosesTheConnection() throws Exception {
        ByteBuffer frame = ByteBuffer.allocate(32);
        frame.putShort((short) 9999).putShort((short) 0).putInt(7);
        frame.putShort((short) 3).put("bad".getBytes(StandardCharsets.UTF_8));
        frame.flip();
        byte[] payload = new byte[frame.remaining()];
        frame.get(payload);
        try (RawKafkaConnection raw = connect()) {
            raw.writeFrame(payload);
            assertThat(raw.awaitOutcome()).isEqualTo("closed");
        }
    }

    @Test
    void produceWithWrongCrcIsRejectedWithCorruptMessage() throws Exception {
        String topic = TestDirs.uniqueTopic("bad-crc");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);

        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord(System.currentTimeMillis(), "key".getBytes(StandardCharsets.UTF_8),
                        "corrupt-me-please".getBytes(StandardCharsets.UTF_8)));
        byte[] bytes = new byte[records.sizeInBytes()];
        records.buffer().duplicate().get(bytes);
        int at = indexOf(bytes, "corrupt-me-please".getBytes(StandardCharsets.UTF_8));
        bytes[at] ^= 0x20; // 'c' -> 'C': same length, same structure, wrong CRC
        MemoryRecords corrupted = MemoryRecords.readableRecords(ByteBuffer.wrap(bytes));

        ProduceResponseData.PartitionProduceResponse partition =
                assertProduceRejected(topic, corrupted, Errors.CORRUPT_MESSAGE);
        assertThat(partition.errorCode()).isEqualTo((short) 2);
        // And the same topic still takes good data.
        RecordMetadata md = Clients.get(producer.send(new ProducerRecord<>(topic, 0, "key", "fine")));
        assertThat(md.offset()).isZero();
    }

    @Test
    void produceOfAControlBatchIsRejectedWithInvalidRecord() throws Exception {
        String topic = TestDirs.uniqueTopic("control-batch");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        // A transaction marker: only the broker may write one (Kafka answers a client's with INVALID_RECORD).
        MemoryRecords marker = MemoryRecords.withEndTransactionMarker(1000L, (short) 0,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0));

        assertProduceRejected(topic, marker, Errors.INVALID_RECORD);
    }

    @Test
    void metadataWithANullTopicNameGetsInvalidRequest() throws Exception {
        try (RawKafkaConnection raw = connect()) {
            for (short version : new short[] {10, 12}) {
                MetadataRequestData request = new MetadataRequestData().setAllowAutoTopicCreation(false);
                request.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(null));
                MetadataResponseData response = raw.roundTrip(ApiKeys.METADATA, version, request, MetadataResponseData::new);
                assertThat(response.topics()).as("Metadata v%d", version).hasSize(1);
                assertThat(Errors.forCode(response.topics().iterator().next().errorCode())).as("Metadata v%d", version)
                        .isEqualTo(Errors.INVALID_REQUEST);
            }
        }
    }

    @Test
    void electLeadersWithAnUnknownElectionTypeGetsInvalidRequest() throws Exception {
        try (RawKafkaConnection raw = connect()) {
            ElectLeadersResponseData response = raw.roundTrip(ApiKeys.ELECT_LEADERS, (short) 1,
                    new ElectLeadersRequestData().setElectionType((byte) 40).setTimeoutMs(1000).setTopicPartitions(null),
                    ElectLeadersResponseData::new);
            assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.INVALID_REQUEST);
        }
    }

    @Test
    void anExcessiveNumberOfPartitionsInOneRequestIsRefusedAsKafkasControllerDoes() {
        String topic = TestDirs.uniqueTopic("many-partitions");
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            assertThatThrownBy(() -> Clients.get(admin.createTopics(List.of(new NewTopic(topic, 100_000, (short) 1))).all()))
                    .isInstanceOf(PolicyViolationException.class)
                    .hasMessageContaining("Excessively large number of partitions per request.");
            // the limit is per request: two topics of 6,000 partitions are refused together
            String other = TestDirs.uniqueTopic("many-partitions-other");
            var both = admin.createTopics(List.of(new NewTopic(topic, 6_000, (short) 1), new NewTopic(other, 6_000, (short) 1)));
            assertThatThrownBy(() -> Clients.get(both.values().get(topic))).isInstanceOf(PolicyViolationException.class);
            assertThatThrownBy(() -> Clients.get(both.values().get(other))).isInstanceOf(PolicyViolationException.class);
            assertThat(Clients.get(admin.listTopics().names())).doesNotContain(topic, other);
            Clients.get(admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all());
            assertThatThrownBy(() -> Clients.get(admin.createPartitions(
                    Map.of(topic, NewPartitions.increaseTo(Integer.MAX_VALUE))).all()))
                    .isInstanceOf(PolicyViolationException.class);
            assertThat(Clients.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions())
                    .hasSize(1);
        }
    }

    /**
     * Sends {@code records} to partition 0 of {@code topic} in a raw Produce request (acks=all), checks the
     * partition's answer is {@code expected} and that nothing was appended; returns that answer.
     */
    private static ProduceResponseData.PartitionProduceResponse assertProduceRejected(String topic,
            MemoryRecords records, Errors expected) throws Exception {
        ProduceResponseData.PartitionProduceResponse partition;
        try (RawKafkaConnection raw = connect()) {
            short version = produceVersion(raw);
            ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
            topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))));
            ProduceResponseData response = raw.roundTrip(ApiKeys.PRODUCE, version,
                    new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000).setTopicData(topics),
                    ProduceResponseData::new);

            partition = response.responses().iterator().next().partitionResponses().get(0);
            assertThat(Errors.forCode(partition.errorCode())).as("Produce v%d, error message %s", version,
                    partition.errorMessage()).isEqualTo(expected);
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(BROKER.bootstrapServers())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            assertThat(c.endOffsets(List.of(tp))).as("nothing appended").containsEntry(tp, 0L);
        }
        return partition;
    }

    /** The highest Produce version up to 12 (the last that names topics) the broker advertises. */
    private static short produceVersion(RawKafkaConnection raw) throws Exception {
        ApiVersionsResponseData versions = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 3,
                new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"),
                ApiVersionsResponseData::new);
        ApiVersionsResponseData.ApiVersion produce = versions.apiKeys().find(ApiKeys.PRODUCE.id);
        assertThat(produce).as("Produce advertised").isNotNull();
        return (short) Math.min(produce.maxVersion(), 12);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("value bytes not found in batch");
    }
}
