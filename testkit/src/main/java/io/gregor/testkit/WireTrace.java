package io.gregor.testkit;

import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.intercept.TraceRecord;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Every request the cluster's brokers answered and how (the last {@value RequestTrace#CAPACITY} per broker
 * run), oldest first: broker, client id, API and version, correlation id, the request's key fields, the
 * answer's errors and latency. On from the cluster's start (see {@link GregorCluster.Builder#trace});
 * brokers restarted later keep tracing, and the entries of their earlier runs stay.
 */
public final class WireTrace {
    private final List<GregorNode> nodes;

    WireTrace(List<GregorNode> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    public List<TraceEntry> entries() {
        List<TraceEntry> all = new ArrayList<>();
        for (GregorNode node : nodes) {
            for (TraceRecord r : node.traceRecords()) {
                // an older kafka-clients on the application's side may not know every API the broker serves
                if (ApiKeys.hasId(r.apiKey())) {
                    all.add(entry(r));
                }
            }
        }
        // stable: each broker's entries are in the order its answers went out
        all.sort(Comparator.comparing(TraceEntry::timestamp));
        return Collections.unmodifiableList(all);
    }

    /** The entries as a person reads them, three lines each. */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        for (TraceEntry e : entries()) {
            sb.append(e.text()).append('\n');
        }
        return sb.toString();
    }

    /** Forgets every entry so far. */
    public void clear() {
        for (GregorNode node : nodes) {
            node.clearTrace();
        }
    }

    private static TraceEntry entry(TraceRecord r) {
        Set<Errors> errors = EnumSet.noneOf(Errors.class);
        for (short code : r.errorCodes()) {
            errors.add(Errors.forCode(code));
        }
        ApiKeys api = ApiKeys.forId(r.apiKey());
        return new TraceEntry(Instant.ofEpochMilli(r.timestampMs()), r.brokerId(), r.clientId(), api, r.apiVersion(),
                r.correlationId(), Collections.unmodifiableSet(errors), Duration.ofNanos(r.latencyNanos()), r.request(),
                r.response(), r.disconnected(), r.injected(), RequestTrace.format(r));
    }
}
