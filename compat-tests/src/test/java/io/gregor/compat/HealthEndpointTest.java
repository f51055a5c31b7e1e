package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.broker.zk.EmbeddedZooKeeper;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * /health as an orchestrator's readiness probe sees it: 503 while the broker cannot serve yet (here it waits
 * for ZooKeeper, which is not up), 200 once it can. The ports are fixed (this branch's range) because the
 * broker is still starting while the test reads them.
 */
class HealthEndpointTest {
    private static final int HTTP_PORT = 23080;
    private static final int ZOOKEEPER_PORT = 23181;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> health() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + HTTP_PORT + "/health"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIs503UntilTheBrokerServesThen200() throws Exception {
        Path dir = TestDirs.newDataDir("HealthEndpointTest");
        CompletableFuture<Broker> starting = CompletableFuture.supplyAsync(() -> Broker.start(Map.of(
                "broker.id", "0",
                "listeners", "PLAINTEXT://127.0.0.1:0",
                "log.dirs", dir.resolve("logs").toString(),
                "zookeeper.connect", "127.0.0.1:" + ZOOKEEPER_PORT,
                "zookeeper.connection.timeout.ms", "120000",
                "offsets.topic.replication.factor", "1",
                "gregor.http.listener", "127.0.0.1:" + HTTP_PORT)));
        EmbeddedZooKeeper zookeeper = null;
        Broker broker = null;
        try {
            await("/health answers while the broker waits for ZooKeeper").atMost(Duration.ofSeconds(60))
                    .ignoreExceptionsInstanceOf(ConnectException.class).until(() -> health().statusCode() == 503);
            HttpResponse<String> starting503 = health();
            assertThat(starting503.body()).contains("\"status\":\"starting\"");
            assertThat(starting503.headers().firstValue("Content-Type")).contains("application/json");
            assertThat(starting.isDone()).isFalse();

            zookeeper = EmbeddedZooKeeper.start(dir.resolve("zookeeper"), ZOOKEEPER_PORT, 1000, 200);
            broker = starting.get(90, TimeUnit.SECONDS);
            HttpResponse<String> ready = health();
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("\"status\":\"ready\"");
        } finally {
            if (broker != null) {
                broker.close();
            } else {
                starting.cancel(true);
            }
            if (zookeeper != null) {
                zookeeper.close();
            }
        }
    }
}
