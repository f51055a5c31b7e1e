package io.gregor.broker.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.gregor.broker.console.ConsoleModel.GroupDetail;
import io.gregor.broker.console.ConsoleModel.Produced;
import io.gregor.broker.console.ConsoleModel.RecordPage;
import io.gregor.broker.console.ConsoleModel.TopicDetail;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.zk.Json;
import io.gregor.storage.errors.KafkaStorageException;
import io.gregor.storage.errors.StorageException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.TopicDeletionDisabledException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A web console for local development, served at {@code /} of the broker's HTTP listener
 * ({@code gregor.http.listener}): server-rendered pages whose forms POST (so it works with JavaScript off),
 * and the same data as JSON under {@code /api/}.
 * <pre>
 * /                                cluster: brokers, controller, listeners
 * /topics                          topics; POST creates one
 * /topics/{t}                      partitions, offsets, sizes, configs
 * /topics/{t}/records              a partition's records from an offset or a time; POST produces one
 * /topics/{t}/delete               POST deletes the topic
 * /groups, /groups/{g}             consumer groups, members, assignments, committed offsets and lag
 * /api/...                         the same as JSON (see /api)
 * </pre>
 */
public final class WebConsole {
    private static final Logger log = LoggerFactory.getLogger(WebConsole.class);
    private static final int MAX_BODY_BYTES = 1024 * 1024;
    private static final int DEFAULT_PAGE = 50;
    private static final int MAX_PAGE = 500;

    private final BrokerView view;
    private final Pages pages;

    private WebConsole(BrokerView view, int brokerId, String clusterId) {
        this.view = view;
        this.pages = new Pages(brokerId, clusterId);
    }

    /** Serves the console at "/" through {@code route} (path, handler), e.g. the control endpoint's. */
    public static void register(BiConsumer<String, HttpHandler> route, BrokerView view) {
        WebConsole console = new WebConsole(view, view.brokerId(), view.clusterId());
        route.accept("/", console::handle);
    }

    /** What went wrong with a request, as an HTTP status and a message for the person or program that sent it. */
    private static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** A request: its path segments after "/api" for the JSON API, and its decoded query. */
    private record Request(HttpExchange exchange, String method, List<String> path, Map<String, String> query,
                           boolean api) {
    }

    private void handle(HttpExchange exchange) throws IOException {
        List<String> path;
        Map<String, String> query;
        try {
            path = segments(exchange.getRequestURI().getRawPath());
            query = parseForm(exchange.getRequestURI().getRawQuery());
        } catch (IllegalArgumentException e) {
            sendJson(exchange, 400, ConsoleModel.map("error", "Malformed URL: " + e.getMessage()));
            exchange.close();
            return;
        }
        boolean api = !path.isEmpty() && path.get(0).equals("api");
        Request request = new Request(exchange, exchange.getRequestMethod(), api ? path.subList(1, path.size()) : path,
                query, api);
        try {
            if (!request.method().equals("GET") && !sameOrigin(exchange)) {
                throw new Refused(403, "Cross-site request refused: the Origin header does not name this console");
            }
            if (api) {
                api(request);
            } else {
                page(request);
            }
        } catch (Refused e) {
            refuse(request, e.status, e.getMessage(), e.status == 405 ? allowed(request) : null);
        } catch (IllegalArgumentException e) {
            refuse(request, 400, e.getMessage(), null);
        } catch (ApiException | StorageException e) {
            refuse(request, status(e), e.getMessage() == null ? e.toString() : e.getMessage(), null);
        } catch (RuntimeException e) {
            log.warn("Console: {} {} failed: {}", request.method(), exchange.getRequestURI(), e.toString());
            refuse(request, 500, e.toString(), null);
        } finally {
            exchange.close();
        }
    }

    // ------------------------------------------------------------------ HTML pages

