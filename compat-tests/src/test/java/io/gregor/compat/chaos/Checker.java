package io.gregor.compat.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a chaos run's {@link History} against what a full read of every partition found after healing, in
 * the spirit of Jepsen's Kafka workload: no acknowledged write lost (or moved from the offset it was
 * acknowledged at), no value twice in the log, no reordering of one producer's writes within a partition,
 * no aborted transaction visible to read_committed (and transactions all or nothing), no record a consumer
 * read that the log no longer holds, and no committed group offset going backwards.
 */
final class Checker {
    /** One partition's records in log order, as a final consumer read them. */
    record LogEntry(long offset, String value) {
    }

    /** Who wrote a record, from its batch header: producer id, producer epoch and the record's sequence. */
    record Writer(long producerId, short epoch, int sequence) {
    }

    private static final int EXAMPLES = 5;

    private final Map<String, List<String>> findings = new LinkedHashMap<>();
    private final Map<String, Integer> counts = new LinkedHashMap<>();
    private final List<String> facts = new ArrayList<>();

    /**
     * Later copies of idempotent writes that their producer sent again under a new epoch, by value: {partition,
     * offset}. A Kafka producer that bumps its epoch (KIP-360) gives its in-flight batches new sequences, so a
     * batch whose first attempt was written but never answered is written again, and no broker can tell (the
     * known limit of the idempotent producer, KAFKA-14034). A copy under the same epoch and sequence is the
     * broker's fault and stays a finding.
     */
    private final Map<String, long[]> resentCopies = new HashMap<>();
    private final List<String> resentExamples = new ArrayList<>();
    private final Map<Integer, Map<Long, Writer>> writers;

    Checker(History history, Map<Integer, List<LogEntry>> committedLog, Map<Integer, List<LogEntry>> uncommittedLog,
            Map<Integer, Long> finalGroupOffsets, Map<Integer, Map<Long, Writer>> writers) {
        this.writers = writers;
        Map<String, long[]> whereUncommitted = index(uncommittedLog, "read_uncommitted");
        Map<String, long[]> whereCommitted = index(committedLog, "read_committed");
        Map<Long, String>[] byOffset = byOffset(uncommittedLog);

        checkAcknowledgedWrites(history, whereUncommitted, whereCommitted);
        Map<String, History.Txn> txnOfValue = checkTransactions(history, whereCommitted, whereUncommitted);
        checkOrder(uncommittedLog, committedLog, txnOfValue);
        checkConsumerReads(history, byOffset, txnOfValue, whereCommitted);
        checkCommittedOffsets(history, finalGroupOffsets, uncommittedLog);
        long withWriter = uncommittedLog.entrySet().stream().mapToLong(e -> e.getValue().stream()
                .filter(entry -> writers.getOrDefault(e.getKey(), Map.of()).containsKey(entry.offset())).count()).sum();
        facts.add("batch headers (producer id, epoch, sequence) read from a replica's segment files for " + withWriter
                + " records of the final read_uncommitted read");
        facts.add("idempotent writes sent again by their producer under a new epoch (Kafka's producer after an "
                + "epoch bump; not the broker's to drop): " + resentCopies.size()
                + (resentExamples.isEmpty() ? "" : " (e.g. " + String.join("; ", resentExamples.subList(0,
                Math.min(EXAMPLES, resentExamples.size()))) + ")"));
    }

    boolean valid() {
        return findings.isEmpty();
    }

    /** Each kind of anomaly with its count and a few examples. */
    List<String> findings() {
        List<String> out = new ArrayList<>();
        findings.forEach((kind, examples) -> out.add(kind + ": " + counts.get(kind) + " (e.g. "
                + String.join("; ", examples) + ")"));
        return out;
    }

    /** What the history held, for the report. */
    List<String> facts() {
        return facts;
    }

