package io.gregor.compat;

import io.gregor.broker.zk.Json;
import io.gregor.config.ConfigException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The HTTP control endpoint (gregor.http.listener) driven with the JDK's HTTP client, as a test in any language would. */
class ControlEndpointTest {
    private static TestBroker broker;
    private static URI base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        broker = TestBroker.start("ControlEndpointTest", Map.of("gregor.http.listener", "127.0.0.1:0"));
        InetSocketAddress address = broker.broker().controlEndpointAddress().orElseThrow();
        assertThat(address.getPort()).as("the kernel's port").isPositive();
        base = URI.create("http://127.0.0.1:" + address.getPort());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @AfterEach
    void clear() throws Exception {
        call("DELETE", "/faults", null);
        call("DELETE", "/trace", null);
    }

    private HttpResponse<String> call(String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path));
        request.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Admin admin(String clientId) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                AdminClientConfig.CLIENT_ID_CONFIG, clientId, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aFaultPostedOverHttpReachesTheClientAndTheTraceShowsIt() throws Exception {
        assertThat(call("POST", "/trace", "{\"enabled\": true}").statusCode()).isEqualTo(200);
        HttpResponse<String> added = call("POST", "/faults",
                "{\"api\":\"CREATE_TOPICS\",\"error\":\"POLICY_VIOLATION\",\"times\":1,\"clientId\":\"http-admin\",\"topic\":null}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
        assertThat(added.headers().firstValue("Content-Type")).contains("application/json");
        try (Admin admin = admin("http-admin")) {
            assertThatThrownBy(() -> Clients.get(admin.createTopics(List.of(new NewTopic("http-refused", 1, (short) 1))).all()))
                    .isInstanceOf(PolicyViolationException.class);
            Clients.get(admin.createTopics(List.of(new NewTopic("http-accepted", 1, (short) 1))).all());
        }
        HttpResponse<String> trace = call("GET", "/trace", null);
        assertThat(trace.statusCode()).isEqualTo(200);
        List<Map<String, Object>> entries = (List<Map<String, Object>>) Json.parse(trace.body());
        List<Map<String, Object>> creates = entries.stream()
                .filter(e -> "CREATE_TOPICS".equals(e.get("api")) && "http-admin".equals(e.get("clientId"))).toList();
        assertThat(creates).hasSize(2);
        assertThat(creates.get(0)).containsEntry("injected", true).containsEntry("errors", List.of("POLICY_VIOLATION"));
        assertThat((String) creates.get(0).get("request")).contains("http-refused");
        assertThat(creates.get(0).get("correlationId")).isInstanceOf(Long.class);
        assertThat(creates.get(1)).containsEntry("injected", false).containsEntry("errors", List.of());

        HttpResponse<String> text = call("GET", "/trace?format=text", null);
        assertThat(text.body()).contains("CREATE_TOPICS", "http-admin", "POLICY_VIOLATION", "[injected]");
    }

    @Test
    void deletedFaultsNoLongerFire() throws Exception {
        assertThat(call("POST", "/faults", "{\"api\":\"CREATE_TOPICS\",\"error\":\"POLICY_VIOLATION\",\"times\":5}").statusCode())
                .isEqualTo(200);
        assertThat(call("DELETE", "/faults", null).statusCode()).isEqualTo(200);
        try (Admin admin = admin("http-after-delete")) {
            Clients.get(admin.createTopics(List.of(new NewTopic("http-after-delete", 1, (short) 1))).all());
        }
    }

    @Test
    void delaysAndDisconnectsAreAccepted() throws Exception {
        assertThat(call("POST", "/faults", "{\"api\":\"FETCH\",\"delayMs\":2000,\"clientId\":\"nobody\"}").body())
                .contains("delay FETCH by 2000 ms");
        assertThat(call("POST", "/faults", "{\"api\":\"METADATA\",\"disconnect\":1,\"clientId\":\"nobody\"}").body())
                .contains("disconnect 1 METADATA");
    }

    @Test
    void badInputGetsA4xxJsonErrorSayingWhatIsWrong() throws Exception {
        assertError(call("POST", "/faults", "{\"api\":\"PRODUCTION\",\"error\":\"NOT_LEADER_OR_FOLLOWER\"}"), 400, "Unknown API \\\"PRODUCTION\\\"");
        assertError(call("POST", "/faults", "{\"api\":\"PRODUCE\",\"error\":\"NOT_A_LEADER\"}"), 400, "Unknown error \\\"NOT_A_LEADER\\\"");
        assertError(call("POST", "/faults", "{\"api\":\"FETCH_SNAPSHOT\",\"error\":\"UNKNOWN_SERVER_ERROR\"}"), 400, "FETCH_SNAPSHOT");
        assertError(call("POST", "/faults", "{\"api\":\"JOIN_GROUP\",\"delayMs\":5,\"topic\":\"t\"}"), 400, "JOIN_GROUP");
        assertError(call("POST", "/faults", "{\"api\":\"PRODUCE\"}"), 400, "exactly one of");
        assertError(call("POST", "/faults", "{\"api\":\"PRODUCE\",\"error\":\"NOT_LEADER_OR_FOLLOWER\",\"times\":0}"), 400, "times");
        assertError(call("POST", "/faults", "{not json"), 400, "not JSON");
        assertError(call("POST", "/trace", "{\"enabled\":\"yes\"}"), 400, "enabled");
        assertError(call("GET", "/faults", null), 405, "POST or DELETE");
        assertError(call("GET", "/nothing-here", null), 404, "/nothing-here");
    }

    private static void assertError(HttpResponse<String> response, int status, String message) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(response.body()).startsWith("{\"error\":").contains(message);
    }

    @Test
    void anInvalidListenerSettingFailsTheStartNamingTheKey() {
        for (String bad : List.of("no-port", "127.0.0.1:http", "127.0.0.1:70000")) {
            assertThatThrownBy(() -> TestBroker.start("ControlEndpointTest-bad", Map.of("gregor.http.listener", bad)))
                    .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("gregor.http.listener");
        }
    }
}
