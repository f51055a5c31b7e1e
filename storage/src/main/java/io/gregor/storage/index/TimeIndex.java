package io.gregor.storage.index;

import java.nio.file.Path;

/**
 * Kafka's time index: 12-byte entries of (int64 timestamp, int32 relative offset). Timestamps strictly
 * increase; the offset is the last offset of the batch holding the segment's largest timestamp so far.
 * One slot is kept free so the final entry can always be written when the segment rolls.
 */
public final class TimeIndex extends MmapIndex {
    public static final int ENTRY_SIZE = 12;
    private static final long NO_TIMESTAMP = -1L;

    private volatile long lastTimestamp = NO_TIMESTAMP;
    private volatile long lastEntryOffset;

    public TimeIndex(Path path, long baseOffset, int maxIndexSize, boolean writable) {
        super(path, baseOffset, maxIndexSize, writable, ENTRY_SIZE);
        lastEntryOffset = baseOffset;
        int n = entries;
        if (n > 0 && fileLengthValid()) {
            lastTimestamp = timestamp(n - 1);
            lastEntryOffset = baseOffset + relativeOffset(n - 1);
        }
    }

    private long timestamp(int n) {
        return mmap.getLong(n * ENTRY_SIZE);
    }

    private int relativeOffset(int n) {
        return mmap.getInt(n * ENTRY_SIZE + 8);
    }

    @Override
    public boolean isFull() {
        return entries >= maxEntries() - 1;
    }

    public long lastTimestamp() {
        return lastTimestamp;
    }

    public long lastEntryOffset() {
        return lastEntryOffset;
    }

    /** Appends when the timestamp is larger than the last entry's; the roll may use the reserved slot. */
    public void maybeAppend(long timestamp, long offset, boolean skipFullCheck) {
        int n = entries;
        if (timestamp <= lastTimestamp) {
            return;
        }
        if (n >= maxEntries() || (!skipFullCheck && isFull())) {
            throw new IllegalStateException("time index full: " + path());
        }
        if (n > 0 && offset < lastEntryOffset) {
            throw new IllegalStateException("time index offset " + offset + " below last " + lastEntryOffset);
        }
        mmap.putLong(n * ENTRY_SIZE, timestamp);
        mmap.putInt(n * ENTRY_SIZE + 8, (int) (offset - baseOffset));
        lastTimestamp = timestamp;
        lastEntryOffset = offset;
        published(n + 1);
    }

    /** Offset of the largest entry with timestamp <= target, or the base offset when there is none. */
    public long lookupOffset(long target) {
        int n = entries;
        if (n == 0 || timestamp(0) > target) {
            return baseOffset;
        }
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (timestamp(mid) <= target) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return baseOffset + relativeOffset(lo);
    }

    /** Timestamps strictly increase, offsets never decrease and stay within the segment. */
    public boolean sanityCheck(long maxOffsetInclusive) {
        if (!fileLengthValid()) {
            return false;
        }
        int n = entries;
        long prevTs = Long.MIN_VALUE;
        int prevRel = 0;
        for (int i = 0; i < n; i++) {
            long ts = timestamp(i);
            int rel = relativeOffset(i);
            if (ts <= prevTs || rel < prevRel || rel < 0 || baseOffset + rel > maxOffsetInclusive) {
                return false;
            }
            prevTs = ts;
            prevRel = rel;
        }
        return true;
    }

    @Override
    protected void onReset() {
        lastTimestamp = NO_TIMESTAMP;
        lastEntryOffset = baseOffset;
    }
}
