package io.gregor.storage.index;

import java.nio.file.Path;

/** Kafka's offset index: 8-byte entries of (int32 offset relative to the segment base, int32 file position). */
public final class OffsetIndex extends MmapIndex {
    public static final int ENTRY_SIZE = 8;

    public OffsetIndex(Path path, long baseOffset, int maxIndexSize, boolean writable) {
        super(path, baseOffset, maxIndexSize, writable, ENTRY_SIZE);
    }

    private int relativeOffset(int n) {
        return mmap.getInt(n * ENTRY_SIZE);
    }

    private int position(int n) {
        return mmap.getInt(n * ENTRY_SIZE + 4);
    }

    public long lastOffset() {
        int n = entries;
        return n == 0 ? baseOffset : baseOffset + relativeOffset(n - 1);
    }

    public int lastPosition() {
        int n = entries;
        return n == 0 ? 0 : position(n - 1);
    }

    /** Appends (offset, position); offsets must increase. The caller checks {@link #isFull()}. */
    public void append(long offset, int position) {
        int n = entries;
        if (n >= maxEntries()) {
            throw new IllegalStateException("offset index full: " + path());
        }
        if (n > 0 && offset <= lastOffset()) {
            throw new IllegalStateException("offset " + offset + " not above last index offset " + lastOffset());
        }
        mmap.putInt(n * ENTRY_SIZE, (int) (offset - baseOffset));
        mmap.putInt(n * ENTRY_SIZE + 4, position);
        published(n + 1);
    }

    /** Position of the largest entry whose offset is <= target, or 0 when there is none. */
    public int lookupPosition(long target) {
        int n = entries;
        long rel = target - baseOffset;
        if (n == 0 || rel < relativeOffset(0)) {
            return 0;
        }
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (relativeOffset(mid) <= rel) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return position(lo);
    }

    /** The largest indexed position <= maxPosition, or 0; positions increase with offsets. */
    public int lookupPositionAtOrBefore(int maxPosition) {
        int n = entries;
        if (n == 0 || position(0) > maxPosition) {
            return 0;
        }
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (position(mid) <= maxPosition) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return position(lo);
    }

    /** Entries must strictly increase in offset and position and point inside the log file. */
    public boolean sanityCheck(long logSize) {
        if (!fileLengthValid()) {
            return false;
        }
        int n = entries;
        int prevRel = -1;
        int prevPos = -1;
        for (int i = 0; i < n; i++) {
            int rel = relativeOffset(i);
            int pos = position(i);
            if (rel < 0 || rel <= prevRel && i > 0 || pos <= prevPos || pos >= logSize) {
                return false;
            }
            prevRel = rel;
            prevPos = pos;
        }
        return true;
    }

    /** Drops entries at or above the given file position (truncation during recovery). */
    public void truncateToPosition(int position) {
        int n = entries;
        while (n > 0 && position(n - 1) >= position) {
            n--;
        }
        published(n);
    }
}