    private void page(Request r) throws IOException {
        List<String> p = r.path();
        String m = r.method();
        if (p.isEmpty()) {
            only(m, "GET");
            sendHtml(r.exchange(), 200, pages.cluster(view.cluster()));
        } else if (p.get(0).equals("topics") && p.size() == 1) {
            if (only(m, "GET", "POST").equals("GET")) {
                String deleted = r.query().get("deleted");
                sendHtml(r.exchange(), 200, pages.topics(view.topicSummaries(),
                        deleted == null ? null : "Deleted topic " + deleted + ".", null, Map.of()));
            } else {
                createFromForm(r);
            }
        } else if (p.get(0).equals("topics") && p.size() == 2) {
            only(m, "GET");
            TopicDetail d = view.topic(p.get(1)).orElseThrow(() -> unknownTopic(p.get(1)));
            sendHtml(r.exchange(), 200, pages.topic(d, r.query().containsKey("created") ? "Created topic "
                    + d.summary().name() + "." : null, null));
        } else if (p.get(0).equals("topics") && p.size() == 3 && p.get(2).equals("records")) {
            if (only(m, "GET", "POST").equals("GET")) {
                showRecords(r, p.get(1));
            } else {
                produceFromForm(r, p.get(1));
            }
        } else if (p.get(0).equals("topics") && p.size() == 3 && p.get(2).equals("delete")) {
            only(m, "POST");
            deleteFromForm(r, p.get(1));
        } else if (p.get(0).equals("groups") && p.size() == 1) {
            only(m, "GET");
            sendHtml(r.exchange(), 200, pages.groups(view.groupSummaries()));
        } else if (p.get(0).equals("groups") && p.size() == 2) {
            only(m, "GET");
            GroupDetail g = view.group(p.get(1)).orElseThrow(() -> new Refused(404, "No consumer group " + p.get(1)
                    + " is coordinated by this broker."));
            sendHtml(r.exchange(), 200, pages.group(g));
        } else {
            throw new Refused(404, "Unknown path " + r.exchange().getRequestURI().getPath());
        }
    }

    private void createFromForm(Request r) throws IOException {
        Map<String, String> form = parseForm(body(r.exchange()));
        String name = form.getOrDefault("name", "").trim();
        try {
            view.createTopic(name, intOr(form.get("partitions"), -1, "partitions"),
                    (short) intOr(form.get("replicationFactor"), -1, "replicationFactor"),
                    keyValueLines(form.getOrDefault("configs", ""), "configs"));
        } catch (ApiException | IllegalArgumentException e) {
            int status = e instanceof ApiException a ? status(a) : 400;
            sendHtml(r.exchange(), status, pages.topics(view.topicSummaries(), null,
                    "Cannot create topic " + name + ": " + e.getMessage(), form));
            return;
        }
        redirect(r.exchange(), "/topics/" + Html.enc(name) + "?created");
    }

    private void deleteFromForm(Request r, String topic) throws IOException {
        Map<String, String> form = parseForm(body(r.exchange()));
        TopicDetail d = view.topic(topic).orElseThrow(() -> unknownTopic(topic));
        String problem;
        if (!"yes".equals(form.get("confirm"))) {
            problem = "Tick the box to confirm the deletion.";
        } else if (d.summary().internal()) {
            problem = "The console does not delete internal topics.";
        } else {
            try {
                view.deleteTopic(topic);
                redirect(r.exchange(), "/topics?deleted=" + Html.enc(topic));
                return;
            } catch (ApiException e) {
                problem = "Cannot delete topic " + topic + ": " + e.getMessage();
            }
        }
        sendHtml(r.exchange(), 400, pages.topic(d, null, problem));
    }

    private void showRecords(Request r, String topic) throws IOException {
        Map<String, String> q = r.query();
        TopicDetail d = view.topic(topic).orElseThrow(() -> unknownTopic(topic));
        int partition = intOr(q.get("partition"), 0, "partition");
        String time = q.getOrDefault("time", "").trim();
        RecordPage page = view.records(topic, partition, longOr(q.get("offset"), null, "offset"),
                time.isEmpty() ? null : parseTime(time), limit(q.get("limit")), RecordReader.Format.parse(q.get("format")));
        Long produced = longOr(q.get("produced"), null, "produced");
        sendHtml(r.exchange(), 200, pages.records(page, d.summary().partitions(), q,
                produced == null ? null : "Produced a record at offset " + produced + " of partition " + partition + ".",
                null, Map.of()));
    }

