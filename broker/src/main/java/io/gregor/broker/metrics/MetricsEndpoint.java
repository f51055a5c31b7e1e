package io.gregor.broker.metrics;

import io.gregor.broker.http.HttpListener;
import io.gregor.broker.http.HttpResponses;

import java.util.Set;

/** GET /metrics on the broker's HTTP listener: every metric in the Prometheus text format. */
public final class MetricsEndpoint {
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private MetricsEndpoint() {
    }

    public static void register(HttpListener listener, BrokerMetrics metrics) {
        listener.route("/metrics", Set.of("GET"), exchange -> HttpResponses.text(exchange, 200, CONTENT_TYPE,
                metrics.prometheusText()));
    }
}
