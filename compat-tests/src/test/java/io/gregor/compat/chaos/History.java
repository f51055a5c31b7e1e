package io.gregor.compat.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Everything the workload saw, recorded as it happened, for the {@link Checker}: every acknowledged write and
 * the offset the broker gave it, every transaction and how it ended, every record a group consumer read,
 * every offset commit the coordinator acknowledged, and what the group's committed offsets looked like.
 * Values are unique per write ({@code i<producer>:<seq>} for idempotent writes, {@code t<writer>:<txn>:<k>}
 * for transactional ones), so a value seen twice is a duplicate and a value missing is a loss.
 */
final class History {
    /** An idempotent write the producer had acknowledged (acks=all). */
    record Ack(String value, int producer, long seq, int partition, long offset) {
    }

    enum Outcome { OPEN, COMMITTED, ABORTED, UNKNOWN }

    /** One transaction: its values and where each landed, and how commitTransaction/abortTransaction ended. */
    static final class Txn {
        final String id;
        final int writer;
        final long number;
        final List<String> values = Collections.synchronizedList(new ArrayList<>());
        final Map<String, long[]> acked = new ConcurrentHashMap<>();
        volatile Outcome outcome = Outcome.OPEN;

        Txn(int writer, long number) {
            this.writer = writer;
            this.number = number;
            this.id = "t" + writer + ":" + number;
        }
    }

    /** A record a group consumer returned from poll(); {@code ownership} counts the consumer's assignments. */
    record Read(int consumer, long ownership, int partition, long offset, String value) {
    }

    /** An offset commit the coordinator acknowledged, with when it was sent and answered. */
    record Commit(int consumer, int partition, long offset, long sentAtMs, long ackedAtMs) {
    }

    /** The group's committed offsets as an admin client listed them, with when the call started. */
    record OffsetsObservation(long startedAtMs, Map<Integer, Long> offsets) {
    }

    /** A fault the nemesis applied or healed. */
    record Event(long atMs, String what) {
    }

    private final long startNanos = System.nanoTime();
    private final long startWallMs = System.currentTimeMillis();
    final List<Ack> acks = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong idempotentSent = new AtomicLong();
    final AtomicLong idempotentFailed = new AtomicLong();
    final List<Txn> txns = Collections.synchronizedList(new ArrayList<>());
    final List<Read> reads = Collections.synchronizedList(new ArrayList<>());
    final List<Commit> commits = Collections.synchronizedList(new ArrayList<>());
    /** Commits that ended in an error ({@code ackedAtMs} is when it was seen): they may still have been written. */
    final List<Commit> failedCommits = Collections.synchronizedList(new ArrayList<>());
    final List<OffsetsObservation> observations = Collections.synchronizedList(new ArrayList<>());
    final List<Event> events = Collections.synchronizedList(new ArrayList<>());
    /** {start, end} of each fault, from the moment it was applied until the cluster was whole again. */
    final List<long[]> faultWindows = Collections.synchronizedList(new ArrayList<>());
    final Map<String, AtomicLong> clientErrors = new ConcurrentHashMap<>();
    /** The first message of each kind of client error, to tell an expected timeout from a broker's wrong answer. */
    final Map<String, String> clientErrorSamples = new ConcurrentHashMap<>();

    /** "+12.3 s (05:44:08.604 UTC)": run time and wall clock, to find the moment in the brokers' logs. */
    String stamp() {
        long ms = nowMs();
        return String.format("[%8.1f s %s]", ms / 1000.0,
                java.time.LocalTime.ofInstant(java.time.Instant.ofEpochMilli(startWallMs + ms), java.time.ZoneOffset.UTC)
                        .truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    }

    long nowMs() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    void clientError(String where, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String key = where + ": " + root.getClass().getSimpleName();
        clientErrors.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
        clientErrorSamples.putIfAbsent(key, "at +" + nowMs() / 1000 + " s: " + e + (root == e ? "" : " / " + root));
    }
}
