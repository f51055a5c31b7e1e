package io.gregor.broker.http;

import com.sun.net.httpserver.HttpExchange;
import io.gregor.broker.zk.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What every route needs for its answers: JSON and text bodies, error bodies, and reading a JSON request body. */
public final class HttpResponses {
    /** Request bodies are small JSON objects; more is refused rather than buffered. */
    public static final int MAX_BODY_BYTES = 64 * 1024;

    private HttpResponses() {
    }

    public static void json(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", Json.write(body));
    }

    /** {@code {"error": message}} with the status. */
    public static void error(HttpExchange exchange, int status, String message) throws IOException {
        json(exchange, status, Map.of("error", String.valueOf(message)));
    }

    public static void text(HttpExchange exchange, int status, String contentType, String text) throws IOException {
        send(exchange, status, contentType, text);
    }

    private static void send(HttpExchange exchange, int status, String contentType, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The request body as a JSON object; {@link BadRequestException} saying what is wrong when it is not one. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> jsonObjectBody(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new BadRequestException("The request body is larger than " + MAX_BODY_BYTES + " bytes");
        }
        Object parsed;
        try {
            parsed = Json.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new BadRequestException("The body is not JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map)) {
            throw new BadRequestException("The body must be a JSON object");
        }
        return (Map<String, Object>) parsed;
    }
}
