package io.gregor.broker.intercept;

import com.sun.net.httpserver.HttpExchange;
import io.gregor.broker.http.BadRequestException;
import io.gregor.broker.http.HttpListener;
import io.gregor.broker.http.HttpResponses;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The control routes on the broker's HTTP listener ({@code gregor.http.listener=HOST:PORT}): faults and
 * the wire trace for tests in any language. JSON in and out; API and error names are kafka-clients' ApiKeys and Errors names.
 * <pre>
 * POST   /faults  {"api":"PRODUCE","error":"NOT_LEADER_OR_FOLLOWER","times":3,"clientId":null,"topic":null}
 *                 {"api":"FETCH","delayMs":2000}   {"api":"METADATA","disconnect":1}
 * DELETE /faults  clears every fault
 * GET    /trace   the trace entries, oldest first ({@code ?format=text}: as a person reads them)
 * POST   /trace   {"enabled":true}
 * DELETE /trace   clears the entries
 * </pre>
 */
public final class ControlEndpoint {
    private static final Logger log = LoggerFactory.getLogger(ControlEndpoint.class);

    private final FaultInjector faults;
    private final RequestTrace trace;

    private ControlEndpoint(FaultInjector faults, RequestTrace trace) {
        this.faults = faults;
        this.trace = trace;
    }

    /** Serves /faults and /trace on the broker's HTTP listener. */
    public static void register(HttpListener listener, FaultInjector faults, RequestTrace trace) {
        ControlEndpoint endpoint = new ControlEndpoint(faults, trace);
        // the handlers answer a wrong method themselves, naming what the path takes
        listener.route("/faults", Set.of("GET", "POST", "PUT", "DELETE", "PATCH"), endpoint::faults);
        listener.route("/trace", Set.of("GET", "POST", "PUT", "DELETE", "PATCH"), endpoint::trace);
    }

    private void faults(HttpExchange exchange) throws IOException {
        try {
            switch (exchange.getRequestMethod()) {
                case "POST" -> {
                    String added = addFault(bodyObject(exchange));
                    respond(exchange, 200, Map.of("added", added));
                }
                case "DELETE" -> {
                    faults.clear();
                    respond(exchange, 200, Map.of("cleared", true));
                }
                default -> respond(exchange, 405, problem("/faults takes POST or DELETE"));
            }
        } catch (IllegalArgumentException e) {
            respond(exchange, 400, problem(e.getMessage()));
        } catch (RuntimeException e) {
            log.warn("Control endpoint: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            respond(exchange, 500, problem(e.toString()));
        }
    }

    private String addFault(Map<String, Object> body) {
        ApiKeys api = api(requiredString(body, "api"));
        String clientId = optionalString(body, "clientId");
        String topic = optionalString(body, "topic");
        boolean hasError = body.get("error") != null;
        boolean hasDelay = body.get("delayMs") != null;
        boolean hasDisconnect = body.get("disconnect") != null;
        if ((hasError ? 1 : 0) + (hasDelay ? 1 : 0) + (hasDisconnect ? 1 : 0) != 1) {
            throw new IllegalArgumentException("A fault needs exactly one of \"error\" (with \"times\"), \"delayMs\" or \"disconnect\"");
        }
        if (hasError) {
            Errors error = error(requiredString(body, "error"));
            int times = (int) number(body, "times", 1);
            faults.failNext(api.id, error.code(), times, clientId, topic);
            return "fail " + times + " " + api.name() + " with " + error.name();
        }
        if (hasDelay) {
            long delayMs = number(body, "delayMs", 0);
            faults.delay(api.id, delayMs, clientId, topic);
            return "delay " + api.name() + " by " + delayMs + " ms";
        }
        int times = (int) number(body, "disconnect", 1);
        faults.disconnectNext(api.id, times, clientId, topic);
        return "disconnect " + times + " " + api.name();
    }

    private void trace(HttpExchange exchange) throws IOException {
        try {
            switch (exchange.getRequestMethod()) {
                case "GET" -> {
                    String query = exchange.getRequestURI().getQuery();
                    if (query != null && query.contains("format=text")) {
                        respondText(exchange, trace.dump());
                    } else {
                        List<Object> out = new ArrayList<>();
                        for (TraceRecord r : trace.entries()) {
                            out.add(json(r));
                        }
                        respond(exchange, 200, out);
                    }
                }
                case "POST" -> {
                    Object enabled = bodyObject(exchange).get("enabled");
                    if (!(enabled instanceof Boolean on)) {
                        throw new IllegalArgumentException("POST /trace takes {\"enabled\": true|false}");
                    }
                    trace.setEnabled(on);
                    respond(exchange, 200, Map.of("enabled", on));
                }
                case "DELETE" -> {
                    trace.clear();
                    respond(exchange, 200, Map.of("cleared", true));
                }
                default -> respond(exchange, 405, problem("/trace takes GET, POST or DELETE"));
            }
        } catch (IllegalArgumentException e) {
            respond(exchange, 400, problem(e.getMessage()));
        } catch (RuntimeException e) {
            log.warn("Control endpoint: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            respond(exchange, 500, problem(e.toString()));
        }
    }

    private static Map<String, Object> json(TraceRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestampMs", r.timestampMs());
        m.put("brokerId", r.brokerId());
        m.put("clientId", r.clientId());
        m.put("api", ApiKeys.hasId(r.apiKey()) ? ApiKeys.forId(r.apiKey()).name() : null);
        m.put("apiKey", r.apiKey());
        m.put("apiVersion", r.apiVersion());
        m.put("correlationId", r.correlationId());
        List<String> errors = new ArrayList<>();
        for (short code : r.errorCodes()) {
            errors.add(Errors.forCode(code).name());
        }
        m.put("errors", errors);
        m.put("errorCodes", List.copyOf(r.errorCodes()));
        m.put("latencyNanos", r.latencyNanos());
        m.put("request", r.request());
        m.put("response", r.response());
        m.put("disconnected", r.disconnected());
        m.put("injected", r.injected());
        return m;
    }

    private static ApiKeys api(String name) {
        try {
            return ApiKeys.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown API \"" + name + "\": expected a name of kafka-clients' ApiKeys, e.g. PRODUCE");
        }
    }

    private static Errors error(String name) {
        try {
            return Errors.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown error \"" + name
                    + "\": expected a name of kafka-clients' Errors, e.g. NOT_LEADER_OR_FOLLOWER");
        }
    }

    private static String requiredString(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("\"" + key + "\" is required and must be a string");
        }
        return s;
    }

    private static String optionalString(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (v != null && !(v instanceof String)) {
            throw new IllegalArgumentException("\"" + key + "\" must be a string or null");
        }
        return (String) v;
    }

    private static long number(Map<String, Object> body, String key, long dflt) {
        Object v = body.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Long n) || n > Integer.MAX_VALUE && !key.equals("delayMs")) {
            throw new IllegalArgumentException("\"" + key + "\" must be a whole number");
        }
        return n;
    }

    private static Map<String, Object> bodyObject(HttpExchange exchange) throws IOException {
        try {
            return HttpResponses.jsonObjectBody(exchange);
        } catch (BadRequestException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    private static Map<String, Object> problem(String message) {
        return Map.of("error", String.valueOf(message));
    }

    private void respond(HttpExchange exchange, int status, Object body) throws IOException {
        HttpResponses.json(exchange, status, body);
    }

    private void respondText(HttpExchange exchange, String text) throws IOException {
        HttpResponses.text(exchange, 200, "text/plain; charset=utf-8", text);
    }
}
