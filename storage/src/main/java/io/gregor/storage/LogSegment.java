package io.gregor.storage;

import io.gregor.storage.errors.KafkaStorageException;
import io.gregor.storage.index.OffsetIndex;
import io.gregor.storage.index.TimeIndex;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One segment: {@code <base>.log} plus its offset and time indexes. The writer is the owning log under its
 * append lock; readers only look at bytes below {@link #size()}, which is published after a write is
 * complete and indexed.
 */
final class LogSegment {
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";
    static final String DELETED_SUFFIX = ".deleted";
    static final String CLEANED_SUFFIX = ".cleaned";
    static final String SWAP_SUFFIX = ".swap";

    /** Recovery hook per valid batch, given its header. */
    interface BatchVisitor {
        void visit(BatchHeaders batch);
    }

    final long baseOffset;
    private volatile Path logPath;
    final FileChannel channel;
    final OffsetIndex offsetIndex;
    final TimeIndex timeIndex;
    final TransactionIndex txnIndex;
    private final boolean indexFilesExisted;

    private volatile int size;
    private volatile long maxTimestampSoFar = -1;
    private volatile long offsetOfMaxTimestampSoFar;
    /** Max timestamp of the first batch: segment.ms counts from it, as in Kafka. */
    private long rollingBasedTimestamp = -1;
    private final long createdMs;
    private int bytesSinceLastIndexEntry;
    /**
     * Where the latest batches end, as (offset - baseOffset) << 32 | file position, one long per entry so a
     * reader never sees half of one. A consumer that keeps up fetches from exactly such a boundary and the
     * high watermark is one, so reads near the end find both positions without scanning batch headers.
     */
    private final AtomicLongArray recentBoundaries = new AtomicLongArray(RECENT_BOUNDARIES);
    private int nextBoundary; // written by the appender only
    private static final int RECENT_BOUNDARIES = 16;

    private LogSegment(Path dir, long baseOffset, int maxIndexSize, boolean active, long nowMs) throws IOException {
        this(dir, baseOffset, maxIndexSize, active, nowMs, "");
    }

    /** A segment whose three files carry a suffix (".cleaned", ".swap") after their usual names. */
    private LogSegment(Path dir, long baseOffset, int maxIndexSize, boolean active, long nowMs, String suffix)
            throws IOException {
        this.baseOffset = baseOffset;
        String prefix = FileUtil.filenamePrefix(baseOffset);
        this.logPath = dir.resolve(prefix + LOG_SUFFIX + suffix);
        Path idx = dir.resolve(prefix + INDEX_SUFFIX + suffix);
        Path tidx = dir.resolve(prefix + TIME_INDEX_SUFFIX + suffix);
        this.indexFilesExisted = Files.exists(idx) && Files.exists(tidx);
        this.channel = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        this.size = (int) Math.min(Integer.MAX_VALUE, channel.size());
        this.offsetIndex = new OffsetIndex(idx, baseOffset, maxIndexSize, active);
        this.timeIndex = new TimeIndex(tidx, baseOffset, maxIndexSize, active);
        this.txnIndex = new TransactionIndex(dir.resolve(prefix + TransactionIndex.SUFFIX + suffix));
        this.offsetOfMaxTimestampSoFar = baseOffset;
        this.createdMs = nowMs;
        forgetBoundaries();
    }

    static LogSegment create(Path dir, long baseOffset, LogConfig config, long nowMs) {
        try {
            String prefix = FileUtil.filenamePrefix(baseOffset);
            // a leftover empty segment from a crash mid-roll is replaced; a non-empty one is a bug
            Path log = dir.resolve(prefix + LOG_SUFFIX);
            if (Files.exists(log) && Files.size(log) > 0) {
                throw new KafkaStorageException("Segment " + log + " already exists");
            }
            Files.deleteIfExists(dir.resolve(prefix + INDEX_SUFFIX));
            Files.deleteIfExists(dir.resolve(prefix + TIME_INDEX_SUFFIX));
            Files.deleteIfExists(dir.resolve(prefix + TransactionIndex.SUFFIX));
            LogSegment s = new LogSegment(dir, baseOffset, config.maxIndexSizeBytes(), true, nowMs);
            s.indexIntervalBytes(config.indexIntervalBytes());
            return s;
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot create segment " + baseOffset + " in " + dir, e);
        }
    }

    /**
     * A new segment whose files end in {@code suffix}, replacing any leftover files of that name: the
     * cleaner's output (".cleaned") or a swap file being validated on load (".swap").
     */
    static LogSegment createWithSuffix(Path dir, long baseOffset, LogConfig config, long nowMs, String suffix) {
        try {
            String prefix = FileUtil.filenamePrefix(baseOffset);
            Files.deleteIfExists(dir.resolve(prefix + LOG_SUFFIX + suffix));
            Files.deleteIfExists(dir.resolve(prefix + INDEX_SUFFIX + suffix));
            Files.deleteIfExists(dir.resolve(prefix + TIME_INDEX_SUFFIX + suffix));
            Files.deleteIfExists(dir.resolve(prefix + TransactionIndex.SUFFIX + suffix));
            LogSegment s = new LogSegment(dir, baseOffset, config.maxIndexSizeBytes(), true, nowMs, suffix);
            s.indexIntervalBytes(config.indexIntervalBytes());
            return s;
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot create segment " + baseOffset + suffix + " in " + dir, e);
        }
    }

    /** Opens existing files that carry a suffix (a ".swap" log found on load), indexes rebuilt by recover. */
    static LogSegment openWithSuffix(Path dir, long baseOffset, LogConfig config, long nowMs, String suffix) {
        try {
            LogSegment s = new LogSegment(dir, baseOffset, config.maxIndexSizeBytes(), true, nowMs, suffix);
            s.indexIntervalBytes(config.indexIntervalBytes());
            return s;
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot open segment " + baseOffset + suffix + " in " + dir, e);
        }
    }

    /**
     * Renames the three files from suffix {@code from} to {@code to} (either may be ""). The log file is
     * renamed last when it gains a suffix and first when it loses one: a crash in between leaves only index
     * files with a stale suffix, which load deletes (the indexes are then rebuilt).
     */
    void changeFileSuffixes(String from, String to) {
        try {
            if (to.isEmpty()) {
                logPath = renameSuffix(logPath, from, to);
                offsetIndex.renameTo(renameTarget(offsetIndex.path(), from, to));
                timeIndex.renameTo(renameTarget(timeIndex.path(), from, to));
                txnIndex.renameTo(renameTarget(txnIndex.path(), from, to));
            } else {
                txnIndex.renameTo(renameTarget(txnIndex.path(), from, to));
                offsetIndex.renameTo(renameTarget(offsetIndex.path(), from, to));
                timeIndex.renameTo(renameTarget(timeIndex.path(), from, to));
                logPath = renameSuffix(logPath, from, to);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot rename segment " + logPath + " to suffix '" + to + "'", e);
        }
    }

    private static Path renameSuffix(Path p, String from, String to) throws IOException {
        Path target = renameTarget(p, from, to);
        FileUtil.moveReplacing(p, target);
        return target;
    }

    private static Path renameTarget(Path p, String from, String to) {
        String name = p.getFileName().toString();
        if (!name.endsWith(from)) {
            throw new IllegalStateException(p + " does not end in '" + from + "'");
        }
        return p.resolveSibling(name.substring(0, name.length() - from.length()) + to);
    }

    /** Max timestamp of the first batch, or -1 when empty (max.compaction.lag.ms counts from it, as in Kafka). */
    long firstBatchTimestamp(ByteBuffer hdr) {
        return readHeader(hdr, 0, Batches.HEADER_SIZE, size) ? hdr.getLong(Batches.MAX_TIMESTAMP) : -1;
    }

    static LogSegment open(Path dir, long baseOffset, LogConfig config, boolean active, long nowMs) {
        try {
            LogSegment s = new LogSegment(dir, baseOffset, config.maxIndexSizeBytes(), active, nowMs);
            s.indexIntervalBytes(config.indexIntervalBytes());
            s.maxTimestampSoFar = s.timeIndex.entries() > 0 ? s.timeIndex.lastTimestamp() : -1;
            s.offsetOfMaxTimestampSoFar = s.timeIndex.entries() > 0 ? s.timeIndex.lastEntryOffset() : baseOffset;
            return s;
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot open segment " + baseOffset + " in " + dir, e);
        }
    }

    int size() {
        return size;
    }

    Path logPath() {
        return logPath;
    }

    long maxTimestampSoFar() {
        return maxTimestampSoFar;
    }

    /** The segment's largest timestamp, or the file's mtime when no batch carried one (Kafka's rule). */
    long largestTimestamp() {
        long ts = maxTimestampSoFar;
        if (ts >= 0) {
            return ts;
        }
        try {
            return Files.getLastModifiedTime(logPath).toMillis();
        } catch (IOException e) {
            return createdMs;
        }
    }

    boolean indexFilesExisted() {
        return indexFilesExisted;
    }

    /** Time waited towards segment.ms: by record time from the first batch, else since creation. */
    long timeWaitedForRoll(long nowMs, long messageTimestamp) {
        long first = rollingBasedTimestamp;
        if (first >= 0 && messageTimestamp >= 0) {
            return messageTimestamp - first;
        }
        return nowMs - createdMs;
    }

    boolean indexesFull() {
        return offsetIndex.isFull() || timeIndex.isFull();
    }

    /** Writes the whole of buf (position..limit) at the end of the file; size is published separately. */
    int writeAtEnd(ByteBuffer buf) {
        int start = size;
        long pos = start;
        try {
            while (buf.hasRemaining()) {
                pos += channel.write(buf, pos);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Write to " + logPath + " failed", e);
        }
        return start;
    }

    /** Index bookkeeping for one written batch (called per batch, before {@link #publishSize}). */
    void onBatchWritten(long lastOffset, long batchMaxTimestamp, int position, int batchSize) {
        // a release store: readers trust an entry only within the size published (volatile) after it
        recentBoundaries.setRelease(nextBoundary, (lastOffset + 1 - baseOffset) << 32 | (position + batchSize));
        nextBoundary = (nextBoundary + 1) % RECENT_BOUNDARIES;
        if (rollingBasedTimestamp < 0 && position == 0) {
            rollingBasedTimestamp = batchMaxTimestamp;
        }
        if (batchMaxTimestamp > maxTimestampSoFar) {
            offsetOfMaxTimestampSoFar = lastOffset;
            maxTimestampSoFar = batchMaxTimestamp;
        }
        // a multi-batch append may fill an index mid-way; entries are only hints, so skip rather than fail
        if (bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull() && !timeIndex.isFull()) {
            offsetIndex.append(lastOffset, position);
            timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar, false);
            bytesSinceLastIndexEntry = 0;
        }
        bytesSinceLastIndexEntry += batchSize;
    }

    private int indexIntervalBytes = 4096;

    void indexIntervalBytes(int bytes) {
        this.indexIntervalBytes = bytes;
    }

    void publishSize(int newSize) {
        size = newSize;
    }

    /** Called when the segment stops being active: final time index entry, indexes trimmed to size. */
    void onBecomeInactive() {
        timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar, true);
        offsetIndex.trimToValidSize();
        timeIndex.trimToValidSize();
    }

    void flush() {
        try {
            channel.force(true);
            offsetIndex.flush();
            timeIndex.flush();
            txnIndex.flush();
        } catch (IOException e) {
            throw new KafkaStorageException("Flush of " + logPath + " failed", e);
        }
    }

    /** Reads one batch header prefix (at least 12 bytes) into hdr; false if it does not fit below limit. */
    boolean readHeader(ByteBuffer hdr, int position, int headerBytes, int limit) {
        if (position + headerBytes > limit) {
            return false;
        }
        hdr.clear().limit(headerBytes);
        try {
            return FileUtil.readFully(channel, hdr, position);
        } catch (IOException e) {
            throw new KafkaStorageException("Read of " + logPath + " failed", e);
        }
    }

    /**
     * Position of the first batch whose last offset is >= target, scanning headers from an index-given
     * start and never past limit; -1 if there is none below limit.
     */
    int translateOffset(long target, int limit, ByteBuffer hdr) {
        int boundary = recentBoundary(target, limit);
        if (boundary >= 0) {
            // a batch ending just before target ends at boundary: the next one (if any) is the answer
            return boundary < limit ? boundary : -1;
        }
        for (BatchHeaders b = new BatchHeaders(hdr).over(this, offsetIndex.lookupPosition(target), limit); b.next(); ) {
            if (b.end() > limit) {
                return -1;
            }
            if (b.lastOffset() >= target) {
                return b.position();
            }
        }
        return -1;
    }

    /** The position where a recent batch ending at target - 1 ends, if it is within limit; else -1. */
    private int recentBoundary(long target, int limit) {
        long relative = target - baseOffset;
        if (relative <= 0 || relative > Integer.MAX_VALUE) {
            return -1;
        }
        for (int i = 0; i < RECENT_BOUNDARIES; i++) {
            long entry = recentBoundaries.get(i);
            if (entry >>> 32 == relative) {
                int position = (int) entry;
                return position <= limit ? position : -1;
            }
        }
        return -1;
    }

    private void forgetBoundaries() {
        for (int i = 0; i < RECENT_BOUNDARIES; i++) {
            recentBoundaries.set(i, -1L);
        }
    }

    /**
     * Whole batches from the one holding startOffset, only those with last offset < maxOffset, within
     * maxBytes (one batch at least when minOneBatch). Null when this segment has no batch at or after
     * startOffset, so the caller moves to the next segment.
     */
    FileSlice read(long startOffset, int maxBytes, long maxOffset, boolean minOneBatch, ByteBuffer hdr) {
        int limit = size;
        int startPos = translateOffset(startOffset, limit, hdr);
        if (startPos < 0) {
            return null;
        }
        int end = limit;
        int maxPos = maxOffset == Long.MAX_VALUE ? -1 : translateOffset(maxOffset, limit, hdr);
        if (maxPos >= 0) {
            end = maxPos;
        }
        if (end <= startPos) {
            return FileSlice.EMPTY;
        }
        int available = end - startPos;
        if (available <= maxBytes) {
            return new FileSlice(channel, startPos, available);
        }
        long target = (long) startPos + Math.max(0, maxBytes);
        int pos = Math.max(startPos, offsetIndex.lookupPositionAtOrBefore((int) target));
        for (BatchHeaders b = new BatchHeaders(hdr).over(this, pos, end); b.next(); ) {
            if (b.end() > target) {
                break;
            }
            pos = b.end();
        }
        int sliceSize = pos - startPos;
        if (sliceSize == 0) {
            if (!minOneBatch || !readHeader(hdr, startPos, Batches.LOG_OVERHEAD, end)) {
                return FileSlice.EMPTY;
            }
            sliceSize = hdr.getInt(Batches.LENGTH) + Batches.LOG_OVERHEAD;
        }
        return new FileSlice(channel, startPos, sliceSize);
    }

    /** Next offset after the last batch, scanning headers from the last index entry (clean load). */
    long readNextOffset(ByteBuffer hdr) {
        int limit = size;
        long next = baseOffset;
        for (BatchHeaders b = new BatchHeaders(hdr).over(this, offsetIndex.lastPosition(), limit); b.next(); ) {
            if (!b.batchFits()) {
                break;
            }
            next = b.lastOffset() + 1;
        }
        if (rollingBasedTimestamp < 0 && readHeader(hdr, 0, Batches.HEADER_SIZE, limit)) {
            rollingBasedTimestamp = hdr.getLong(Batches.MAX_TIMESTAMP);
        }
        return next;
    }

    /** Index files are consistent with the log (clean load). */
    boolean indexesSane() {
        long logSize = size;
        if (!offsetIndex.sanityCheck(logSize)) {
            return false;
        }
        return timeIndex.sanityCheck(Long.MAX_VALUE);
    }

    /**
     * Re-validates every batch (size, magic, CRC, offsets increasing), rebuilds both indexes and truncates
     * the file at the first invalid or torn batch. Returns the number of bytes truncated.
     */
    int recover(LogConfig config, BatchVisitor visitor) {
        offsetIndex.resize(config.maxIndexSizeBytes());
        timeIndex.resize(config.maxIndexSizeBytes());
        offsetIndex.reset();
        timeIndex.reset();
        txnIndex.reset(); // the log replays this segment's abort markers into it again
        forgetBoundaries(); // positions past a truncation will hold other batches
        maxTimestampSoFar = -1;
        offsetOfMaxTimestampSoFar = baseOffset;
        rollingBasedTimestamp = -1;
        int indexInterval = config.indexIntervalBytes();
        BatchValidator validator = new BatchValidator();
        ByteBuffer batch = ByteBuffer.allocate(64 * 1024);
        long fileSize;
        try {
            fileSize = channel.size();
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot read " + logPath, e);
        }
        int limit = (int) Math.min(fileSize, Integer.MAX_VALUE);
        int pos = 0;
        int lastIndexEntry = 0;
        long prevLast = baseOffset - 1;
        BatchHeaders h = new BatchHeaders(ByteBuffer.allocate(Batches.HEADER_SIZE)).over(this, 0, limit);
        while (h.next()) {
            if (!BatchValidator.headerPlausible(h)) {
                break;
            }
            int batchSize = h.sizeInBytes();
            if (batch.capacity() < batchSize) {
                batch = ByteBuffer.allocate(Math.max(batchSize, batch.capacity() * 2));
            }
            batch.clear().limit(batchSize);
            try {
                if (!FileUtil.readFully(channel, batch, pos)) {
                    break;
                }
            } catch (IOException e) {
                throw new KafkaStorageException("Cannot read " + logPath, e);
            }
            if (!validator.isRecoverable(batch, batchSize, prevLast, baseOffset)) {
                break;
            }
            long base = h.baseOffset();
            long last = h.lastOffset();
            long maxTs = h.maxTimestamp();
            if (maxTs > maxTimestampSoFar) {
                maxTimestampSoFar = maxTs;
                offsetOfMaxTimestampSoFar = last;
            }
            if (pos == 0) {
                rollingBasedTimestamp = maxTs;
            }
            if (pos - lastIndexEntry > indexInterval) {
                offsetIndex.append(last, pos);
                timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar, true);
                lastIndexEntry = pos;
            }
            if (visitor != null) {
                visitor.visit(h);
            }
            prevLast = last;
            pos += batchSize;
        }
        int truncated = (int) (fileSize - pos);
        if (truncated > 0) {
            try {
                channel.truncate(pos);
            } catch (IOException e) {
                throw new KafkaStorageException("Cannot truncate " + logPath, e);
            }
        }
        size = pos;
        timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar, true);
        return truncated;
    }

    /**
     * Cuts the file at {@code position} (a batch boundary) and rebuilds the indexes from what is left.
     * Caller holds the log's append lock.
     */
    void truncateToPosition(LogConfig config, int position) {
        try {
            channel.truncate(position);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot truncate " + logPath, e);
        }
        size = position;
        recover(config, null);
    }

    /** Renames the files to *.deleted; the channel stays open for in-flight sends until deleteFiles. */
    void renameToDeleted() {
        try {
            // a re-cleaned segment may meet its predecessor's .deleted files still waiting: replace them (the
            // predecessor's open channels keep reading the unlinked data, as in Kafka)
            Path target = logPath.resolveSibling(logPath.getFileName() + DELETED_SUFFIX);
            FileUtil.moveReplacing(logPath, target);
            logPath = target;
            offsetIndex.renameTo(offsetIndex.path().resolveSibling(offsetIndex.path().getFileName() + DELETED_SUFFIX));
            timeIndex.renameTo(timeIndex.path().resolveSibling(timeIndex.path().getFileName() + DELETED_SUFFIX));
            txnIndex.renameTo(txnIndex.path().resolveSibling(txnIndex.path().getFileName() + DELETED_SUFFIX));
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot rename segment " + logPath, e);
        }
    }

    void deleteFiles() {
        close();
        try {
            Files.deleteIfExists(logPath);
            offsetIndex.deleteFile();
            timeIndex.deleteFile();
            txnIndex.deleteFile();
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot delete segment " + logPath, e);
        }
    }

    void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
        offsetIndex.close();
        timeIndex.close();
        txnIndex.close();
    }

    @Override
    public String toString() {
        return "LogSegment(" + logPath + ", size=" + size + ")";
    }
}