    private void produceFromForm(Request r, String topic) throws IOException {
        Map<String, String> form = parseForm(body(r.exchange()));
        TopicDetail d = view.topic(topic).orElseThrow(() -> unknownTopic(topic));
        Integer partition = form.getOrDefault("partition", "").isEmpty() ? null : intOr(form.get("partition"), 0, "partition");
        try {
            String key = form.getOrDefault("key", "");
            Map<String, byte[]> headers = new LinkedHashMap<>();
            keyValueLines(form.getOrDefault("headers", ""), "headers").forEach((k, v) -> headers.put(k, bytes(v)));
            Produced p = view.produce(topic, partition, key.isEmpty() ? null : bytes(key),
                    bytes(form.getOrDefault("value", "")), headers);
            redirect(r.exchange(), "/topics/" + Html.enc(topic) + "/records?partition=" + p.partition() + "&offset="
                    + p.offset() + "&produced=" + p.offset());
        } catch (ApiException | StorageException | IllegalArgumentException e) {
            int status = e instanceof IllegalArgumentException ? 400 : status(e);
            int shown = partition == null || partition < 0 || partition >= d.summary().partitions() ? 0 : partition;
            RecordPage page = view.records(topic, shown, null, null, DEFAULT_PAGE, RecordReader.Format.AUTO);
            sendHtml(r.exchange(), status, pages.records(page, d.summary().partitions(), Map.of(), null,
                    "Cannot produce: " + e.getMessage(), form));
        }
    }

    // ------------------------------------------------------------------ JSON API

    private void api(Request r) throws IOException {
        List<String> p = r.path();
        String m = r.method();
        HttpExchange x = r.exchange();
        if (p.isEmpty()) {
            only(m, "GET");
            if (accepts(x, "text/html")) {
                sendHtml(x, 200, pages.api());
            } else {
                sendJson(x, 200, ConsoleModel.map("paths", List.of("/api/cluster", "/api/topics", "/api/topics/{topic}",
                        "/api/topics/{topic}/records", "/api/groups", "/api/groups/{group}")));
            }
        } else if (p.get(0).equals("cluster") && p.size() == 1) {
            only(m, "GET");
            sendJson(x, 200, view.cluster().json());
        } else if (p.get(0).equals("topics") && p.size() == 1) {
            if (only(m, "GET", "POST").equals("GET")) {
                sendJson(x, 200, view.topicSummaries().stream().map(t -> t.json()).toList());
            } else {
                Map<String, Object> body = jsonBody(x);
                String name = string(body, "name", true);
                Map<String, String> configs = new LinkedHashMap<>();
                stringMap(body, "configs").forEach((k, v) -> {
                    if (v == null) {
                        throw new IllegalArgumentException("\"configs\" values must be strings");
                    }
                    configs.put(k, v);
                });
                TopicMetadata created = view.createTopic(name, (int) number(body, "partitions", -1),
                        (short) number(body, "replicationFactor", -1), configs);
                sendJson(x, 201, view.topic(created.name()).map(TopicDetail::json)
                        .orElseGet(() -> ConsoleModel.map("name", created.name())));
            }
        } else if (p.get(0).equals("topics") && p.size() == 2) {
            if (only(m, "GET", "DELETE").equals("GET")) {
                sendJson(x, 200, view.topic(p.get(1)).orElseThrow(() -> unknownTopic(p.get(1))).json());
            } else {
                TopicDetail d = view.topic(p.get(1)).orElseThrow(() -> unknownTopic(p.get(1)));
                if (d.summary().internal()) {
                    throw new Refused(400, "The console does not delete internal topics.");
                }
                view.deleteTopic(p.get(1));
                sendJson(x, 200, ConsoleModel.map("deleted", p.get(1)));
            }
        } else if (p.get(0).equals("topics") && p.size() == 3 && p.get(2).equals("records")) {
            if (only(m, "GET", "POST").equals("GET")) {
                Map<String, String> q = r.query();
                Long timestamp = longOr(q.get("timestamp"), null, "timestamp");
                String time = q.getOrDefault("time", "").trim();
                if (timestamp == null && !time.isEmpty()) {
                    timestamp = parseTime(time);
                }
                sendJson(x, 200, view.records(p.get(1), intOr(q.get("partition"), 0, "partition"),
                        longOr(q.get("offset"), null, "offset"), timestamp, limit(q.get("limit")),
                        RecordReader.Format.parse(q.get("format"))).json());
            } else {
                Map<String, Object> body = jsonBody(x);
                Object partition = body.get("partition");
                if (partition != null && !(partition instanceof Long)) {
                    throw new IllegalArgumentException("\"partition\" must be a whole number or null");
                }
                Map<String, byte[]> headers = new LinkedHashMap<>();
                stringMap(body, "headers").forEach((k, v) -> headers.put(k, v == null ? null : bytes(v)));
                String key = string(body, "key", false);
                String value = string(body, "value", false);
                Produced produced = view.produce(p.get(1), partition == null ? null : Math.toIntExact((Long) partition),
                        key == null ? null : bytes(key), value == null ? null : bytes(value), headers);
                sendJson(x, 201, produced.json());
            }
        } else if (p.get(0).equals("groups") && p.size() == 1) {
            only(m, "GET");
            sendJson(x, 200, view.groupSummaries().stream().map(g -> g.json()).toList());
        } else if (p.get(0).equals("groups") && p.size() == 2) {
            only(m, "GET");
            sendJson(x, 200, view.group(p.get(1)).orElseThrow(() -> new Refused(404, "No consumer group " + p.get(1)
                    + " is coordinated by this broker.")).json());
        } else {
            throw new Refused(404, "Unknown path " + x.getRequestURI().getPath() + "; GET /api lists the paths");
        }
    }

