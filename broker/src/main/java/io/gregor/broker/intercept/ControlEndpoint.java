package io.gregor.broker.intercept;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.gregor.broker.zk.Json;
import io.gregor.config.ConfigException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP control endpoint ({@code gregor.http.listener=HOST:PORT}): faults and the wire trace for tests
 * in any language. JSON in and out; API and error names are kafka-clients' ApiKeys and Errors names.
 * <pre>
 * POST   /faults  {"api":"PRODUCE","error":"NOT_LEADER_OR_FOLLOWER","times":3,"clientId":null,"topic":null}
 *                 {"api":"FETCH","delayMs":2000}   {"api":"METADATA","disconnect":1}
 * DELETE /faults  clears every fault
 * GET    /trace   the trace entries, oldest first ({@code ?format=text}: as a person reads them)
 * POST   /trace   {"enabled":true}
 * DELETE /trace   clears the entries
 * </pre>
 */
public final class ControlEndpoint implements AutoCloseable {
    static final String KEY = "gregor.http.listener";
    private static final Logger log = LoggerFactory.getLogger(ControlEndpoint.class);
    private static final int MAX_BODY_BYTES = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService executor;
    private final FaultInjector faults;
    private final RequestTrace trace;

    private ControlEndpoint(HttpServer server, ExecutorService executor, FaultInjector faults, RequestTrace trace) {
        this.server = server;
        this.executor = executor;
        this.faults = faults;
        this.trace = trace;
    }

    /** Binds HOST:PORT (port 0: the kernel picks); a malformed value or a busy port fails naming the key. */
    public static ControlEndpoint start(String hostPort, int brokerId, FaultInjector faults, RequestTrace trace) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigException(KEY, hostPort, "expected HOST:PORT, e.g. 127.0.0.1:0");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(KEY, hostPort, "the port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(KEY, hostPort, "the port must be in 0..65535");
        }
        InetSocketAddress address = host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new ConfigException(KEY, hostPort, "unknown host " + host);
        }
        HttpServer server;
        try {
            server = HttpServer.create(address, 0);
        } catch (IOException e) {
            throw new ConfigException(KEY, hostPort, "cannot listen there: " + e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gregor-http-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        ControlEndpoint endpoint = new ControlEndpoint(server, executor, faults, trace);
        server.createContext("/faults", endpoint::faults);
        server.createContext("/trace", endpoint::trace);
        server.createContext("/", exchange -> endpoint.respond(exchange, 404,
                problem("Unknown path " + exchange.getRequestURI().getPath() + "; the paths are /faults and /trace")));
        server.setExecutor(executor);
        server.start();
        return endpoint;
    }

    /** Serves another capability's paths on this listener; a handler of "/" also answers every unknown path. */
    public void route(String path, HttpHandler handler) {
        if (path.equals("/")) {
            server.removeContext("/");
        }
        server.createContext(path, handler);
    }

    /** The address it is bound to (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
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

    @SuppressWarnings("unchecked")
    private static Map<String, Object> bodyObject(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("The request body is larger than " + MAX_BODY_BYTES + " bytes");
        }
        Object parsed;
        try {
            parsed = Json.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("The body is not JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException("The body must be a JSON object");
        }
        return (Map<String, Object>) parsed;
    }

    private static Map<String, Object> problem(String message) {
        return Map.of("error", String.valueOf(message));
    }

    private void respond(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", Json.write(body));
    }

    private void respondText(HttpExchange exchange, String text) throws IOException {
        send(exchange, 200, "text/plain; charset=utf-8", text);
    }

    private static void send(HttpExchange exchange, int status, String contentType, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

}