    private void finding(String kind, String example) {
        counts.merge(kind, 1, Integer::sum);
        List<String> examples = findings.computeIfAbsent(kind, k -> new ArrayList<>());
        if (examples.size() < EXAMPLES) {
            examples.add(example);
        }
    }

    /** value -> {partition, offset}, flagging values the log holds twice. */
    private Map<String, long[]> index(Map<Integer, List<LogEntry>> log, String isolation) {
        Map<String, long[]> where = new HashMap<>();
        long total = 0;
        for (Map.Entry<Integer, List<LogEntry>> e : log.entrySet()) {
            long previous = -1;
            for (LogEntry entry : e.getValue()) {
                total++;
                if (entry.offset() <= previous) {
                    finding("final " + isolation + " read went backwards", "partition " + e.getKey() + " offset "
                            + entry.offset() + " after " + previous);
                }
                previous = entry.offset();
                long[] before = where.putIfAbsent(entry.value(), new long[] {e.getKey(), entry.offset()});
                if (before != null) {
                    String copies = entry.value() + " at " + before[0] + "/" + before[1] + " " + writerOf(before[0],
                            before[1]) + " and " + e.getKey() + "/" + entry.offset() + " " + writerOf(e.getKey(),
                            entry.offset());
                    boolean idempotent = entry.value().startsWith("i");
                    if (idempotent && resentUnderNewEpoch(before[0], before[1], e.getKey(), entry.offset())) {
                        if (resentCopies.put(entry.value(), new long[] {e.getKey(), entry.offset()}) == null) {
                            resentExamples.add(copies);
                        }
                    } else {
                        finding("duplicate in the log (" + isolation + ")", copies);
                    }
                }
            }
        }
        facts.add("final " + isolation + " read: " + total + " records");
        return where;
    }

    private boolean resentUnderNewEpoch(long partition, long offset, long laterPartition, long laterOffset) {
        Writer first = writers.getOrDefault((int) partition, Map.of()).get(offset);
        Writer later = writers.getOrDefault((int) laterPartition, Map.of()).get(laterOffset);
        return first != null && later != null && first.producerId() >= 0
                && (first.producerId() != later.producerId() || first.epoch() != later.epoch());
    }

    private String writerOf(long partition, long offset) {
        Writer w = writers.getOrDefault((int) partition, Map.of()).get(offset);
        return w == null ? "(writer unknown)" : "(producer " + w.producerId() + " epoch " + w.epoch() + " seq "
                + w.sequence() + ")";
    }

    @SuppressWarnings("unchecked")
    private static Map<Long, String>[] byOffset(Map<Integer, List<LogEntry>> log) {
        int size = log.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        Map<Long, String>[] out = new Map[size];
        for (int p = 0; p < size; p++) {
            out[p] = new HashMap<>();
            for (LogEntry entry : log.getOrDefault(p, List.of())) {
                out[p].put(entry.offset(), entry.value());
            }
        }
        return out;
    }

    private void checkAcknowledgedWrites(History history, Map<String, long[]> uncommitted, Map<String, long[]> committed) {
        List<History.Ack> acks;
        synchronized (history.acks) {
            acks = new ArrayList<>(history.acks);
        }
        facts.add("idempotent writes: " + history.idempotentSent.get() + " sent, " + acks.size() + " acknowledged, "
                + history.idempotentFailed.get() + " failed (outcome unknown)");
        for (History.Ack ack : acks) {
            long[] at = uncommitted.get(ack.value());
            if (at == null) {
                finding("lost acknowledged write", ack.value() + " acknowledged at " + ack.partition() + "/"
                        + ack.offset());
            } else if ((at[0] != ack.partition() || at[1] != ack.offset()) && !isResentCopy(ack)) {
                finding("acknowledged write at another offset", ack.value() + " acknowledged at " + ack.partition()
                        + "/" + ack.offset() + ", found at " + at[0] + "/" + at[1]);
            } else if (!committed.containsKey(ack.value())) {
                finding("acknowledged non-transactional write invisible to read_committed", ack.value());
            }
        }
    }

