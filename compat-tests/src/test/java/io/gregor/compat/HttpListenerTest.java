package io.gregor.compat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The broker's shared HTTP listener (gregor.http.listener) refuses what it does not serve, with a JSON body
 * saying why, and nothing sent to it disturbs the Kafka listener.
 */
class HttpListenerTest {
    private static TestBroker broker;
    private static InetSocketAddress address;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        broker = TestBroker.start("HttpListenerTest", Map.of("gregor.http.listener", "127.0.0.1:0"));
        address = broker.broker().controlEndpointAddress().orElseThrow();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private HttpResponse<String> call(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertError(HttpResponse<String> response, int status, String message) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(response.body()).startsWith("{\"error\":").contains(message);
    }

    @Test
    void unknownPathsAre404WrongMethods405AndMalformedJson400() throws Exception {
        assertError(call("GET", "/nothing/here", null), 404, "Unknown path /nothing/here");
        assertError(call("GET", "/metricsx", null), 404, "/metrics");
        HttpResponse<String> post = call("POST", "/metrics", "{}");
        assertError(post, 405, "/metrics takes GET");
        assertThat(post.headers().firstValue("Allow")).contains("GET");
        assertError(call("DELETE", "/health", null), 405, "/health takes GET");
        assertError(call("POST", "/faults", "{\"api\": "), 400, "not JSON");
        assertError(call("POST", "/trace", "[1, 2]"), 400, "must be a JSON object");
        // what is served still is
        assertThat(call("GET", "/metrics", null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/health", null).body()).contains("\"status\":\"ready\"");
    }

    @Test
    void garbageOnTheHttpListenerLeavesTheKafkaListenerServing() throws Exception {
        // a Kafka request frame, half an HTTP request, and a connection held open without a word
        try (Socket kafkaBytes = new Socket(address.getAddress(), address.getPort());
             Socket halfRequest = new Socket(address.getAddress(), address.getPort());
             Socket silent = new Socket(address.getAddress(), address.getPort())) {
            OutputStream out = kafkaBytes.getOutputStream();
            ByteBuffer frame = ByteBuffer.allocate(14).putInt(10).putShort((short) 18).putShort((short) 3).putInt(1)
                    .putShort((short) -1);
            out.write(frame.array());
            kafkaBytes.shutdownOutput();
            kafkaBytes.setSoTimeout(10_000);
            InputStream in = kafkaBytes.getInputStream();
            String answer = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
            assertThat(answer.isEmpty() || answer.startsWith("HTTP/1.1 4")).as("closed or an HTTP error, not a Kafka answer: "
                    + answer).isTrue();
            halfRequest.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            halfRequest.getOutputStream().flush();

            try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
                Clients.createTopic(broker.bootstrapServers(), "http-garbage", 1);
                assertThat(producer.send(new ProducerRecord<>("http-garbage", "still", "served")).get().offset()).isZero();
            }
            // and the HTTP listener itself still answers others
            assertThat(call("GET", "/health", null).statusCode()).isEqualTo(200);
        }
        try (var consumer = Clients.consumer(broker.bootstrapServers())) {
            assertThat(Clients.readFromBeginning(consumer, Clients.partitions("http-garbage", 1), 1))
                    .extracting(r -> r.value()).isEqualTo(List.of("served"));
        }
    }
}
