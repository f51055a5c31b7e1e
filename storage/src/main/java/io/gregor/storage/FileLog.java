package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.KafkaStorageException;
import io.gregor.storage.errors.OffsetOutOfRangeException;
import io.gregor.storage.errors.RecordTooLargeException;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A partition log on local disk, in Kafka's on-disk format. Appends are serialised by {@code appendLock};
 * reads take no lock: they see the published log end offset and segment sizes, which only ever cover
 * whole, indexed batches.
 */
public final class FileLog implements PartitionLog {
    private static final Logger log = LoggerFactory.getLogger(FileLog.class);
    static final String PARTITION_METADATA = "partition.metadata";
    private static final ThreadLocal<ByteBuffer> HEADER = ThreadLocal.withInitial(
            () -> ByteBuffer.allocate(Batches.HEADER_SIZE));

    /** What the owning manager provides: a scheduler and a hook to checkpoint log start offsets. */
    interface Hooks {
        java.util.concurrent.ScheduledExecutorService scheduler();

        void logStartOffsetChanged(FileLog log);

        /** The broker's clock: segment roll and flush times, retention. */
        org.apache.kafka.common.utils.Time time();

        /**
         * The calling thread's decompression state for checking compressed batches; the log manager keeps one
         * per request thread. The default allocates one per batch.
         */
        default CompressedRecordsValidator compressedRecordsValidator() {
            return new CompressedRecordsValidator();
        }

        /**
         * Runs a truncation that cuts below the active segment with the log cleaner kept off the log, then moves
         * the cleaner's checkpoint down to the new active segment's base if it was above it (Kafka's
         * LogManager.truncateTo / truncateFullyAndStartAt with LogCleanerManager.maybeTruncateCheckpoint): the
         * data written after the cut must count as dirty. The default just runs it.
         */
        default void truncateBelowActiveSegment(FileLog log, Runnable truncation) {
            truncation.run();
        }

        /** Test hook, called at each step of a segment swap so a test can simulate a crash there. */
        default void swapReached(String step) {
        }
    }

    private final TopicPartition tp;
    private volatile Path dir;
    private volatile String topicId;
    private volatile LogConfig config;
    private final Hooks hooks;

    private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
    private volatile LogSegment activeSegment;
    private volatile long logEndOffset;
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile long recoveryPoint;
    private volatile long lastFlushMs;
    private volatile boolean closed;
    /** Pass 1 of a leader append: each batch's largest record timestamp. Guarded by appendLock. */
    private long[] batchMaxTimestamps = new long[1];

    private final ReentrantLock appendLock = new ReentrantLock();
    /** Odd while the cleaner swaps segments in the map; readers that overlap a change read again. */
    private volatile int segmentsVersion;
    private final Object flushLock = new Object();
    private final BatchValidator validator; // guarded by appendLock
    private final BatchHeaders appendHeaders = new BatchHeaders(); // guarded by appendLock
    private final ProducerStateTable producers = new ProducerStateTable(); // guarded by appendLock
    private final LeaderEpochCache epochs;
    /** First offset of the earliest open transaction (-1: none), published after each append. */
    private volatile long firstOngoingTxnOffset = -1;
    /**
     * Transactions whose marker is written but not yet below the high watermark, first offset -> marker
     * offset: as in Kafka they hold the LSO back until the marker is replicated.
     */
    private final ConcurrentSkipListMap<Long, Long> unreplicatedTxns = new ConcurrentSkipListMap<>();

    private FileLog(Path dir, TopicPartition tp, String topicId, LogConfig config, Hooks hooks) {
        this.dir = dir;
        this.tp = tp;
        this.topicId = topicId;
        this.config = config;
        this.hooks = hooks;
        this.validator = new BatchValidator(hooks::compressedRecordsValidator);
        this.epochs = new LeaderEpochCache(dir);
        this.lastFlushMs = hooks.time().milliseconds();
    }

    // ------------------------------------------------------------------ creation and loading