    private boolean isResentCopy(History.Ack ack) {
        long[] copy = resentCopies.get(ack.value());
        return copy != null && copy[0] == ack.partition() && copy[1] == ack.offset();
    }

    private Map<String, History.Txn> checkTransactions(History history, Map<String, long[]> committed,
                                                       Map<String, long[]> uncommitted) {
        List<History.Txn> txns;
        synchronized (history.txns) {
            txns = new ArrayList<>(history.txns);
        }
        Map<String, History.Txn> txnOfValue = new HashMap<>();
        Map<History.Outcome, Integer> outcomes = new TreeMap<>();
        int unknownCommitted = 0;
        for (History.Txn txn : txns) {
            List<String> values;
            synchronized (txn.values) {
                values = new ArrayList<>(txn.values);
            }
            values.forEach(v -> txnOfValue.put(v, txn));
            outcomes.merge(txn.outcome, 1, Integer::sum);
            long visible = values.stream().filter(committed::containsKey).count();
            switch (txn.outcome) {
                case COMMITTED -> {
                    for (String v : values) {
                        long[] at = committed.get(v);
                        long[] acked = txn.acked.get(v);
                        if (at == null) {
                            finding("lost write of a committed transaction", v + (uncommitted.containsKey(v)
                                    ? " (in the log, hidden from read_committed)" : " (not in the log)"));
                        } else if (acked != null && (acked[0] != at[0] || acked[1] != at[1])) {
                            finding("transactional write at another offset", v + " acknowledged at " + acked[0] + "/"
                                    + acked[1] + ", found at " + at[0] + "/" + at[1]);
                        }
                    }
                }
                case ABORTED, OPEN -> {
                    if (visible > 0) {
                        finding("aborted transaction visible to read_committed", txn.id + ": " + visible + " of "
                                + values.size() + " records");
                    }
                }
                case UNKNOWN -> {
                    if (visible > 0) {
                        unknownCommitted++;
                    }
                    if (visible != 0 && visible != values.size()) {
                        finding("transaction partly visible to read_committed", txn.id + ": " + visible + " of "
                                + values.size() + " records");
                    }
                }
            }
        }
        facts.add("transactions: " + txns.size() + " " + outcomes + "; of the unknown ones " + unknownCommitted
                + " turned out committed");
        return txnOfValue;
    }

    /**
     * One idempotent producer's writes to a partition keep their send order (sequence) in the log; one
     * transactional writer's committed transactions keep theirs, and so do the records within each.
     */
    private void checkOrder(Map<Integer, List<LogEntry>> uncommittedLog, Map<Integer, List<LogEntry>> committedLog,
                            Map<String, History.Txn> txnOfValue) {
        for (Map.Entry<Integer, List<LogEntry>> e : uncommittedLog.entrySet()) {
            Map<String, LogEntry> lastOfProducer = new HashMap<>();
            for (LogEntry entry : e.getValue()) {
                String v = entry.value();
                if (!v.startsWith("i")) {
                    continue;
                }
                long[] resent = resentCopies.get(v);
                if (resent != null && resent[0] == e.getKey() && resent[1] == entry.offset()) {
                    continue; // its place is that of its first copy
                }
                int colon = v.indexOf(':');
                String producer = v.substring(0, colon);
                LogEntry last = lastOfProducer.put(producer, entry);
                if (last != null && seq(last.value()) >= seq(v)) {
                    finding("reordered writes of one idempotent producer", "partition " + e.getKey() + ": "
                            + last.value() + " at " + last.offset() + " before " + v + " at " + entry.offset());
                }
            }
        }
        for (Map.Entry<Integer, List<LogEntry>> e : committedLog.entrySet()) {
            Map<Integer, long[]> lastOfWriter = new HashMap<>();
            for (LogEntry entry : e.getValue()) {
                History.Txn txn = txnOfValue.get(entry.value());
                if (txn == null) {
                    continue;
                }
                String v = entry.value();
                long k = Long.parseLong(v.substring(v.lastIndexOf(':') + 1));
                long[] now = {txn.number, k, entry.offset()};
                long[] last = lastOfWriter.put(txn.writer, now);
                if (last != null && (last[0] > now[0] || (last[0] == now[0] && last[1] >= now[1]))) {
                    finding("reordered transactional writes", "partition " + e.getKey() + ": t" + txn.writer + ":"
                            + last[0] + ":" + last[1] + " at " + last[2] + " before " + v + " at " + entry.offset());
                }
            }
        }
    }

