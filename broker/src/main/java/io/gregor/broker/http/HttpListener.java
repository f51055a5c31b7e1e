package io.gregor.broker.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.gregor.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker's one HTTP listener ({@code gregor.http.listener=HOST:PORT}, off by default), shared by every
 * part that serves HTTP: each registers its paths with {@link #route} (one exact path) or {@link #routeTree}
 * (a path and everything under it). The listener answers what no route serves: 404 for an unknown path,
 * 405 (with Allow) for a method the route does not take, 400 for a {@link BadRequestException}, 500 with
 * one log line for anything else a handler throws. Bodies of those answers are JSON {@code {"error": "..."}}.
 * It runs on its own threads, never on the Kafka listener's.
 */
public final class HttpListener implements AutoCloseable {
    public static final String KEY = "gregor.http.listener";
    private static final Logger log = LoggerFactory.getLogger(HttpListener.class);
    /** Scrapes, console pages and test calls are few and short; a few threads keep a slow or stalled client from blocking the rest. */
    private static final int THREADS = 4;

    private final HttpServer server;
    private final ExecutorService executor;
    /** Routes may be added while serving (a part registers as it starts); exact paths are matched first. */
    private final List<Route> routes = new CopyOnWriteArrayList<>();

    private record Route(String path, boolean tree, Set<String> methods, HttpHandler handler) {
        boolean matches(String requested) {
            if (requested.equals(path)) {
                return true;
            }
            return tree && (path.equals("/") || requested.startsWith(path.endsWith("/") ? path : path + "/"));
        }
    }

    private HttpListener(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds HOST:PORT (port 0: the kernel picks); a malformed value or a busy port fails naming the key. */
    public static HttpListener start(String hostPort, int brokerId) {
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
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "gregor-http-" + brokerId + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        HttpListener listener = new HttpListener(server, executor);
        server.createContext("/", listener::dispatch);
        server.setExecutor(executor);
        server.start();
        return listener;
    }

    /** Serves exactly {@code path} (e.g. "/metrics") with {@code handler} for the given methods (e.g. "GET"). */
    public void route(String path, Set<String> methods, HttpHandler handler) {
        add(new Route(path, false, Set.copyOf(methods), handler));
    }

    /** Serves {@code path} and every path under it ("/api" serves "/api/topics"; "/" serves everything not routed otherwise). */
    public void routeTree(String path, Set<String> methods, HttpHandler handler) {
        add(new Route(path, true, Set.copyOf(methods), handler));
    }

    private void add(Route route) {
        if (!route.path.startsWith("/")) {
            throw new IllegalArgumentException("An HTTP path starts with /: " + route.path);
        }
        for (Route r : routes) {
            if (r.path.equals(route.path)) {
                throw new IllegalStateException("The HTTP path " + route.path + " is served already");
            }
        }
        routes.add(route);
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

    private void dispatch(HttpExchange exchange) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            Route route = find(path);
            if (route == null) {
                HttpResponses.error(exchange, 404, "Unknown path " + path + "; served here: " + String.join(", ", paths()));
                return;
            }
            if (!route.methods.contains(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", String.join(", ", new TreeSet<>(route.methods)));
                HttpResponses.error(exchange, 405, path + " takes " + String.join(" or ", new TreeSet<>(route.methods))
                        + ", not " + exchange.getRequestMethod());
                return;
            }
            try {
                route.handler.handle(exchange);
            } catch (BadRequestException e) {
                HttpResponses.error(exchange, 400, e.getMessage());
            } catch (RuntimeException e) {
                log.warn("HTTP {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                HttpResponses.error(exchange, 500, e.toString());
            }
        } catch (IOException e) {
            // the client went away mid-answer: its problem, not worth more than a debug line
            log.debug("HTTP {} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.toString());
        } finally {
            exchange.close();
        }
    }

    /** The exact route for the path, else the tree route with the longest path that holds it. */
    private Route find(String path) {
        Route best = null;
        for (Route r : routes) {
            if (r.matches(path)) {
                if (!r.tree) {
                    return r;
                }
                if (best == null || r.path.length() > best.path.length()) {
                    best = r;
                }
            }
        }
        return best;
    }

    private List<String> paths() {
        return routes.stream().map(r -> r.tree && !r.path.equals("/") ? r.path + "/..." : r.path).sorted().toList();
    }
}
