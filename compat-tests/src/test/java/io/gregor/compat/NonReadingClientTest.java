package io.gregor.compat;

import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.intercept.TraceRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clients that pipeline requests and never read an answer: the broker stops reading from them once
 * their answers wait unsent, as Kafka does, so they fill only their own socket buffers instead of the
 * broker's heap, and a well-behaved client on another connection is still served at once.
 */
class NonReadingClientTest {
    private static final Duration PIPELINING = Duration.ofSeconds(3);
    /**
     * Requests the broker may accept from one such connection: the answers that fit its socket send
     * buffer (socket.send.buffer.bytes) and write buffer, plus one read's worth of requests. Unbounded,
     * it accepted over ten thousand a second.
     */
    private static final int MAX_ACCEPTED_PER_CONNECTION = 3_000;

    @RegisterExtension
    // a small socket send buffer, so the kernel holds few of the unread answers and the bound shows clearly
    static final BrokerExtension BROKER = new BrokerExtension(Map.of("socket.send.buffer.bytes", "16384"));

    private RequestTrace trace;

    @BeforeEach
    void traceOn() {
        trace = BROKER.broker().broker().requestTrace();
        trace.clear();
        trace.setEnabled(true);
    }

    @AfterEach
    void traceOff() {
        trace.setEnabled(false);
        trace.clear();
    }

    @Test
    void pipeliningClientsThatNeverReadAreBoundedAndOthersAreStillServed() throws Exception {
        String topic = TestDirs.uniqueTopic("never-read");
        Clients.createTopic(BROKER.bootstrapServers(), topic, 1);
        byte[] apiVersions = frames(ApiKeys.API_VERSIONS, (short) 3, "never-reads-apiversions",
                new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                        Compression.NONE, new SimpleRecord("v".getBytes(StandardCharsets.UTF_8)))))));
        byte[] produce = frames(ApiKeys.PRODUCE, (short) 9, "never-reads-produce",
                new ProduceRequestData().setAcks((short) 1).setTimeoutMs(10_000).setTopicData(topics));

        try (SocketChannel apiVersionsClient = connect(); SocketChannel produceClient = connect()) {
            long deadline = System.nanoTime() + PIPELINING.toNanos();
            long written = pipelineUntil(deadline, apiVersionsClient, apiVersions, produceClient, produce);
            assertThat(written).as("bytes the clients got into the connection").isPositive();

            // a well-behaved client on its own connection is answered promptly meanwhile
            try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
                assertThat(admin.describeCluster().nodes().get(5, TimeUnit.SECONDS)).hasSize(1);
                assertThat(admin.listTopics().names().get(5, TimeUnit.SECONDS)).contains(topic);
            }
            // the trace holds the last 10,000 answers: unbounded, these two alone would fill it within the run
            long apiVersionsAccepted = accepted("never-reads-apiversions");
            long produceAccepted = accepted("never-reads-produce");
            assertThat(apiVersionsAccepted).as("ApiVersions requests the broker accepted").isPositive();
            assertThat(produceAccepted).as("Produce requests the broker accepted").isPositive();
            assertThat(apiVersionsAccepted + produceAccepted).as("requests the broker accepted from both")
                    .isLessThan(2 * MAX_ACCEPTED_PER_CONNECTION);
        }
    }

    @Test
    void aClientThatNeverReadsAndThenResetsTheConnectionCostsTheBrokerOneLogLine() throws Exception {
        byte[] apiVersions = frames(ApiKeys.API_VERSIONS, (short) 3, "never-reads-then-resets",
                new ApiVersionsRequestData().setClientSoftwareName("gregor-compat").setClientSoftwareVersion("1"));
        try (BrokerProcess broker = new BrokerProcess("never-reads", Map.of("socket.send.buffer.bytes", "16384")).start()) {
            int clientPort;
            try (SocketChannel client = connect(broker.port())) {
                clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
                pipelineUntil(System.nanoTime() + Duration.ofSeconds(2).toNanos(), client, apiVersions, null, null);
                // a reset, not a close: the answers the broker still holds for it can no longer be sent
                client.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
            String peer = "/127.0.0.1:" + clientPort + " ";
            await("the broker notices the reset").atMost(Duration.ofSeconds(30))
                    .until(() -> linesAbout(broker, peer).size() >= 1);
            try (Admin admin = Clients.admin(broker.bootstrapServers())) {
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(1);
            }
            assertThat(linesAbout(broker, peer)).hasSize(1).allMatch(l -> l.contains(" INFO RequestProcessor - Cannot write"));
        }
    }

    private static List<String> linesAbout(BrokerProcess broker, String peer) throws IOException {
        return Files.readAllLines(broker.outputFile(), StandardCharsets.UTF_8).stream()
                .filter(l -> l.contains(peer)).toList();
    }

    private long accepted(String clientId) {
        return trace.entries().stream().map(TraceRecord::clientId).filter(clientId::equals).count();
    }

    private static SocketChannel connect() throws IOException {
        return connect(BROKER.port());
    }

    private static SocketChannel connect(int port) throws IOException {
        SocketChannel channel = SocketChannel.open();
        // a small receive window, so the answers the client leaves unread soon stay on the broker's side
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
        channel.connect(new InetSocketAddress("127.0.0.1", port));
        channel.configureBlocking(false);
        return channel;
    }

    /** Writes the two byte patterns (or the first alone) over and over, as fast as each connection takes them, until the deadline. */
    private static long pipelineUntil(long deadline, SocketChannel first, byte[] firstFrames,
                                      SocketChannel second, byte[] secondFrames) throws IOException {
        long written = 0;
        try (Selector selector = Selector.open()) {
            first.register(selector, SelectionKey.OP_WRITE, ByteBuffer.wrap(firstFrames));
            if (second != null) {
                second.register(selector, SelectionKey.OP_WRITE, ByteBuffer.wrap(secondFrames));
            }
            while (System.nanoTime() < deadline) {
                long waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                if (selector.select(waitMs) == 0) {
                    continue;
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    ByteBuffer pattern = (ByteBuffer) key.attachment();
                    written += ((SocketChannel) key.channel()).write(pattern);
                    if (!pattern.hasRemaining()) {
                        pattern.rewind();
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        return written;
    }

    /** 200 copies of one request frame, back to back, each with its own correlation id. */
    private static byte[] frames(ApiKeys api, short version, String clientId, ApiMessage body) {
        ByteBuffer all = null;
        for (int i = 0; i < 200; i++) {
            RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version)
                    .setCorrelationId(i).setClientId(clientId);
            byte[] payload = RawKafkaConnection.serialize(header, api.requestHeaderVersion(version), body, version);
            if (all == null) {
                all = ByteBuffer.allocate(200 * (4 + payload.length));
            }
            all.putInt(payload.length).put(payload);
        }
        return all.array();
    }
}
