package io.gregor.broker.quota;

/**
 * A rate over {@code quota.window.num} samples of {@code quota.window.size.seconds} each, measured as Kafka's
 * quota sensors measure it: the sum of the live samples over the time since the oldest one started, padded to
 * at least {@code samples - 1} whole windows (so a new client does not look fast after its first request).
 * A sample starts when a value arrives after the current one's window has passed, and expires once it is
 * {@code samples} windows old. One record per request; synchronized, as requests of one client may arrive on
 * several connections.
 */
final class SampledRate {
    private final long windowMs;
    private final double[] values;
    /** When each sample started; -1: not used yet. */
    private final long[] starts;
    private int current;
    private long lastRecordMs;

    SampledRate(int samples, long windowMs, long nowMs) {
        this.windowMs = windowMs;
        this.values = new double[samples];
        this.starts = new long[samples];
        java.util.Arrays.fill(starts, -1L);
        starts[0] = nowMs;
        lastRecordMs = nowMs;
    }

    /** Adds {@code value} at {@code nowMs} (a negative value takes back what was added) and returns the rate per second after it. */
    synchronized double record(double value, long nowMs) {
        purge(nowMs);
        if (nowMs - starts[current] >= windowMs) {
            current = (current + 1) % values.length;
            values[current] = 0;
            starts[current] = nowMs;
        }
        values[current] += value;
        lastRecordMs = nowMs;
        return rate(nowMs);
    }

    /** The rate per second at {@code nowMs}. */
    synchronized double rate(long nowMs) {
        purge(nowMs);
        double total = 0;
        for (int i = 0; i < values.length; i++) {
            if (starts[i] >= 0) {
                total += values[i];
            }
        }
        return total * 1000.0 / windowSizeMs(nowMs);
    }

    /** The span the rate is measured over at {@code nowMs}: since the oldest sample, at least {@code samples - 1} windows. */
    synchronized long windowSizeMs(long nowMs) {
        long oldest = nowMs;
        for (long start : starts) {
            if (start >= 0 && start < oldest) {
                oldest = start;
            }
        }
        long elapsed = nowMs - oldest;
        long fullWindows = elapsed / windowMs;
        if (fullWindows < values.length - 1) {
            elapsed += (values.length - 1 - fullWindows) * windowMs;
        }
        return Math.max(elapsed, 1);
    }

    /** Whether nothing was recorded for {@code idleMs} (every sample expired). */
    synchronized boolean idleSince(long nowMs, long idleMs) {
        return nowMs - lastRecordMs > idleMs;
    }

    /** Samples a whole quota window old no longer count; they restart empty now, as Kafka's do. */
    private void purge(long nowMs) {
        long expireBefore = nowMs - values.length * windowMs;
        for (int i = 0; i < values.length; i++) {
            if (starts[i] >= 0 && starts[i] <= expireBefore) {
                values[i] = 0;
                starts[i] = nowMs;
            }
        }
    }
}
