package io.gregor.compat;

import io.gregor.broker.zk.Json;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web console's JSON API and its answers to bad input, over plain HTTP (the JDK client): what it
 * does not serve gets 404/405, a browse past the end is an empty page, malformed JSON a 400 with a
 * message, and nothing sent to the HTTP port disturbs the Kafka listener.
 */
class ConsoleHttpTest {
    private static TestBroker broker;
    private static URI base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        broker = TestBroker.start("ConsoleHttpTest", Map.of("gregor.http.listener", "127.0.0.1:0",
                "group.initial.rebalance.delay.ms", "0"));
        InetSocketAddress address = broker.broker().controlEndpointAddress().orElseThrow();
        base = URI.create("http://127.0.0.1:" + address.getPort());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path));
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(HttpResponse<String> response) {
        return (Map<String, Object>) Json.parse(response.body());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }

    @Test
    void topicsCreatedProducedAndReadThroughTheApiMatchWhatStockClientsSee() throws Exception {
        String topic = TestDirs.uniqueTopic("console-api");
        HttpResponse<String> created = call("POST", "/api/topics", "{\"name\":\"" + topic
                + "\",\"partitions\":2,\"configs\":{\"retention.ms\":\"3600000\"}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(Clients.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions()).hasSize(2);
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            Clients.get(producer.send(new ProducerRecord<>(topic, 1, "k", "from a stock producer")));
        }
        HttpResponse<String> produced = call("POST", "/api/topics/" + topic + "/records",
                "{\"partition\":1,\"key\":\"api-key\",\"value\":\"from the api\",\"headers\":{\"h\":\"v\"}}");
        assertThat(produced.statusCode()).as(produced.body()).isEqualTo(201);
        assertThat(object(produced)).containsEntry("partition", 1L).containsEntry("offset", 1L);

        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            List<ConsumerRecord<String, String>> records = Clients.readFromBeginning(consumer,
                    List.of(new TopicPartition(topic, 1)), 2);
            assertThat(records.get(1).key()).isEqualTo("api-key");
            assertThat(records.get(1).value()).isEqualTo("from the api");
            assertThat(new String(records.get(1).headers().lastHeader("h").value(), StandardCharsets.UTF_8)).isEqualTo("v");
        }

        Map<String, Object> detail = object(call("GET", "/api/topics/" + topic, null));
        Map<String, Object> p1 = list(detail.get("partitionDetails")).get(1);
        assertThat(p1).containsEntry("logStartOffset", 0L).containsEntry("logEndOffset", 2L).containsEntry("leader", 0L);
        assertThat((Long) p1.get("sizeBytes")).isPositive();
        assertThat(list(detail.get("configs"))).anySatisfy(c -> assertThat(c).containsEntry("name", "retention.ms")
                .containsEntry("value", "3600000").containsEntry("source", "TOPIC_CONFIG"));

        Map<String, Object> page = object(call("GET", "/api/topics/" + topic + "/records?partition=1&offset=0", null));
        List<Map<String, Object>> records = list(page.get("records"));
        assertThat(records).extracting(r -> r.get("value")).containsExactly("from a stock producer", "from the api");
        assertThat(records.get(1)).containsEntry("key", "api-key").containsEntry("keyEncoding", "text");
        Map<String, Object> firstPage = object(call("GET", "/api/topics/" + topic + "/records?partition=1&offset=0&limit=1", null));
        assertThat(list(firstPage.get("records"))).extracting(r -> r.get("offset")).containsExactly(0L);
        assertThat(firstPage).containsEntry("nextOffset", 1L).containsEntry("highWatermark", 2L);
        Map<String, Object> hex = list(object(call("GET", "/api/topics/" + topic
                + "/records?partition=1&offset=1&format=hex", null)).get("records")).get(0);
        assertThat(hex).containsEntry("key", "6170692d6b6579").containsEntry("keyEncoding", "hex");

        long secondTimestamp = (Long) records.get(1).get("timestamp");
        List<Map<String, Object>> fromTime = list(object(call("GET", "/api/topics/" + topic
                + "/records?partition=1&timestamp=" + secondTimestamp, null)).get("records"));
        assertThat(fromTime).extracting(r -> r.get("offset")).first().isIn(0L, 1L);
        assertThat(fromTime).extracting(r -> r.get("value")).contains("from the api");

        assertThat(call("DELETE", "/api/topics/" + topic, null).statusCode()).isEqualTo(200);
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(Clients.get(admin.listTopics().names())).doesNotContain(topic);
        }
    }

    @Test
    void aBrowsePastTheEndIsAnEmptyPageNotAnError() throws Exception {
        String topic = TestDirs.uniqueTopic("console-end");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        HttpResponse<String> json = call("GET", "/api/topics/" + topic + "/records?partition=0&offset=1000", null);
        assertThat(json.statusCode()).as(json.body()).isEqualTo(200);
        assertThat(list(object(json).get("records"))).isEmpty();
        HttpResponse<String> html = call("GET", "/topics/" + topic + "/records?partition=0&offset=1000", null,
                "Accept", "text/html");
        assertThat(html.statusCode()).isEqualTo(200);
        assertThat(html.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
        assertThat(html.body()).contains("No records here.");
        HttpResponse<String> farFuture = call("GET", "/topics/" + topic + "/records?partition=0&time=2999-01-01T00:00:00",
                null, "Accept", "text/html");
        assertThat(farFuture.statusCode()).isEqualTo(200);
        assertThat(farFuture.body()).contains("No records here.");
    }

    @Test
    void whatIsNotServedGets404Or405() throws Exception {
        assertJsonError(call("GET", "/nothing-here", null), 404, "/nothing-here");
        HttpResponse<String> htmlMissing = call("GET", "/nothing-here", null, "Accept", "text/html");
        assertThat(htmlMissing.statusCode()).isEqualTo(404);
        assertThat(htmlMissing.body()).contains("Not found", "/nothing-here");
        assertJsonError(call("GET", "/api/nothing", null), 404, "/api/nothing");
        assertJsonError(call("GET", "/api/topics/no-such-topic", null), 404, "no-such-topic");
        assertJsonError(call("GET", "/api/topics/no-such-topic/records", null), 404, "no-such-topic");
        assertJsonError(call("GET", "/api/groups/no-such-group", null), 404, "no-such-group");
        assertThat(call("GET", "/topics/no-such-topic", null, "Accept", "text/html").statusCode()).isEqualTo(404);

        HttpResponse<String> deleteRoot = call("DELETE", "/", null);
        assertJsonError(deleteRoot, 405, "GET");
        assertThat(deleteRoot.headers().firstValue("Allow")).contains("GET");
        HttpResponse<String> putTopics = call("PUT", "/api/topics", "{}");
        assertJsonError(putTopics, 405, "GET or POST");
        assertThat(putTopics.headers().firstValue("Allow")).contains("GET, POST");
        assertJsonError(call("GET", "/topics/x/delete", null), 405, "POST");
        // the control endpoint's paths are still its own
        assertJsonError(call("GET", "/faults", null), 405, "POST or DELETE");
    }

    @Test
    void malformedInputGets400WithAMessage() throws Exception {
        String topic = TestDirs.uniqueTopic("console-bad");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        assertJsonError(call("POST", "/api/topics", "{not json"), 400, "The body is not JSON");
        assertJsonError(call("POST", "/api/topics", "[1,2]"), 400, "JSON object");
        assertJsonError(call("POST", "/api/topics", "{\"name\":5}"), 400, "\\\"name\\\" is required and must be a string");
        assertJsonError(call("POST", "/api/topics", "{\"name\":\"bad name!\"}"), 400, "bad name!");
        assertJsonError(call("POST", "/api/topics", "{\"name\":\"" + topic + "\"}"), 409, "already exists");
        assertJsonError(call("POST", "/api/topics", "{\"name\":\"x\",\"configs\":{\"retention.ms\":\"soon\"}}"), 400,
                "retention.ms");
        assertJsonError(call("POST", "/api/topics/" + topic + "/records", "{\"value\":"), 400, "The body is not JSON");
        assertJsonError(call("POST", "/api/topics/" + topic + "/records", "{\"partition\":7,\"value\":\"v\"}"), 400,
                "no partition 7");
        assertJsonError(call("POST", "/api/topics/" + topic + "/records", "{\"partition\":\"0\"}"), 400, "partition");
        assertJsonError(call("GET", "/api/topics/" + topic + "/records?offset=abc", null), 400, "offset must be a whole number");
        assertJsonError(call("GET", "/api/topics/" + topic + "/records?limit=100000", null), 400, "limit");
        assertJsonError(call("GET", "/api/topics/" + topic + "/records?format=binary", null), 400, "format");
        assertJsonError(call("GET", "/api/topics/" + topic + "/records?time=yesterday", null), 400, "time must be");
        assertJsonError(call("DELETE", "/api/topics/__consumer_offsets", null), 400, "internal");

        HttpResponse<String> form = call("POST", "/topics", "name=" + topic + "&partitions=x",
                "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html");
        assertThat(form.statusCode()).isEqualTo(400);
        assertThat(form.body()).contains("partitions must be a whole number");
        HttpResponse<String> unconfirmed = call("POST", "/topics/" + topic + "/delete", "",
                "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html");
        assertThat(unconfirmed.statusCode()).isEqualTo(400);
        assertThat(unconfirmed.body()).contains("Tick the box");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(Clients.get(admin.listTopics().names())).contains(topic);
        }
    }

    @Test
    void anotherSitesFormCannotChangeTheBroker() throws Exception {
        String topic = TestDirs.uniqueTopic("console-csrf");
        HttpResponse<String> refused = call("POST", "/topics", "name=" + topic, "Content-Type",
                "application/x-www-form-urlencoded", "Origin", "http://evil.example");
        assertThat(refused.statusCode()).isEqualTo(403);
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(Clients.get(admin.listTopics().names())).doesNotContain(topic);
        }
        HttpResponse<String> sameSite = call("POST", "/topics", "name=" + topic, "Content-Type",
                "application/x-www-form-urlencoded", "Origin", base.toString());
        assertThat(sameSite.statusCode()).as(sameSite.body()).isEqualTo(303);
        assertThat(sameSite.headers().firstValue("Location")).contains("/topics/" + topic + "?created");
    }

    @Test
    void whatClientsSentIsEscapedInThePages() throws Exception {
        String topic = TestDirs.uniqueTopic("console-xss");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            ProducerRecord<String, String> record = new ProducerRecord<>(topic, 0, "<b>key</b>",
                    "<script>alert('x')</script> & \"quotes\"");
            record.headers().add("<i>h</i>", "<img src=x>".getBytes(StandardCharsets.UTF_8));
            Clients.get(producer.send(record));
        }
        String group = "<em>group\"&'</em>/x";
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers(),
                Map.of("group.id", group))) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.commitSync(Map.of(new TopicPartition(topic, 0), new org.apache.kafka.clients.consumer.OffsetAndMetadata(1)));
        }
        String page = call("GET", "/topics/" + topic + "/records?partition=0", null, "Accept", "text/html").body();
        assertThat(page).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;",
                "&lt;b&gt;key&lt;/b&gt;", "&lt;i&gt;h&lt;/i&gt;", "&lt;img src=x&gt;");
        assertThat(page).doesNotContain("<script>", "<b>key", "<img src=x>");
        String groups = call("GET", "/groups", null, "Accept", "text/html").body();
        assertThat(groups).contains("&lt;em&gt;group&quot;&amp;&#39;&lt;/em&gt;/x").doesNotContain("<em>group");
        String encoded = java.net.URLEncoder.encode(group, StandardCharsets.UTF_8).replace("+", "%20");
        HttpResponse<String> groupPage = call("GET", "/groups/" + encoded, null, "Accept", "text/html");
        assertThat(groupPage.statusCode()).as(groupPage.body()).isEqualTo(200);
        assertThat(groupPage.body()).contains("&lt;em&gt;group").doesNotContain("<em>group");
        Map<String, Object> json = object(call("GET", "/api/groups/" + encoded, null));
        assertThat(json).containsEntry("groupId", group);
        assertThat(list(json.get("offsets"))).singleElement().satisfies(o ->
                assertThat(o).containsEntry("committedOffset", 1L).containsEntry("lag", 0L));
    }

    @Test
    void nothingSentToTheHttpPortDisturbsTheKafkaListener() throws Exception {
        String topic = TestDirs.uniqueTopic("console-garbage");
        Clients.createTopic(broker.bootstrapServers(), topic, 1);
        int httpPort = base.getPort();
        Random random = new Random(16);
        byte[] garbage = new byte[64 * 1024];
        random.nextBytes(garbage);
        List<byte[]> inputs = List.of(garbage,
                // a Kafka ApiVersions request, as a client pointed at the wrong port sends it
                new byte[]{0, 0, 0, 14, 0, 18, 0, 3, 0, 0, 0, 1, 0, 4, 't', 'e', 's', 't'},
                ("GET /" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII),
                "POST /api/topics HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n{".getBytes(StandardCharsets.US_ASCII));
        for (byte[] input : inputs) {
            try (Socket s = new Socket("127.0.0.1", httpPort)) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                try {
                    out.write(input);
                    out.flush();
                    s.shutdownOutput();
                    InputStream in = s.getInputStream();
                    in.readAllBytes();
                } catch (java.io.IOException closedByTheServer) {
                    // a refusal by closing the connection is a fine answer to garbage
                }
            }
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers());
             KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            Clients.get(producer.send(new ProducerRecord<>(topic, 0, "k", "still fine")));
            assertThat(Clients.readFromBeginning(consumer, List.of(new TopicPartition(topic, 0)), 1))
                    .extracting(ConsumerRecord::value).containsExactly("still fine");
        }
        assertThat(call("GET", "/api/cluster", null).statusCode()).isEqualTo(200);
    }

    private static void assertJsonError(HttpResponse<String> response, int status, String message) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(response.body()).startsWith("{\"error\":").contains(message);
    }
}