    static FileLog create(Path dir, TopicPartition tp, String topicId, LogConfig config, Hooks hooks) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot create " + dir, e);
        }
        if (topicId != null) {
            writePartitionMetadata(dir, topicId);
        }
        FileLog l = new FileLog(dir, tp, topicId, config, hooks);
        LogSegment seg = LogSegment.create(dir, 0, config, hooks.time().milliseconds());
        l.segments.put(0L, seg);
        l.activeSegment = seg;
        return l;
    }

    /** Offsets found in the dir-level checkpoints for this log; null where absent. */
    record Checkpointed(Long recoveryPoint, Long logStartOffset, Long highWatermark) {
    }

    static FileLog load(Path dir, TopicPartition tp, LogConfig config, Checkpointed cp, boolean cleanShutdown,
                        Hooks hooks) {
        FileLog l = new FileLog(dir, tp, readPartitionMetadata(dir), config, hooks);
        l.loadSegments(cp, cleanShutdown);
        return l;
    }

    static void writePartitionMetadata(Path dir, String topicId) {
        FileUtil.writeAtomically(dir.resolve(PARTITION_METADATA), "version: 0\ntopic_id: " + topicId + "\n");
    }

    private static String readPartitionMetadata(Path dir) {
        Path f = dir.resolve(PARTITION_METADATA);
        if (!Files.exists(f)) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.startsWith("topic_id:")) {
                    return line.substring("topic_id:".length()).trim();
                }
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot read " + f, e);
        }
        return null;
    }

    private void loadSegments(Checkpointed cp, boolean cleanShutdown) {
        long now = hooks.time().milliseconds();
        TreeMap<Long, Path> logFiles = new TreeMap<>();
        TreeMap<Long, Path> swapLogs = new TreeMap<>();
        long minCleanedBase = Long.MAX_VALUE;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                long base = baseOffsetOf(name);
                if (name.endsWith(LogSegment.DELETED_SUFFIX) || name.endsWith(".tmp")) {
                    Files.deleteIfExists(p); // leftovers of an interrupted delete or checkpoint
                } else if (name.endsWith(LogSegment.CLEANED_SUFFIX)) {
                    // an unfinished clean: its sources are intact, so the output goes
                    minCleanedBase = Math.min(minCleanedBase, base < 0 ? Long.MAX_VALUE : base);
                    Files.deleteIfExists(p);
                } else if (name.endsWith(LogSegment.LOG_SUFFIX + LogSegment.SWAP_SUFFIX) && base >= 0) {
                    swapLogs.put(base, p);
                } else if (name.endsWith(LogSegment.SWAP_SUFFIX)) {
                    Files.deleteIfExists(p); // index files of a swap are rebuilt from its log
                } else if (name.endsWith(LogSegment.LOG_SUFFIX) && base >= 0) {
                    logFiles.put(base, p);
                }
            }
            for (Map.Entry<Long, Path> swap : swapLogs.entrySet()) {
                if (swap.getKey() >= minCleanedBase) {
                    // Kafka's rule: a swap at or above an unfinished .cleaned belongs to an incomplete operation
                    Files.deleteIfExists(swap.getValue());
                } else {
                    completeSwap(swap.getKey(), swap.getValue(), logFiles, now);
                }
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot list " + dir, e);
        }
        long checkpointedStart = cp.logStartOffset() == null ? 0 : cp.logStartOffset();
        if (logFiles.isEmpty()) {
            LogSegment seg = LogSegment.create(dir, checkpointedStart, config, now);
            segments.put(seg.baseOffset, seg);
        } else {
            long last = logFiles.lastKey();
            for (long base : logFiles.keySet()) {
                segments.put(base, LogSegment.open(dir, base, config, base == last, now));
            }
        }
        long rp = cp.recoveryPoint() == null ? 0 : cp.recoveryPoint();
        Long recoverFrom = cleanShutdown ? null : segments.floorKey(rp);
        if (!cleanShutdown && recoverFrom == null) {
            recoverFrom = segments.firstKey();
        }
        boolean truncatedSomething = false;
        long txnIndexRebuildFrom = Long.MAX_VALUE;
        for (LogSegment seg : new ArrayList<>(segments.values())) {
            if (truncatedSomething) {
                // everything after a torn batch is unreliable
                segments.remove(seg.baseOffset);
                seg.deleteFiles();
                continue;
            }
            boolean mustRecover = recoverFrom != null && seg.baseOffset >= recoverFrom;
            if (!mustRecover && (!seg.indexFilesExisted() || !seg.indexesSane())) {
                log.info("{}: rebuilding indexes of segment {}", tp, seg.baseOffset);
                mustRecover = true;
            }
            if (mustRecover) {
                txnIndexRebuildFrom = Math.min(txnIndexRebuildFrom, seg.baseOffset);
                int truncated = seg.recover(config, b -> epochs.assign(b.partitionLeaderEpoch(), b.baseOffset(), false));
                if (truncated > 0) {
                    log.warn("{}: truncated {} invalid bytes from segment {}", tp, truncated, seg.baseOffset);
                    truncatedSomething = true;
                }
                if (seg != segments.lastEntry().getValue() || truncatedSomething) {
                    // index capacity is reset for the new active segment below; older ones are trimmed
                    seg.offsetIndex.trimToValidSize();
                    seg.timeIndex.trimToValidSize();
                }
            }
        }
        // a segment emptied by truncation that is not the first can go: the previous one ends the log
        while (segments.size() > 1 && segments.lastEntry().getValue().size() == 0) {
            LogSegment emptySeg = segments.pollLastEntry().getValue();
            emptySeg.deleteFiles();
        }
        LogSegment last = segments.lastEntry().getValue();
        last.offsetIndex.resize(config.maxIndexSizeBytes());
        last.timeIndex.resize(config.maxIndexSizeBytes());
        activeSegment = last;
        logEndOffset = last.readNextOffset(HEADER.get());
        logStartOffset = Math.min(Math.max(checkpointedStart, segments.firstKey()), logEndOffset);
        recoveryPoint = Math.min(rp, logEndOffset);
        long hw = cp.highWatermark() == null ? logStartOffset : cp.highWatermark();
        highWatermark = Math.max(logStartOffset, Math.min(hw, logEndOffset));
        epochs.truncateFromEnd(logEndOffset);
        epochs.truncateFromStart(logStartOffset);
        epochs.write();
        rebuildProducerState(txnIndexRebuildFrom);
    }

    /** Base offset from a segment file name ({@code %020d.<ext>[.suffix]}), or -1 for other files. */
    private static long baseOffsetOf(String name) {
        int dot = name.indexOf('.');
        if (dot != 20) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, dot));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Finishes a swap interrupted by a crash (Kafka's rule): the swap log replaces every segment whose base
     * offset lies within its offsets, then loses its suffix; its indexes are rebuilt as for a segment
     * without index files.
     */
    private void completeSwap(long base, Path swapLog, TreeMap<Long, Path> logFiles, long now) throws IOException {
        LogSegment swap = LogSegment.openWithSuffix(dir, base, config, now, LogSegment.SWAP_SUFFIX);
        long next;
        try {
            swap.recover(config, null);
            next = swap.readNextOffset(ByteBuffer.allocate(Batches.HEADER_SIZE));
        } finally {
            swap.close();
        }
        Files.deleteIfExists(swap.offsetIndex.path());
        Files.deleteIfExists(swap.timeIndex.path());
        for (Long covered : new ArrayList<>(logFiles.subMap(base, true, Math.max(next, base + 1), false).keySet())) {
            String prefix = FileUtil.filenamePrefix(covered);
            Files.deleteIfExists(dir.resolve(prefix + LogSegment.LOG_SUFFIX));
            Files.deleteIfExists(dir.resolve(prefix + LogSegment.INDEX_SUFFIX));
            Files.deleteIfExists(dir.resolve(prefix + LogSegment.TIME_INDEX_SUFFIX));
            Files.deleteIfExists(dir.resolve(prefix + TransactionIndex.SUFFIX));
            logFiles.remove(covered);
        }
        Path target = dir.resolve(FileUtil.filenamePrefix(base) + LogSegment.LOG_SUFFIX);
        Files.move(swapLog, target);
        FileUtil.fsyncDir(dir);
        logFiles.put(base, target);
        log.info("{}: completed the swap of cleaned segment {} found on load", tp, base);
    }

    /**
     * Latest snapshot at or below the log end, then every batch after it, header by header. Segments from
     * {@code txnIndexRebuildFrom} on had their transaction index reset (recovery, truncation): the replay
     * starts at or below them and indexes their aborted transactions again.
     */
    private void rebuildProducerState(long txnIndexRebuildFrom) {
        List<Long> snapshots = ProducerStateTable.listSnapshots(dir);
        long replayFrom = segments.firstKey();
        producers.clear();
        unreplicatedTxns.clear();
        for (int i = snapshots.size() - 1; i >= 0; i--) {
            long off = snapshots.get(i);
            Path file = ProducerStateTable.snapshotPath(dir, off);
            if (off > logEndOffset) {
                deleteQuietly(file); // the log was truncated below it
                continue;
            }
            if (off > txnIndexRebuildFrom) {
                continue; // valid, but the replay must cover the segments being re-indexed
            }
            if (producers.loadSnapshot(file)) {
                replayFrom = off;
                break;
            }
            deleteQuietly(file);
        }
        BatchHeaders b = new BatchHeaders(HEADER.get());
        for (LogSegment seg : segments.tailMap(segments.floorKey(Math.max(replayFrom, segments.firstKey())), true)
                .values()) {
            for (b.over(seg, seg.offsetIndex.lookupPosition(replayFrom), seg.size()); b.next(); ) {
                if (b.baseOffset() >= replayFrom) {
                    ProducerStateTable.CompletedTxn done = producers.onBatch(b);
                    if (done != null) {
                        onTxnCompleted(done, seg, seg.baseOffset >= txnIndexRebuildFrom);
                    }
                }
            }
        }
        firstOngoingTxnOffset = producers.firstOngoingTxnOffset();
    }

    /**
     * A marker ended a transaction: an abort goes into the transaction index of the marker's segment (with
     * the LSO it leaves, Kafka's lastStableOffset(completedTxn)), and the transaction keeps holding the LSO
     * back until the high watermark passes its marker. Caller holds appendLock (or is loading).
     */
    private void onTxnCompleted(ProducerStateTable.CompletedTxn done, LogSegment seg, boolean index) {
        if (done.aborted() && index) {
            long nextOpen = producers.firstOngoingTxnOffset();
            seg.txnIndex.append(new AbortedTxn(done.producerId(), done.firstOffset(), done.lastOffset(),
                    nextOpen >= 0 ? nextOpen : done.lastOffset() + 1));
        }
        if (done.lastOffset() >= highWatermark) {
            unreplicatedTxns.put(done.firstOffset(), done.lastOffset());
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover file is harmless
        }
    }

    // ------------------------------------------------------------------ PartitionLog

    @Override
    public TopicPartition topicPartition() {
        return tp;
    }

    @Override
    public String topicId() {
        return topicId;
    }

    void assignTopicId(String id) {
        if (id != null && !id.equals(topicId)) {
            writePartitionMetadata(dir, id);
            topicId = id;
        }
    }

    @Override
    public LogConfig config() {
        return config;
    }

    @Override
    public void updateConfig(LogConfig config) {
        this.config = config;
        LogSegment act = activeSegment;
        act.indexIntervalBytes(config.indexIntervalBytes());
    }

    Path dir() {
        return dir;
    }

    @Override
    public AppendResult append(ByteBuffer records, int leaderEpoch, long nowMs) {
        return appendAsLeader(records, leaderEpoch, nowMs, BatchValidator.Origin.CLIENT, 0, null);
    }

    @Override
    public AppendResult append(ByteBuffer records, int leaderEpoch, long nowMs, VerificationGuard guard) {
        return appendAsLeader(records, leaderEpoch, nowMs, BatchValidator.Origin.CLIENT, 0, guard);
    }

    @Override
    public VerificationGuard verificationGuard(long producerId, int baseSequence, short producerEpoch) {
        appendLock.lock();
        try {
            return producers.verificationGuard(producerId, hooks.time().milliseconds());
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public AppendResult appendFromCoordinator(ByteBuffer records, int leaderEpoch, long nowMs) {
        return appendAsLeader(records, leaderEpoch, nowMs, BatchValidator.Origin.COORDINATOR, 0, null);
    }

    @Override
    public AppendResult appendFromCoordinator(ByteBuffer records, int leaderEpoch, long nowMs,
                                              VerificationGuard guard) {
        return appendAsLeader(records, leaderEpoch, nowMs, BatchValidator.Origin.COORDINATOR, 0, guard);
    }

    /**
     * {@code transactionVersion} only matters for markers (their epoch rule); {@code guard}, when not null, puts
     * a client's transactional batches under transaction verification.
     */
    private AppendResult appendAsLeader(ByteBuffer records, int leaderEpoch, long nowMs,
                                        BatchValidator.Origin origin, int transactionVersion, VerificationGuard guard) {
        ByteBuffer buf = writableView(records);
        final int start = buf.position();
        final int end = buf.limit();
        final LogConfig c = config;
        appendLock.lock();
        try {
            ensureOpen();
            if (end == start) {
                return new AppendResult(-1, -1, -1, logStartOffset, false);
            }
            // pass 1: validate everything before any byte is written
            producers.beginValidation();
            long nextOffset = logEndOffset;
            long maxTimestamp = -1;
            BatchHeaders b = appendHeaders.over(buf, start, end);
            long verifiedProducer = -1; // its first batch here passed: the rest of this append joins its transaction
            int batches = 0;
            while (b.next()) {
                long recordsMax = validator.validateLeaderBatch(b, c, nextOffset, origin, nowMs);
                if (batches == batchMaxTimestamps.length) {
                    batchMaxTimestamps = java.util.Arrays.copyOf(batchMaxTimestamps, batches * 2);
                }
                batchMaxTimestamps[batches++] = recordsMax;
                maxTimestamp = Math.max(maxTimestamp, c.logAppendTime() ? nowMs : recordsMax);
                if (b.producerId() >= 0) {
                    int dupSlot = validator.validateProducer(b, producers, transactionVersion, origin);
                    if (dupSlot >= 0) {
                        ProducerStateTable.Entry e = producers.get(b.producerId());
                        long last = e.lastOffset[dupSlot];
                        return new AppendResult(last - e.offsetDelta[dupSlot], last,
                                c.logAppendTime() ? e.timestamp[dupSlot] : -1, logStartOffset, true);
                    }
                    if (guard != null && b.isTransactional() && !b.isControl() && b.producerId() != verifiedProducer) {
                        producers.checkVerified(b.producerId(), b.producerEpoch(), guard);
                        verifiedProducer = b.producerId();
                    }
                }
                nextOffset += b.lastOffsetDelta() + 1L;
            }
            int appendSize = end - start;
            if (appendSize > c.segmentBytes()) {
                throw new RecordTooLargeException("Append of " + appendSize + " bytes exceeds segment.bytes "
                        + c.segmentBytes());
            }
            final long firstOffset = logEndOffset;
            final long lastOffset = nextOffset - 1;

            // pass 2: assign offsets (outside the CRC) and set the header's timestamp type and max timestamp as
            // Kafka's validator does (LogAppendTime: now; CreateTime: the records' max), re-CRC only on a change
            long offset = firstOffset;
            int batch = 0;
            for (b.over(buf, start, end); b.next(); batch++) {
                int pos = b.position();
                buf.putLong(pos + Batches.BASE_OFFSET, offset);
                buf.putInt(pos + Batches.PARTITION_LEADER_EPOCH, leaderEpoch);
                short attributes = b.attributes();
                short newAttributes = (short) (c.logAppendTime() ? attributes | Batches.TIMESTAMP_TYPE_MASK
                        : attributes & ~Batches.TIMESTAMP_TYPE_MASK);
                long newMaxTimestamp = c.logAppendTime() ? nowMs : batchMaxTimestamps[batch];
                if (newAttributes != attributes || newMaxTimestamp != b.maxTimestamp()) {
                    buf.putShort(pos + Batches.ATTRIBUTES, newAttributes);
                    buf.putLong(pos + Batches.MAX_TIMESTAMP, newMaxTimestamp);
                    buf.putInt(pos + Batches.CRC, validator.crcOf(buf, pos, b.end()));
                }
                offset += b.lastOffsetDelta() + 1L;
            }

            // one write, then indexes, producer state and epoch; size and end offset are published last
            writeBatches(c, buf, start, end, maxTimestamp, lastOffset, nowMs, false);
            epochs.assign(leaderEpoch, firstOffset, true);
            logEndOffset = nextOffset;
            AppendResult result = new AppendResult(firstOffset, lastOffset, c.logAppendTime() ? nowMs : -1,
                    logStartOffset, false);
            flushIfDue(c);
            return result;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public long appendAsFollower(ByteBuffer records) {
        ByteBuffer buf = writableView(records);
        final int end = buf.limit();
        final LogConfig c = config;
        appendLock.lock();
        try {
            ensureOpen();
            // skip batches already held (a retried fetch), then check the rest before writing any
            int start = buf.position();
            long expectedAtLeast = logEndOffset;
            long lastOffset = -1;
            long maxTimestamp = -1;
            BatchHeaders b = appendHeaders.over(buf, start, end);
            while (b.next()) {
                if (!b.headerFits()) {
                    break; // a fetch response may end with a partial batch: it is sent again on the next fetch
                }
                if (b.batchLength() < Batches.MIN_BATCH_LENGTH) {
                    throw new CorruptRecordException("Record batch size " + b.batchLength() + " is invalid");
                }
                if (!b.batchFits()) {
                    break;
                }
                long base = b.baseOffset();
                long last = b.lastOffset();
                if (last < expectedAtLeast && lastOffset < 0) {
                    start = b.end(); // already held (a retried fetch)
                    continue;
                }
                if (base < expectedAtLeast) {
                    throw new CorruptRecordException("Replicated batch at " + base + " overlaps the log end "
                            + expectedAtLeast + " of " + tp);
                }
                validator.validateReplicatedBatch(b);
                maxTimestamp = Math.max(maxTimestamp, b.maxTimestamp());
                lastOffset = last;
                expectedAtLeast = last + 1;
            }
            int pos = lastOffset < 0 ? start : b.endOfPrevious();
            final int stop = pos;
            if (stop == start) {
                return logEndOffset;
            }
            writeBatches(c, buf, start, stop, maxTimestamp, lastOffset, hooks.time().milliseconds(), true);
            logEndOffset = lastOffset + 1;
            flushIfDue(c);
            return logEndOffset;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public void truncateTo(long offset) {
        if (offset < activeSegment.baseOffset) {
            hooks.truncateBelowActiveSegment(this, () -> truncateToLocked(offset));
        } else {
            truncateToLocked(offset);
        }
    }

    private void truncateToLocked(long offset) {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            if (offset >= logEndOffset) {
                // Nothing to cut from the log, but an epoch this replica started as leader without writing
                // (start offset = log end) conflicts with the new leader's history: drop it, as Kafka does,
                // or the follower keeps naming it and keeps being told to truncate.
                epochs.truncateFromEnd(logEndOffset);
                return;
            }
            Long floor = segments.floorKey(offset);
            if (floor == null) {
                floor = segments.firstKey();
            }
            LogSegment keep = segments.get(floor);
            List<LogSegment> dropped = new ArrayList<>(segments.tailMap(floor, false).values());
            for (LogSegment seg : dropped) {
                segments.remove(seg.baseOffset);
                seg.renameToDeleted();
            }
            ByteBuffer hdr = HEADER.get();
            int cut = keep.translateOffset(offset, keep.size(), hdr);
            if (cut >= 0) {
                keep.truncateToPosition(config, cut);
            } else if (!dropped.isEmpty()) {
                keep.truncateToPosition(config, keep.size()); // re-activates its indexes
            }
            activeSegment = keep;
            long newEnd = keep.readNextOffset(hdr);
            logEndOffset = newEnd;
            if (logStartOffset > newEnd) {
                logStartOffset = newEnd;
            }
            highWatermark = Math.min(highWatermark, newEnd);
            synchronized (flushLock) {
                recoveryPoint = Math.min(recoveryPoint, newEnd);
            }
            epochs.truncateFromEnd(newEnd);
            rebuildProducerState(keep.baseOffset); // the kept segment's indexes were rebuilt from its log
            if (!dropped.isEmpty()) {
                hooks.scheduler().schedule(() -> dropped.forEach(LogSegment::deleteFiles),
                        Math.max(0, config.fileDeleteDelayMs()), TimeUnit.MILLISECONDS);
            }
            log.info("{}: truncated to offset {} (log end offset now {})", tp, offset, newEnd);
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public void truncateFullyAndStartAt(long offset) {
        hooks.truncateBelowActiveSegment(this, () -> truncateFullyLocked(offset));
    }

    private void truncateFullyLocked(long offset) {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            List<LogSegment> dropped = new ArrayList<>(segments.values());
            // old segments first: a crash before the new one exists reloads an empty log at the checkpointed
            // start, and the follower is told out of range again and repeats this
            segmentsVersion++;
            try {
                segments.clear();
                for (LogSegment seg : dropped) {
                    seg.renameToDeleted();
                }
                LogSegment fresh = LogSegment.create(dir, offset, config, hooks.time().milliseconds());
                segments.put(offset, fresh);
                activeSegment = fresh;
                logEndOffset = offset;
                logStartOffset = offset;
                highWatermark = offset;
            } finally {
                segmentsVersion++;
            }
            synchronized (flushLock) {
                recoveryPoint = offset; // nothing below it is left to recover
            }
            epochs.clear();
            for (long snap : ProducerStateTable.listSnapshots(dir)) {
                deleteQuietly(ProducerStateTable.snapshotPath(dir, snap));
            }
            producers.clear();
            unreplicatedTxns.clear();
            firstOngoingTxnOffset = -1;
            FileUtil.fsyncDir(dir);
            hooks.logStartOffsetChanged(this);
            hooks.scheduler().schedule(() -> {
                for (LogSegment seg : dropped) {
                    try {
                        seg.deleteFiles();
                    } catch (RuntimeException e) {
                        log.warn("{}: could not delete {}", tp, seg, e);
                    }
                }
            }, Math.max(0, config.fileDeleteDelayMs()), TimeUnit.MILLISECONDS);
            log.info("{}: truncated fully; log restarts empty at offset {}", tp, offset);
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public void assignEpochStartOffset(int epoch) {
        appendLock.lock();
        try {
            epochs.assign(epoch, logEndOffset, true);
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        return epochs.endOffsetFor(epoch, logEndOffset);
    }

    /** The records as a big-endian view this log may write offsets into; a read-only buffer is copied. */
    private static ByteBuffer writableView(ByteBuffer records) {
        if (records.isReadOnly()) {
            ByteBuffer copy = ByteBuffer.allocate(records.remaining());
            copy.put(records.duplicate()).flip();
            return copy;
        }
        return records.duplicate().order(ByteOrder.BIG_ENDIAN);
    }

    /** Caller holds appendLock. */
    private void ensureOpen() {
        if (closed) {
            throw new KafkaStorageException("Log " + tp + " is closed or deleted");
        }
    }

    /**
     * Writes the validated batches in buf[start, stop), which carry their final offsets, at the end of the
     * active segment (rolling first when due), then indexes them and updates producer state; the segment's
     * size is published last so readers never see a partial append. A follower's batches also carry their
     * leader epochs ({@code assignBatchEpochs}). Caller holds appendLock.
     */
    private void writeBatches(LogConfig c, ByteBuffer buf, int start, int stop, long maxTimestamp, long lastOffset,
                              long nowMs, boolean assignBatchEpochs) {
        int appendSize = stop - start;
        LogSegment seg = maybeRoll(c, appendSize, maxTimestamp, lastOffset, nowMs);
        buf.position(start).limit(stop);
        int segStart = seg.writeAtEnd(buf);
        for (BatchHeaders b = appendHeaders.over(buf, start, stop); b.next(); ) {
            long base = b.baseOffset();
            seg.onBatchWritten(b.lastOffset(), b.maxTimestamp(), segStart + (b.position() - start), b.sizeInBytes());
            ProducerStateTable.CompletedTxn done = producers.onBatch(b);
            if (done != null) {
                onTxnCompleted(done, seg, true);
            }
            if (assignBatchEpochs) {
                epochs.assign(b.partitionLeaderEpoch(), base, true);
            }
        }
        firstOngoingTxnOffset = producers.firstOngoingTxnOffset();
        seg.publishSize(segStart + appendSize);
    }

    /** Caller holds appendLock and has just moved logEndOffset. */
    private void flushIfDue(LogConfig c) {
        if (logEndOffset - recoveryPoint >= c.flushIntervalMessages()) {
            flush();
        }
    }

    /** Rolls when the active segment would overflow, is old enough, has full indexes or offsets would not fit. */
    private LogSegment maybeRoll(LogConfig c, int appendSize, long maxTimestamp, long lastOffset, long nowMs) {
        LogSegment seg = activeSegment;
        if (seg.size() == 0) {
            return seg;
        }
        boolean full = seg.size() > c.segmentBytes() - appendSize;
        boolean old = seg.timeWaitedForRoll(nowMs, maxTimestamp) > c.segmentMs();
        boolean offsetsOverflow = lastOffset - seg.baseOffset > Integer.MAX_VALUE;
        if (full || old || seg.indexesFull() || offsetsOverflow) {
            return roll(nowMs);
        }
        return seg;
    }

    /** Starts a new active segment at the log end offset. Caller holds appendLock. */
    private LogSegment roll(long nowMs) {
        LogSegment old = activeSegment;
        long newBase = logEndOffset;
        if (old.baseOffset == newBase && old.size() == 0) {
            return old;
        }
        old.onBecomeInactive();
        LogSegment seg = LogSegment.create(dir, newBase, config, nowMs);
        segments.put(newBase, seg);
        activeSegment = seg;
        producers.writeSnapshot(dir, newBase);
        // the rolled segment is fsynced in the background, as Kafka does
        hooks.scheduler().execute(() -> {
            try {
                flushUpTo(newBase);
            } catch (RuntimeException e) {
                log.error("{}: background flush failed", tp, e);
            }
        });
        log.debug("{}: rolled to segment {}", tp, newBase);
        return seg;
    }

    void roll() {
        appendLock.lock();
        try {
            roll(hooks.time().milliseconds());
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public ReadResult read(long fetchOffset, int maxBytes, long maxOffset, boolean minOneBatch) {
        long leo = logEndOffset;
        long start = logStartOffset;
        long hw = highWatermark;
        if (fetchOffset < start || fetchOffset > leo) {
            throw new OffsetOutOfRangeException("Offset " + fetchOffset + " is out of range for " + tp
                    + ": log start " + start + ", log end " + leo);
        }
        FileSlice slice = FileSlice.EMPTY;
        // Never past the log end read above: a segment's size is published before the log end offset,
        // so its tail may hold a batch that readers must not see yet.
        maxOffset = Math.min(maxOffset, leo);
        if (fetchOffset < maxOffset) {
            ByteBuffer hdr = HEADER.get();
            while (true) {
                int version = segmentsVersion;
                if ((version & 1) != 0) {
                    Thread.onSpinWait(); // the cleaner is swapping segments: a few map operations
                    continue;
                }
                slice = readSegments(fetchOffset, maxBytes, maxOffset, minOneBatch, hdr);
                if (segmentsVersion == version) {
                    break;
                }
                // a walk across a swap could skip the cleaned data that replaced a later segment: walk again
            }
        }
        return new ReadResult(slice, hw, start, leo);
    }

    private FileSlice readSegments(long fetchOffset, int maxBytes, long maxOffset, boolean minOneBatch,
                                   ByteBuffer hdr) {
        Long key = segments.floorKey(fetchOffset);
        while (key != null) {
            LogSegment seg = segments.get(key);
            Long next = segments.higherKey(key);
            // a segment that ends before maxOffset is read to its end without looking maxOffset up
            long segmentMax = next != null && next <= maxOffset ? Long.MAX_VALUE : maxOffset;
            FileSlice s = seg == null ? null : seg.read(fetchOffset, maxBytes, segmentMax, minOneBatch, hdr);
            if (s != null) {
                return s;
            }
            key = next;
        }
        return FileSlice.EMPTY;
    }

    @Override
    public long logStartOffset() {
        return logStartOffset;
    }

    @Override
    public long logEndOffset() {
        return logEndOffset;
    }

    @Override
    public long highWatermark() {
        return highWatermark;
    }

    @Override
    public void updateHighWatermark(long offset) {
        long hw = Math.max(logStartOffset, Math.min(offset, logEndOffset));
        highWatermark = hw;
        if (!unreplicatedTxns.isEmpty()) {
            unreplicatedTxns.values().removeIf(markerOffset -> markerOffset < hw);
        }
    }

    @Override
    public long lastStableOffset() {
        long hw = highWatermark;
        long firstUnstable = firstOngoingTxnOffset;
        for (Map.Entry<Long, Long> txn : unreplicatedTxns.entrySet()) {
            if (txn.getValue() >= hw) {
                // ordered by first offset: the first one whose marker is not replicated is the earliest
                firstUnstable = firstUnstable < 0 ? txn.getKey() : Math.min(firstUnstable, txn.getKey());
                break;
            }
        }
        // a transaction whose start DeleteRecords or retention removed holds the LSO at the log start
        return firstUnstable >= 0 && firstUnstable < hw ? Math.max(firstUnstable, logStartOffset) : hw;
    }

    @Override
    public List<AbortedTxn> abortedTransactions(long fetchOffset, long upperBoundOffset) {
        List<AbortedTxn> result = new ArrayList<>();
        Long key = segments.floorKey(fetchOffset);
        if (key == null) {
            key = segments.firstKey();
        }
        for (LogSegment seg : segments.tailMap(key, true).values()) {
            if (seg.txnIndex.collect(fetchOffset, upperBoundOffset, result)) {
                break;
            }
        }
        return result;
    }

    @Override
    public AppendResult appendTxnMarker(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                                        int transactionVersion, int leaderEpoch, long nowMs) {
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(0L, nowMs, leaderEpoch, producerId, producerEpoch,
                new EndTransactionMarker(commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
                        coordinatorEpoch)).buffer();
        return appendAsLeader(marker, leaderEpoch, nowMs, BatchValidator.Origin.COORDINATOR, transactionVersion, null);
    }

    /** producer.id.expiration.ms: drops idle producers without an open transaction; returns how many. */
    int removeExpiredProducers(long nowMs, long expirationMs) {
        appendLock.lock();
        try {
            int removed = closed ? 0 : producers.removeExpired(nowMs, expirationMs);
            if (removed > 0) {
                log.debug("{}: {} idle producer id(s) expired", tp, removed);
            }
            return removed;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public boolean hasOngoingTransaction(long producerId, short producerEpoch) {
        appendLock.lock();
        try {
            ProducerStateTable.Entry e = producers.get(producerId);
            return e != null && e.epoch == producerEpoch && e.currentTxnFirstOffset >= 0;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public List<ProducerDescription> activeProducers() {
        appendLock.lock();
        try {
            List<ProducerDescription> result = new ArrayList<>(producers.size());
            producers.entries().forEach((pid, e) -> {
                boolean has = e.count > 0;
                int slot = has ? e.newest() : 0;
                result.add(new ProducerDescription(pid, e.epoch, has ? e.lastSeq[slot] : -1, e.lastTimestamp,
                        e.coordinatorEpoch, e.currentTxnFirstOffset));
            });
            return result;
        } finally {
            appendLock.unlock();
        }
    }

    long recoveryPoint() {
        return recoveryPoint;
    }

    @Override
    public Optional<TimestampOffset> offsetForTimestamp(long targetTimestamp) {
        long start = logStartOffset;
        for (LogSegment seg : segments.values()) {
            if (seg.maxTimestampSoFar() >= targetTimestamp) {
                Optional<TimestampOffset> found = findByTimestamp(seg, targetTimestamp, start);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public Optional<TimestampOffset> maxTimestamp() {
        LogSegment best = null;
        for (LogSegment seg : segments.values()) {
            if (seg.size() > 0 && (best == null || seg.maxTimestampSoFar() > best.maxTimestampSoFar())) {
                best = seg;
            }
        }
        if (best == null || best.maxTimestampSoFar() < 0) {
            return Optional.empty();
        }
        return findByTimestamp(best, best.maxTimestampSoFar(), logStartOffset);
    }

    /** Slow path: time index to a start position, then batch headers, then the records of one batch. */
    private Optional<TimestampOffset> findByTimestamp(LogSegment seg, long target, long startingOffset) {
        long fromOffset = Math.max(seg.timeIndex.lookupOffset(target), startingOffset);
        BatchHeaders b = new BatchHeaders(ByteBuffer.allocate(Batches.HEADER_SIZE));
        for (b.over(seg, seg.offsetIndex.lookupPosition(fromOffset), seg.size()); b.next(); ) {
            if (b.maxTimestamp() >= target && b.lastOffset() >= startingOffset) {
                ByteBuffer batchBytes = ByteBuffer.allocate(b.sizeInBytes());
                try {
                    if (!FileUtil.readFully(seg.channel, batchBytes, b.position())) {
                        return Optional.empty();
                    }
                } catch (IOException e) {
                    throw new KafkaStorageException("Read of " + seg.logPath() + " failed", e);
                }
                batchBytes.flip();
                for (RecordBatch batch : MemoryRecords.readableRecords(batchBytes).batches()) {
                    for (Record r : batch) {
                        if (r.timestamp() >= target && r.offset() >= startingOffset) {
                            return Optional.of(new TimestampOffset(r.timestamp(), r.offset(),
                                    batch.partitionLeaderEpoch()));
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public int latestEpoch() {
        return epochs.latestEpoch();
    }

    List<LeaderEpochCache.EpochEntry> epochEntries() {
        return epochs.entries();
    }

    @Override
    public long deleteRecordsBefore(long offset) {
        appendLock.lock();
        try {
            if (offset > highWatermark) {
                throw new OffsetOutOfRangeException("Cannot delete records before " + offset + " of " + tp
                        + ": beyond the high watermark " + highWatermark);
            }
            if (offset > logStartOffset) {
                logStartOffset = offset;
                epochs.truncateFromStart(offset);
                deleteSegments(deletable((seg, next) -> next != null && next.baseOffset <= logStartOffset), false);
                hooks.logStartOffsetChanged(this);
            }
            return logStartOffset;
        } finally {
            appendLock.unlock();
        }
    }

    /** Retention: segments below the log start, then (delete policy) by size and by age. Returns deletions. */
    int deleteOldSegments(long nowMs) {
        appendLock.lock();
        try {
            if (closed) {
                return 0;
            }
            int deleted = deleteSegments(deletable((seg, next) -> next != null
                    && next.baseOffset <= logStartOffset), false);
            LogConfig c = config;
            if (c.delete()) {
                if (c.retentionBytes() >= 0) {
                    long[] diff = {sizeInBytes() - c.retentionBytes()};
                    deleted += deleteSegments(deletable((seg, next) -> {
                        if (diff[0] - seg.size() >= 0) {
                            diff[0] -= seg.size();
                            return true;
                        }
                        return false;
                    }), true);
                }
                if (c.retentionMs() >= 0) {
                    deleted += deleteSegments(deletable((seg, next) ->
                            nowMs - seg.largestTimestamp() > c.retentionMs()), true);
                }
            }
            if (deleted > 0) {
                hooks.logStartOffsetChanged(this);
            }
            return deleted;
        } finally {
            appendLock.unlock();
        }
    }

    private interface SegmentPredicate {
        boolean test(LogSegment segment, LogSegment next);
    }

    /** Oldest segments matching the predicate, never past the high watermark, never an empty active one. */
    private List<LogSegment> deletable(SegmentPredicate predicate) {
        List<LogSegment> result = new ArrayList<>();
        List<LogSegment> all = new ArrayList<>(segments.values());
        for (int i = 0; i < all.size(); i++) {
            LogSegment seg = all.get(i);
            LogSegment next = i + 1 < all.size() ? all.get(i + 1) : null;
            long upperBound = next != null ? next.baseOffset : logEndOffset;
            if (upperBound > highWatermark || !predicate.test(seg, next)) {
                break;
            }
            if (next == null && seg.size() == 0) {
                break;
            }
            result.add(seg);
        }
        return result;
    }

    /** Removes segments (rolling first if the active one goes too); files go after file.delete.delay.ms. */
    private int deleteSegments(List<LogSegment> toDelete, boolean moveLogStart) {
        if (toDelete.isEmpty()) {
            return 0;
        }
        if (toDelete.get(toDelete.size() - 1) == activeSegment) {
            roll(hooks.time().milliseconds());
        }
        for (LogSegment seg : toDelete) {
            segments.remove(seg.baseOffset);
        }
        long newStart = Math.max(logStartOffset, segments.firstKey());
        if (moveLogStart || newStart > logStartOffset) {
            logStartOffset = newStart;
            epochs.truncateFromStart(newStart);
        }
        if (highWatermark < logStartOffset) {
            highWatermark = logStartOffset;
        }
        for (LogSegment seg : toDelete) {
            seg.renameToDeleted();
        }
        for (long snap : ProducerStateTable.listSnapshots(dir)) {
            if (snap < segments.firstKey()) {
                deleteQuietly(ProducerStateTable.snapshotPath(dir, snap));
            }
        }
        long delay = config.fileDeleteDelayMs();
        hooks.scheduler().schedule(() -> {
            for (LogSegment seg : toDelete) {
                try {
                    seg.deleteFiles();
                } catch (RuntimeException e) {
                    log.warn("{}: could not delete {}", tp, seg, e);
                }
            }
        }, Math.max(0, delay), TimeUnit.MILLISECONDS);
        log.info("{}: deleted {} segment(s); log start offset {}", tp, toDelete.size(), logStartOffset);
        return toDelete.size();
    }

    @Override
    public long sizeInBytes() {
        long total = 0;
        for (LogSegment seg : segments.values()) {
            total += seg.size();
        }
        return total;
    }

    int segmentCount() {
        return segments.size();
    }

    // ------------------------------------------------------------------ log cleaner support

    /** All segments, oldest first (the last one is the active segment). */
    List<LogSegment> segmentList() {
        return new ArrayList<>(segments.values());
    }

    long activeSegmentBaseOffset() {
        return activeSegment.baseOffset;
    }

    boolean isClosed() {
        return closed;
    }

    /** Per producer id, what compaction keeps of it (its last data batch or marker), if only as a header. */
    Map<Long, ProducerStateTable.LastRecord> lastRecordsOfProducers() {
        appendLock.lock();
        try {
            return producers.lastRecords();
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Replaces {@code old} (consecutive, inactive segments) by {@code cleaned}, whose files end in ".cleaned"
     * and whose base offset is the first old segment's: .cleaned becomes .swap, the map switches, the old
     * files become .deleted (their channels stay open for in-flight reads until file.delete.delay.ms), then
     * the swap loses its suffix. False, changing nothing, when retention or a delete got there first.
     */
    boolean replaceSegments(List<LogSegment> old, LogSegment cleaned) {
        appendLock.lock();
        try {
            if (closed || old.isEmpty() || old.get(old.size() - 1) == activeSegment) {
                return false;
            }
            for (LogSegment seg : old) {
                if (segments.get(seg.baseOffset) != seg) {
                    return false;
                }
            }
            hooks.swapReached("cleaned");
            cleaned.changeFileSuffixes(LogSegment.CLEANED_SUFFIX, LogSegment.SWAP_SUFFIX);
            FileUtil.fsyncDir(dir);
            hooks.swapReached("swap");
            segmentsVersion++;
            try {
                segments.put(cleaned.baseOffset, cleaned);
                for (LogSegment seg : old) {
                    if (seg.baseOffset != cleaned.baseOffset) {
                        segments.remove(seg.baseOffset);
                    }
                }
            } finally {
                segmentsVersion++;
            }
            for (LogSegment seg : old) {
                seg.renameToDeleted();
            }
            hooks.swapReached("deleted");
            cleaned.changeFileSuffixes(LogSegment.SWAP_SUFFIX, "");
            FileUtil.fsyncDir(dir);
            hooks.scheduler().schedule(() -> {
                for (LogSegment seg : old) {
                    try {
                        seg.deleteFiles();
                    } catch (RuntimeException e) {
                        log.warn("{}: could not delete {}", tp, seg, e);
                    }
                }
            }, Math.max(0, config.fileDeleteDelayMs()), TimeUnit.MILLISECONDS);
            return true;
        } finally {
            appendLock.unlock();
        }
    }

    List<Long> segmentBaseOffsets() {
        return new ArrayList<>(segments.keySet());
    }

    @Override
    public void flush() {
        flushUpTo(logEndOffset);
    }

    /** fsyncs segments holding offsets below upTo and moves the recovery point there. */
    void flushUpTo(long upTo) {
        synchronized (flushLock) {
            if (upTo <= recoveryPoint) {
                return;
            }
            Long from = segments.floorKey(recoveryPoint);
            Map<Long, LogSegment> range = from == null ? segments : segments.tailMap(from, true);
            for (LogSegment seg : range.values()) {
                if (seg.baseOffset >= upTo) {
                    break;
                }
                seg.flush();
            }
            recoveryPoint = Math.max(recoveryPoint, upTo);
            lastFlushMs = hooks.time().milliseconds();
        }
    }

    /** Flush by flush.ms, called by the manager's flush scheduler. */
    void maybeFlushByTime(long nowMs) {
        if (nowMs - lastFlushMs >= config.flushIntervalMs() && logEndOffset > recoveryPoint) {
            flush();
        }
    }

    /** Clean close: flush, final time index entry, trimmed indexes, producer snapshot, files closed. */
    void close() {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            flush();
            LogSegment act = activeSegment;
            act.onBecomeInactive();
            act.flush();
            producers.writeSnapshot(dir, logEndOffset);
            closed = true;
            for (LogSegment seg : segments.values()) {
                seg.close();
            }
        } finally {
            appendLock.unlock();
        }
    }

    /** Stops appends and closes files without flushing (the log dir is being deleted). */
    void closeForDelete() {
        appendLock.lock();
        try {
            closed = true;
        } finally {
            appendLock.unlock();
        }
    }

    void closeFilesQuietly() {
        for (LogSegment seg : segments.values()) {
            seg.close();
        }
    }

    void renamedTo(Path newDir) {
        this.dir = newDir;
    }

    @Override
    public String toString() {
        return "FileLog(" + tp + ", " + dir + ")";
    }
}
