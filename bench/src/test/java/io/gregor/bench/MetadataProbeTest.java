package io.gregor.bench;

import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetadataProbeTest {

    @Test
    void requestParsesWithKafkaClientsOwnParser() {
        byte[] bytes = MetadataProbe.request(5);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        assertThat(buf.getInt()).isEqualTo(bytes.length - 4);
        RequestHeader header = RequestHeader.parse(buf);
        assertThat(header.apiKey()).isEqualTo(ApiKeys.METADATA);
        assertThat(header.correlationId()).isEqualTo(5);
        MetadataRequest req = MetadataRequest.parse(new ByteBufferAccessor(buf), header.apiVersion());
        assertThat(req.data().topics()).isEmpty();
    }

    /** A server that answers with no brokers first (a broker still starting), then with one. */
    @Test
    void waitsForAnAnswerThatListsABroker() throws Exception {
        AtomicInteger answered = new AtomicInteger();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try {
                    while (answered.get() < 2) {
                        try (Socket s = server.accept()) {
                            DataInputStream in = new DataInputStream(s.getInputStream());
                            byte[] req = new byte[in.readInt()];
                            in.readFully(req);
                            int n = answered.getAndIncrement();
                            respond(new DataOutputStream(s.getOutputStream()), n == 0 ? 0 : 1);
                        }
                    }
                } catch (Exception e) {
                    // the test's assertions report what went wrong
                }
            });
            t.setDaemon(true);
            t.start();
            long at = MetadataProbe.awaitFirstAnswer("127.0.0.1", server.getLocalPort(), 10_000, () -> true);
            assertThat(at).isLessThanOrEqualTo(System.nanoTime());
            assertThat(answered.get()).isEqualTo(2);
        }
    }

    @Test
    void givesUpWhenTheBrokerProcessIsGone() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> MetadataProbe.awaitFirstAnswer("127.0.0.1", port, 10_000, () -> false))
                .hasMessageContaining("exited");
    }

    private static void respond(DataOutputStream out, int brokers) throws Exception {
        short version = 12;
        short headerVersion = ApiKeys.METADATA.responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(1);
        MetadataResponseData body = new MetadataResponseData();
        for (int i = 0; i < brokers; i++) {
            body.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(i).setHost("127.0.0.1")
                    .setPort(9092));
        }
        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        body.addSize(size, cache, version);
        ByteBuffer buf = ByteBuffer.allocate(4 + size.totalSize());
        buf.putInt(size.totalSize());
        ByteBufferAccessor w = new ByteBufferAccessor(buf);
        header.write(w, cache, headerVersion);
        body.write(w, cache, version);
        out.write(buf.array());
        out.flush();
    }
}