    // ------------------------------------------------------------------ answers

    private void refuse(Request r, int status, String message, String allow) throws IOException {
        HttpExchange x = r.exchange();
        if (allow != null) {
            x.getResponseHeaders().set("Allow", allow);
        }
        if (!r.api() && accepts(x, "text/html")) {
            sendHtml(x, status, status == 404 ? pages.notFound(message) : pages.failed(title(status), message));
        } else {
            Map<String, Object> body = ConsoleModel.map("error", message);
            sendJson(x, status, body);
        }
    }

    private static String title(int status) {
        return switch (status) {
            case 400 -> "Bad request";
            case 403 -> "Forbidden";
            case 405 -> "Method not allowed";
            case 409 -> "Conflict";
            default -> "Error " + status;
        };
    }

    /** The methods a path takes, for a 405's Allow header. */
    private static String allowed(Request r) {
        List<String> p = r.path();
        if (p.isEmpty() || p.get(0).equals("groups") || p.get(0).equals("cluster")) {
            return "GET";
        }
        if (p.size() == 3 && p.get(2).equals("delete")) {
            return "POST";
        }
        if (p.size() == 2 && r.api()) {
            return "GET, DELETE";
        }
        return p.size() == 2 ? "GET" : "GET, POST";
    }

    private static int status(RuntimeException e) {
        if (e instanceof UnknownTopicOrPartitionException) {
            return 404;
        }
        if (e instanceof TopicExistsException || e instanceof NotLeaderOrFollowerException) {
            return 409;
        }
        if (e instanceof TopicDeletionDisabledException) {
            return 403;
        }
        if (e instanceof KafkaStorageException) {
            return 500;
        }
        if (e instanceof ApiException a && Errors.forException(a) == Errors.UNKNOWN_SERVER_ERROR) {
            return 500;
        }
        return 400;
    }

    private static Refused unknownTopic(String name) {
        return new Refused(404, "Topic '" + name + "' does not exist.");
    }

    /** The method, when it is one of {@code methods}; else a 405. */
    private static String only(String method, String... methods) {
        for (String m : methods) {
            if (m.equals(method)) {
                return m;
            }
        }
        throw new Refused(405, "This path takes " + String.join(" or ", methods) + ", not " + method);
    }

    /**
     * A browser names the page a form was sent from; another site's page must not create or delete topics
     * here. Programs that send no Origin are let through.
     */
    private static boolean sameOrigin(HttpExchange x) {
        String origin = x.getRequestHeaders().getFirst("Origin");
        String host = x.getRequestHeaders().getFirst("Host");
        return origin == null || host != null && origin.equals("http://" + host);
    }