    private static long seq(String idempotentValue) {
        return Long.parseLong(idempotentValue.substring(idempotentValue.indexOf(':') + 1));
    }

    private void checkConsumerReads(History history, Map<Long, String>[] byOffset, Map<String, History.Txn> txnOfValue,
                                    Map<String, long[]> committed) {
        List<History.Read> reads;
        synchronized (history.reads) {
            reads = new ArrayList<>(history.reads);
        }
        Map<String, Long> lastOffset = new HashMap<>();
        Set<String> distinct = new HashSet<>();
        for (History.Read r : reads) {
            distinct.add(r.value());
            String inLog = r.partition() < byOffset.length ? byOffset[r.partition()].get(r.offset()) : null;
            if (!r.value().equals(inLog)) {
                finding("consumer read a record the log does not hold", r.value() + " at " + r.partition() + "/"
                        + r.offset() + ", the log has " + inLog);
            }
            History.Txn txn = txnOfValue.get(r.value());
            if (txn != null && txn.outcome != History.Outcome.COMMITTED && !committed.containsKey(r.value())) {
                finding("read_committed consumer read an aborted record", r.value() + " (" + txn.outcome + ")");
            }
            String key = r.consumer() + "/" + r.ownership() + "/" + r.partition();
            Long last = lastOffset.put(key, r.offset());
            if (last != null && last >= r.offset()) {
                finding("consumer read went backwards within one assignment", "consumer " + r.consumer()
                        + " partition " + r.partition() + ": offset " + r.offset() + " after " + last);
            }
        }
        facts.add("group consumers (read_committed): " + reads.size() + " records read, " + distinct.size()
                + " distinct");
    }

    /** Who committed offsets in [low, high] of a partition and when (sent..answered, ms), to explain a step back. */
    private static String commitsBetween(List<History.Commit> acked, List<History.Commit> failed, int partition,
                                         long low, long high) {
        List<String> out = new ArrayList<>();
        for (List<History.Commit> list : List.of(acked, failed)) {
            for (History.Commit c : list) {
                if (c.partition() == partition && c.offset() >= low && c.offset() <= high) {
                    out.add(c.offset() + " by consumer " + c.consumer() + " " + c.sentAtMs() + ".." + c.ackedAtMs()
                            + (list == failed ? " (failed)" : ""));
                }
            }
        }
        return out.toString();
    }

