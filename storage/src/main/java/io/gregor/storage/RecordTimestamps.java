package io.gregor.storage;

import io.gregor.storage.errors.InvalidTimestampException;

/**
 * Kafka's per-record timestamp rules for a leader append (LogValidator.validateTimestamp): on a CreateTime
 * topic a record's timestamp (unless -1) must lie within [now - message.timestamp.before.max.ms,
 * now + message.timestamp.after.max.ms]; otherwise a producer may not mark its batch LogAppendTime. Also finds
 * the batch's real max timestamp, which the leader writes into the header as Kafka does. The record walkers
 * feed it one timestamp delta per record; nothing is allocated unless a record fails. One instance per
 * validator, used under the log's append lock.
 */
final class RecordTimestamps {
    private boolean createTime;
    private long lowest;
    private long highest;
    private boolean batchLogAppendTime;
    private long batchMaxTimestamp;
    private long baseTimestamp;
    private long baseOffset;
    private long maxTimestamp;
    private int[] badIndexes = new int[0];
    private String[] badMessages = new String[0];
    private int bad;

    /** Starts a batch of a topic with config {@code c}, appended at {@code nowMs}. */
    void begin(BatchHeaders b, LogConfig c, long nowMs) {
        createTime = !c.logAppendTime();
        lowest = nowMs - c.timestampBeforeMaxMs(); // both non-negative: no overflow
        highest = c.timestampAfterMaxMs() > Long.MAX_VALUE - nowMs ? Long.MAX_VALUE : nowMs + c.timestampAfterMaxMs();
        batchLogAppendTime = (b.attributes() & Batches.TIMESTAMP_TYPE_MASK) != 0;
        batchMaxTimestamp = b.maxTimestamp();
        baseTimestamp = b.baseTimestamp();
        baseOffset = b.baseOffset();
        maxTimestamp = -1;
        bad = 0;
    }

    /** Record {@code index} of the batch, whose timestamp delta is {@code timestampDelta}. */
    void record(int index, long timestampDelta) {
        // a batch marked LogAppendTime gives every record its max timestamp, as Kafka's record iterator does
        long timestamp = batchLogAppendTime ? batchMaxTimestamp : baseTimestamp + timestampDelta;
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        if (createTime && timestamp != -1) {
            if (timestamp < lowest || timestamp > highest) {
                fail(index, "Timestamp " + timestamp + " of message with offset " + (baseOffset + index)
                        + " is out of range. The timestamp should be within [" + lowest + ", " + highest + "]");
            }
        } else if (batchLogAppendTime) {
            fail(index, "Invalid timestamp type in message with offset " + (baseOffset + index)
                    + ". Producer should not set timestamp type to LogAppendTime.");
        }
    }

    private void fail(int index, String message) {
        if (bad == badIndexes.length) {
            badIndexes = java.util.Arrays.copyOf(badIndexes, Math.max(4, bad * 2));
            badMessages = java.util.Arrays.copyOf(badMessages, badIndexes.length);
        }
        badIndexes[bad] = index;
        badMessages[bad] = message;
        bad++;
    }

    /**
     * Ends the batch: throws INVALID_TIMESTAMP naming every failing record, else returns the largest record
     * timestamp (-1 when none has one).
     */
    long finish() {
        if (bad > 0) {
            int n = bad;
            bad = 0;
            throw new InvalidTimestampException(badIndexes, badMessages, n);
        }
        return maxTimestamp;
    }
}
