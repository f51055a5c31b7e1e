package io.gregor.broker.intercept;

import io.gregor.wire.RequestAction;
import io.gregor.wire.RequestContext;
import io.gregor.wire.RequestInterceptor;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;


/**
 * The answers one broker sent, as its clients received them (injected faults included), in the order
 * they went out: the last {@value #CAPACITY} while the trace is on. With {@code gregor.wire.trace.enable}
 * every entry is also logged at INFO by the logger {@code io.gregor.trace}.
 */
public final class RequestTrace {
    public static final int CAPACITY = 10_000;
    private static final Object REQUEST_TEXT = new Object();
    private static final Logger traceLog = LoggerFactory.getLogger("io.gregor.trace");

    private final int brokerId;
    private final Time time;
    private final boolean logEntries;
    private final ArrayDeque<TraceRecord> entries = new ArrayDeque<>();
    private final Interceptor interceptor = new Interceptor();
    private volatile boolean enabled;
    private volatile Function<Uuid, Optional<String>> topicNames = id -> Optional.empty();

    /** @param logEntries also log every entry (the broker setting gregor.wire.trace.enable); the trace starts on then */
    public RequestTrace(int brokerId, Time time, boolean logEntries) {
        this.brokerId = brokerId;
        this.time = time;
        this.logEntries = logEntries;
        this.enabled = logEntries;
    }

    /** The chain step that records answers; to be given to the broker's listeners. */
    public RequestInterceptor interceptor() {
        return interceptor;
    }

    /** Tells the trace the names of topic ids, which newer versions of Produce and Fetch carry instead of names. */
    public void bind(Function<Uuid, Optional<String>> topicNamesById) {
        this.topicNames = topicNamesById;
    }

    public void setEnabled(boolean on) {
        enabled = on;
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** A copy of the entries, oldest first, in the order the answers went out. */
    public List<TraceRecord> entries() {
        synchronized (entries) {
            return Collections.unmodifiableList(new ArrayList<>(entries));
        }
    }

    public void clear() {
        synchronized (entries) {
            entries.clear();
        }
    }

    /** Every entry as a person reads it. */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        for (TraceRecord r : entries()) {
            sb.append(format(r)).append('\n');
        }
        return sb.toString();
    }

    /** One entry in three lines: what, when, how it ended; the request; the answer. */
    public static String format(TraceRecord r) {
        String api = ApiKeys.hasId(r.apiKey()) ? ApiKeys.forId(r.apiKey()).name() : String.valueOf(r.apiKey());
        StringBuilder sb = new StringBuilder()
                .append(Instant.ofEpochMilli(r.timestampMs())).append(" broker ").append(r.brokerId())
                .append(' ').append(api).append(" v").append(r.apiVersion())
                .append(" correlation ").append(r.correlationId())
                .append(" client ").append(r.clientId())
                .append(" principal ").append(r.principal()).append(" listener ").append(r.listener())
                .append(' ').append(r.requestBytes()).append(" bytes")
                .append(String.format(" %.3f ms", r.latencyNanos() / 1e6));
        if (r.disconnected()) {
            sb.append(" DISCONNECTED");
        }
        if (!r.errorCodes().isEmpty()) {
            sb.append(" errors ");
            List<String> names = new ArrayList<>();
            for (short code : r.errorCodes()) {
                names.add(Errors.forCode(code).name());
            }
            sb.append(names);
        }
        if (r.injected()) {
            sb.append(" [injected]");
        }
        sb.append("\n  request:  ").append(r.request());
        sb.append("\n  response: ").append(r.response());
        return sb.toString();
    }

    private void record(RequestContext context, ApiMessage response, boolean disconnected) {
        Set<Short> errors = new TreeSet<>();
        String responseText;
        if (disconnected) {
            responseText = "(none: the connection was closed)";
        } else if (response == null) {
            responseText = "(none: the request asks for no answer)";
        } else {
            MessageSummary.collectErrors(response, errors);
            responseText = MessageSummary.of(response, topicNames);
        }
        String requestText = (String) context.attribute(REQUEST_TEXT);
        if (requestText == null) {
            ApiMessage body = context.request().body();
            requestText = body == null ? "(a version this broker cannot parse)" : MessageSummary.of(body, topicNames);
        }
        TraceRecord entry = new TraceRecord(time.milliseconds(), brokerId, context.clientId(), context.apiKey().id,
                context.apiVersion(), context.correlationId(), Collections.unmodifiableSet(errors),
                Math.max(0, time.nanoseconds() - context.receivedNanos()),
                requestText,
                responseText, disconnected, context.injected(), context.listenerName(), context.principal(),
                context.request().sizeInBytes());
        synchronized (entries) {
            if (entries.size() == CAPACITY) {
                entries.pollFirst();
            }
            entries.addLast(entry);
        }
        if (logEntries) {
            // one line per entry, so the log stays one line per event
            traceLog.info("{}", format(entry).replace("\n  ", " | "));
        }
    }

    private final class Interceptor implements RequestInterceptor {
        @Override
        public boolean isActive() {
            return enabled;
        }

        /** The request as the client sent it, before a fault takes a topic out of it; so this runs first in the chain. */
        @Override
        public RequestAction onRequest(RequestContext context) {
            ApiMessage body = context.request().body();
            if (enabled && body != null) {
                context.setAttribute(REQUEST_TEXT, MessageSummary.of(body, topicNames));
            }
            return RequestAction.proceed();
        }

        @Override
        public void onAnswered(RequestContext context, ApiMessage response, boolean disconnected) {
            if (enabled) {
                record(context, response, disconnected);
            }
        }
    }

}