    /**
     * Committed offsets never go back: each listing of the group's offsets is at least the previous one and at
     * least every commit acknowledged before that listing started; the final offsets hold every acknowledged
     * commit. A listing made while a fault was under way may be answered by a broker that was the group's
     * coordinator until it was paused or cut off from ZooKeeper and has not yet learnt that another broker took
     * over (Kafka's ZooKeeper mode does the same: a broker only learns its session expired when it reaches
     * ZooKeeper again). Such stale listings are counted and shown, not failed; outside faults they fail, and
     * the final offsets must hold every acknowledged commit regardless.
     */
    private void checkCommittedOffsets(History history, Map<Integer, Long> finalGroupOffsets,
                                       Map<Integer, List<LogEntry>> uncommittedLog) {
        List<History.Commit> commits;
        List<History.OffsetsObservation> observations;
        List<long[]> faultWindows;
        synchronized (history.commits) {
            commits = new ArrayList<>(history.commits);
        }
        synchronized (history.observations) {
            observations = new ArrayList<>(history.observations);
        }
        synchronized (history.faultWindows) {
            faultWindows = new ArrayList<>(history.faultWindows);
        }
        commits.sort((a, b) -> Long.compare(a.ackedAtMs(), b.ackedAtMs()));
        Map<Integer, Long> ackedMax = new HashMap<>();
        Map<Integer, Long> observedMax = new HashMap<>();
        Map<Integer, Long> observedAt = new HashMap<>();
        List<History.Commit> failedCommits;
        synchronized (history.failedCommits) {
            failedCommits = new ArrayList<>(history.failedCommits);
        }
        int next = 0;
        int staleDuringFaults = 0;
        List<String> staleExamples = new ArrayList<>();
        for (History.OffsetsObservation o : observations) {
            while (next < commits.size() && commits.get(next).ackedAtMs() < o.startedAtMs()) {
                History.Commit c = commits.get(next++);
                ackedMax.merge(c.partition(), c.offset(), Math::max);
            }
            boolean duringFault = faultWindows.stream().anyMatch(w -> o.startedAtMs() >= w[0] && o.startedAtMs() <= w[1]);
            List<String[]> anomalies = new ArrayList<>();
            for (Map.Entry<Integer, Long> e : o.offsets().entrySet()) {
                Long previous = observedMax.get(e.getKey());
                if (previous != null && e.getValue() < previous) {
                    anomalies.add(new String[] {"committed offset went backwards", "partition " + e.getKey() + ": "
                            + previous + " (listed at +" + observedAt.get(e.getKey()) + " ms) then " + e.getValue()
                            + " at +" + o.startedAtMs() + " ms; commits of " + e.getValue() + ".." + previous + ": "
                            + commitsBetween(commits, failedCommits, e.getKey(), e.getValue(), previous)});
                }
            }
            for (Map.Entry<Integer, Long> e : ackedMax.entrySet()) {
                Long listed = o.offsets().get(e.getKey());
                if (listed == null || listed < e.getValue()) {
                    anomalies.add(new String[] {"acknowledged offset commit missing from a listing of the group",
                            "partition " + e.getKey() + ": committed " + e.getValue() + ", listed " + listed + " at +"
                                    + o.startedAtMs() / 1000 + " s"});
                }
            }
            if (duringFault && !anomalies.isEmpty()) {
                staleDuringFaults++;
                if (staleExamples.size() < EXAMPLES) {
                    staleExamples.add(anomalies.get(0)[1]);
                }
                continue;
            }
            anomalies.forEach(a -> finding(a[0], a[1]));
            o.offsets().forEach((p, offset) -> {
                if (offset > observedMax.getOrDefault(p, Long.MIN_VALUE)) {
                    observedMax.put(p, offset);
                    observedAt.put(p, o.startedAtMs());
                }
            });
        }
        facts.add("stale group offset listings during faults (answered by a deposed coordinator; tolerated): "
                + staleDuringFaults + (staleExamples.isEmpty() ? "" : " (e.g. " + String.join("; ", staleExamples) + ")"));
        Map<Integer, Long> allAcked = new HashMap<>();
        commits.forEach(c -> allAcked.merge(c.partition(), c.offset(), Math::max));
        allAcked.forEach((p, offset) -> {
            Long listed = finalGroupOffsets.get(p);
            if (listed == null || listed < offset) {
                finding("acknowledged offset commit missing from the group at the end", "partition " + p
                        + ": committed " + offset + ", final " + listed);
            }
        });
        facts.add("offset commits acknowledged: " + commits.size() + "; group offset listings: " + observations.size()
                + "; final group offsets " + new TreeMap<>(finalGroupOffsets));
    }
}