    private static boolean accepts(HttpExchange x, String type) {
        String accept = x.getRequestHeaders().getFirst("Accept");
        return accept != null && accept.contains(type);
    }

    private static void redirect(HttpExchange x, String location) throws IOException {
        x.getResponseHeaders().set("Location", location);
        x.sendResponseHeaders(303, -1);
    }

    private static void sendHtml(HttpExchange x, int status, String html) throws IOException {
        send(x, status, "text/html; charset=utf-8", html);
    }

    private static void sendJson(HttpExchange x, int status, Object body) throws IOException {
        send(x, status, "application/json", Json.write(body));
    }

    private static void send(HttpExchange x, int status, String contentType, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", contentType);
        x.getResponseHeaders().set("Cache-Control", "no-store");
        x.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        x.getResponseHeaders().set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                + "form-action 'self'; frame-ancestors 'none'");
        x.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    // ------------------------------------------------------------------ parsing

    /** The path's segments, each percent-decoded ('+' stays a plus: it is not a space in a path). */
    private static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** application/x-www-form-urlencoded, as forms and query strings send it; the first of repeated keys wins. */
    private static Map<String, String> parseForm(String encoded) {
        Map<String, String> out = new LinkedHashMap<>();
        if (encoded == null || encoded.isEmpty()) {
            return out;
        }
        for (String pair : encoded.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    private static String body(HttpExchange x) throws IOException {
        byte[] bytes;
        try (InputStream in = x.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new Refused(413, "The request body is larger than " + MAX_BODY_BYTES + " bytes");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> jsonBody(HttpExchange x) throws IOException {
        String text = body(x);
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("The body is not JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException("The body must be a JSON object");
        }
        return (Map<String, Object>) parsed;
    }

    private static String string(Map<String, Object> body, String key, boolean required) {
        Object v = body.get(key);
        if (v == null && !required) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("\"" + key + "\" " + (required ? "is required and " : "") + "must be a string");
        }
        return s;
    }

    private static long number(Map<String, Object> body, String key, long dflt) {
        Object v = body.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Long n) || n < Short.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("\"" + key + "\" must be a whole number");
        }
        return n;
    }

    /** An optional JSON object of strings (values may be null). */
    private static Map<String, String> stringMap(Map<String, Object> body, String key) {
        Object v = body.get(key);
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("\"" + key + "\" must be a JSON object of strings");
        }
        m.forEach((k, value) -> {
            if (value != null && !(value instanceof String)) {
                throw new IllegalArgumentException("\"" + key + "\"." + k + " must be a string");
            }
            out.put((String) k, (String) value);
        });
        return out;
    }

    /** "key=value" lines (blank lines skipped); a line without '=' is a key with a null value. */
    private static Map<String, String> keyValueLines(String text, String field) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            int eq = line.indexOf('=');
            String k = (eq < 0 ? line : line.substring(0, eq)).trim();
            if (k.isEmpty()) {
                throw new IllegalArgumentException(field + ": the line \"" + line + "\" has no key");
            }
            out.put(k, eq < 0 ? null : line.substring(eq + 1));
        }
        return out;
    }

    private static int intOr(String s, int dflt, String name) {
        Long v = longOr(s, null, name);
        if (v == null) {
            return dflt;
        }
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " is out of range: " + s);
        }
        return v.intValue();
    }

    private static Long longOr(String s, Long dflt, String name) {
        if (s == null || s.isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, not \"" + s + "\"");
        }
    }

    private static int limit(String s) {
        int n = intOr(s, DEFAULT_PAGE, "limit");
        if (n < 1 || n > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_PAGE);
        }
        return n;
    }

    /** Epoch milliseconds, an ISO instant, or a date and time taken as UTC (what a datetime-local field sends). */
    static long parseTime(String s) {
        if (s.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(s);
        }
        try {
            return Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // not an instant: a local date and time, below
        }
        try {
            return LocalDateTime.parse(s.replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("time must be epoch milliseconds or a UTC date and time like "
                    + "2026-01-31T12:00:00, not \"" + s + "\"");
        }
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
