package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

/**
 * One cleaner thread's worker: compacts one log per call with Kafka's semantics. It maps each key of the
 * dirty section to its latest offset, then rewrites every inactive segment below the end of that section,
 * group by group (each group's output within segment.bytes), keeping per key only the latest record.
 * Offsets are never rewritten; batches keep base offset, last offset delta and producer metadata; the last
 * batch of each producer survives (as a bare header if emptied) so sequence state does too; records of aborted
 * transactions are removed, and transaction markers once their transactions have no batch left and their delete
 * horizon passed (see {@link CleanedTransactions}); nothing at or past the last stable offset is
 * cleaned; a tombstone survives until the delete horizon (KIP-534) set when its batch is first cleaned
 * has passed. Uncompressed batches are filtered in place without per-record objects; compressed ones go
 * through kafka-clients' {@link MemoryRecords#filterTo}.
 */
final class SegmentCleaner {
    private static final Logger log = LoggerFactory.getLogger(SegmentCleaner.class);

    /** Thrown when the cleaner stops mid-pass (shutdown); the half-written output is discarded. */
    static final class AbortedException extends RuntimeException {
        AbortedException() {
            super("log cleaner is stopping", null, false, false);
        }
    }

    /** Statistics of one pass, for logging and tests. */
    record Result(long newFirstDirtyOffset, int groupsSwapped, long bytesRead, long bytesWritten) {
    }

    private interface BatchHandler {
        /** Handles the batch at buf[start, end); false stops the scan. */
        boolean handle(ByteBuffer buf, int start, int end);
    }

    private final CleanerOffsetMap map;
    private final BooleanSupplier stopping;
    private final CRC32C crc = new CRC32C();
    private final BufferSupplier decompression = BufferSupplier.create();
    private ByteBuffer readBuf;
    // two cursors: a scan's handler may flush the write buffer mid-walk
    private final BatchHeaders scannedHeaders = new BatchHeaders();
    private final BatchHeaders writtenHeaders = new BatchHeaders();
    private ByteBuffer writeBuf;
    private ByteBuffer scratch;
    private ByteBuffer filterOut;
    private int cursor; // position after the last varint read

    // state of the pass in progress
    private long mapEnd;
    private long nowMs;
    private long deleteRetentionMs;
    private Map<Long, ProducerStateTable.LastRecord> lastRecords;
    /** Aborted transactions of the pass's range by producer id: their keys never enter the offset map. */
    private final Map<Long, List<AbortedTxn>> abortedByProducer = new java.util.HashMap<>();
    /** The transactions of the rewrite, carried across its segment groups as Kafka does. */
    private final CleanedTransactions txns = new CleanedTransactions();
    private long bytesRead;
    private long bytesWritten;

    SegmentCleaner(long dedupeBufferBytes, int ioBufferBytes, BooleanSupplier stopping) {
        this.map = new CleanerOffsetMap(dedupeBufferBytes);
        this.stopping = stopping;
        int half = Math.max(Batches.HEADER_SIZE * 2, ioBufferBytes / 2); // Kafka splits it between read and write
        this.readBuf = ByteBuffer.allocate(half);
        this.writeBuf = ByteBuffer.allocate(half);
        this.scratch = ByteBuffer.allocate(1024);
        this.filterOut = ByteBuffer.allocate(1024);
    }

    /**
     * Cleans {@code log} from its start up to the dirty section [firstDirty, firstUncleanable) as far as the
     * offset map reaches. Returns the new first dirty offset, or {@code firstDirty} when nothing was done or
     * a concurrent retention/delete made the pass give up (it is then simply retried later).
     */
    Result clean(FileLog fileLog, long firstDirty, long firstUncleanable, long now) throws IOException {
        LogConfig config = fileLog.config();
        List<LogSegment> all = fileLog.segmentList();
        long activeBase = fileLog.activeSegmentBaseOffset();
        List<LogSegment> inactive = new ArrayList<>();
        List<Long> nextBases = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            LogSegment seg = all.get(i);
            if (seg.baseOffset >= activeBase) {
                break;
            }
            inactive.add(seg);
            nextBases.add(i + 1 < all.size() ? all.get(i + 1).baseOffset : activeBase);
        }
        bytesRead = 0;
        bytesWritten = 0;
        map.reset(Math.min(firstUncleanable - firstDirty, map.maxCapacity()));
        abortedByProducer.clear();
        List<AbortedTxn> aborted = fileLog.abortedTransactions(fileLog.logStartOffset(), firstUncleanable);
        for (AbortedTxn txn : aborted) {
            abortedByProducer.computeIfAbsent(txn.producerId(), k -> new ArrayList<>()).add(txn);
        }
        long end = buildOffsetMap(inactive, nextBases, firstDirty, Math.min(firstUncleanable, activeBase));
        if (end <= firstDirty) {
            if (map.size() == 0 && firstUncleanable > firstDirty) {
                log.warn("{}: the dedupe buffer cannot hold one batch at offset {}; raise "
                        + "log.cleaner.dedupe.buffer.size", fileLog.topicPartition(), firstDirty);
            }
            return new Result(firstDirty, 0, bytesRead, 0);
        }
        mapEnd = end;
        nowMs = now;
        deleteRetentionMs = config.deleteRetentionMs();
        lastRecords = fileLog.lastRecordsOfProducers();
        txns.reset(aborted);
        List<LogSegment> toClean = new ArrayList<>();
        for (LogSegment seg : inactive) {
            if (seg.baseOffset < end) {
                toClean.add(seg);
            }
        }
        int swapped = 0;
        for (List<LogSegment> group : groupBySize(toClean, nextBases, config)) {
            if (!cleanGroup(fileLog, group, config, now)) {
                log.info("{}: cleaning gave way to a concurrent segment deletion; will retry",
                        fileLog.topicPartition());
                return new Result(firstDirty, swapped, bytesRead, bytesWritten);
            }
            swapped++;
        }
        return new Result(end, swapped, bytesRead, bytesWritten);
    }

    // ------------------------------------------------------------------ offset map

    /** Keys of whole batches in [firstDirty, firstUncleanable) until the map is full; returns the map's end. */
    private long buildOffsetMap(List<LogSegment> segs, List<Long> nextBases, long firstDirty, long firstUncleanable)
            throws IOException {
        long[] end = {firstDirty};
        for (int i = 0; i < segs.size(); i++) {
            LogSegment seg = segs.get(i);
            if (nextBases.get(i) <= firstDirty) {
                continue;
            }
            if (seg.baseOffset >= firstUncleanable) {
                break;
            }
            int start = seg.baseOffset < firstDirty ? seg.offsetIndex.lookupPosition(firstDirty) : 0;
            boolean[] full = {false};
            scan(seg, start, (buf, s, e) -> {
                long base = buf.getLong(s + Batches.BASE_OFFSET);
                long last = base + buf.getInt(s + Batches.LAST_OFFSET_DELTA);
                if (last < firstDirty) {
                    return true;
                }
                if (last >= firstUncleanable) {
                    full[0] = true; // not full, but done: nothing at or past this batch may be cleaned
                    return false;
                }
                int count = buf.getInt(s + Batches.RECORDS_COUNT);
                if (!map.hasRoomFor(count)) {
                    full[0] = true;
                    return false;
                }
                if ((buf.getShort(s + Batches.ATTRIBUTES) & Batches.CONTROL_MASK) == 0 && !isAbortedData(buf, s)) {
                    addKeys(buf, s, e, base, count); // an aborted record never shadows a committed one
                }
                end[0] = last + 1;
                return true;
            });
            if (full[0]) {
                break;
            }
        }
        return end[0];
    }

    private void addKeys(ByteBuffer buf, int s, int e, long base, int count) {
        if ((buf.getShort(s + Batches.ATTRIBUTES) & Batches.COMPRESSION_MASK) != 0) {
            // compressed: kafka-clients decompresses; the records are objects here, as allowed for this path
            ByteBuffer slice = buf.duplicate();
            slice.limit(e).position(s);
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(slice.slice()).batches()) {
                for (Record r : batch) {
                    if (r.hasKey()) {
                        map.put(r.key(), r.offset());
                    }
                }
            }
            return;
        }
        int p = s + Batches.HEADER_SIZE;
        for (int i = 0; i < count && p < e; i++) {
            int len = readVarint(buf, p);
            int body = cursor;
            int recordEnd = body + len;
            readVarlong(buf, body + 1); // timestamp delta
            int offsetDelta = readVarint(buf, cursor);
            int keyLen = readVarint(buf, cursor);
            if (keyLen >= 0) {
                map.put(buf, cursor, keyLen, base + offsetDelta);
            }
            p = recordEnd;
        }
    }

    // ------------------------------------------------------------------ grouping and rewriting

    /** Consecutive segments whose combined log and index sizes fit one segment (Kafka's grouping). */
    private static List<List<LogSegment>> groupBySize(List<LogSegment> segs, List<Long> nextBases, LogConfig config) {
        List<List<LogSegment>> groups = new ArrayList<>();
        int i = 0;
        while (i < segs.size()) {
            LogSegment first = segs.get(i);
            List<LogSegment> group = new ArrayList<>();
            group.add(first);
            long logSize = first.size();
            long indexSize = (long) first.offsetIndex.entries() * 8;
            long timeIndexSize = (long) first.timeIndex.entries() * 12;
            i++;
            while (i < segs.size()) {
                LogSegment next = segs.get(i);
                long lastOffset = nextBases.get(i) - 1;
                if (logSize + next.size() > config.segmentBytes()
                        || indexSize + (long) next.offsetIndex.entries() * 8 > config.maxIndexSizeBytes()
                        || timeIndexSize + (long) next.timeIndex.entries() * 12 > config.maxIndexSizeBytes()
                        || lastOffset - first.baseOffset > Integer.MAX_VALUE) {
                    break;
                }
                group.add(next);
                logSize += next.size();
                indexSize += (long) next.offsetIndex.entries() * 8;
                timeIndexSize += (long) next.timeIndex.entries() * 12;
                i++;
            }
            groups.add(group);
        }
        return groups;
    }

    private boolean cleanGroup(FileLog fileLog, List<LogSegment> group, LogConfig config, long now)
            throws IOException {
        LogSegment cleaned = LogSegment.createWithSuffix(fileLog.dir(), group.get(0).baseOffset, config, now,
                LogSegment.CLEANED_SUFFIX);
        boolean swapped;
        try {
            MemoryRecords.RecordFilter filter = compressedFilter();
            writeBuf.clear();
            for (LogSegment seg : group) {
                scan(seg, 0, (buf, s, e) -> {
                    short attributes = buf.getShort(s + Batches.ATTRIBUTES);
                    long lastOffset = buf.getLong(s + Batches.BASE_OFFSET) + buf.getInt(s + Batches.LAST_OFFSET_DELTA);
                    if ((attributes & Batches.CONTROL_MASK) != 0) {
                        cleanControlBatch(buf, s, e, lastOffset, cleaned);
                    } else if (txns.onDataBatch(buf.getLong(s + Batches.PRODUCER_ID),
                            (attributes & Batches.TRANSACTIONAL_MASK) != 0, lastOffset)) {
                        dropAbortedBatch(buf, s, e, cleaned);
                    } else if ((attributes & Batches.COMPRESSION_MASK) != 0) {
                        filterCompressed(buf, s, e, filter, cleaned);
                    } else {
                        filterUncompressed(buf, s, e, cleaned);
                    }
                    return true;
                });
            }
            flushWrites(cleaned);
            // markers past the map's end were copied as they were: so are their index entries
            for (LogSegment seg : group) {
                for (AbortedTxn txn : seg.txnIndex.entries()) {
                    if (txn.lastOffset() >= mapEnd) {
                        cleaned.txnIndex.append(txn);
                    }
                }
            }
            cleaned.onBecomeInactive();
            cleaned.flush();
            swapped = fileLog.replaceSegments(group, cleaned);
        } catch (RuntimeException | IOException e) {
            discardIfNotSwapped(cleaned);
            throw e;
        }
        if (!swapped) {
            discardIfNotSwapped(cleaned);
        }
        return swapped;
    }

    /** Output that never became a swap file goes; a swap file is the log's now (or load completes it). */
    private static void discardIfNotSwapped(LogSegment cleaned) {
        if (cleaned.logPath().getFileName().toString().endsWith(LogSegment.CLEANED_SUFFIX)) {
            cleaned.deleteFiles();
        }
    }

    /** Retention decision for one record (Kafka's shouldRetainRecord for v2 batches). */
    private boolean retain(long offset, boolean hasKey, long latestOffsetOfKey, boolean hasValue, boolean hasHorizon,
                           long horizon) {
        if (offset >= mapEnd) {
            return true; // beyond what this pass knows about
        }
        if (!hasKey) {
            return false; // a compacted topic has no use for keyless records
        }
        boolean deleteRetained = !hasHorizon || nowMs < horizon;
        return offset >= latestOffsetOfKey && (hasValue || deleteRetained);
    }

    /** A transactional data batch inside one of its producer's aborted transactions (before the abort marker). */
    private boolean isAbortedData(ByteBuffer buf, int s) {
        short attributes = buf.getShort(s + Batches.ATTRIBUTES);
        if ((attributes & Batches.TRANSACTIONAL_MASK) == 0 || (attributes & Batches.CONTROL_MASK) != 0
                || abortedByProducer.isEmpty()) {
            return false;
        }
        List<AbortedTxn> txns = abortedByProducer.get(buf.getLong(s + Batches.PRODUCER_ID));
        if (txns == null) {
            return false;
        }
        long base = buf.getLong(s + Batches.BASE_OFFSET);
        for (AbortedTxn txn : txns) {
            if (base >= txn.firstOffset() && base < txn.lastOffset()) {
                return true;
            }
        }
        return false;
    }

    /** Aborted records go; the producer's last batch stays as a bare header, as for any emptied batch. */
    private void dropAbortedBatch(ByteBuffer in, int bs, int be, LogSegment cleaned) {
        long lastOffset = in.getLong(bs + Batches.BASE_OFFSET) + in.getInt(bs + Batches.LAST_OFFSET_DELTA);
        if (lastOffset >= mapEnd) {
            copyBatch(in, bs, be, cleaned); // beyond what this pass knows about
        } else if (isLastBatchOfProducer(in.getLong(bs + Batches.PRODUCER_ID), lastOffset)) {
            ensureWriteRoom(Batches.HEADER_SIZE, cleaned);
            writeEmptyHeader(in, bs);
        }
    }

    /** The data batch holding an active producer's last sequence: kept, if only as a header (Kafka's rule). */
    private boolean isLastBatchOfProducer(long producerId, long lastOffset) {
        if (producerId < 0) {
            return false;
        }
        ProducerStateTable.LastRecord last = lastRecords.get(producerId);
        return last != null && last.lastDataOffset() == lastOffset;
    }

    /**
     * A marker that is an active producer's last word (a marker bumped its epoch after its last data batch,
     * as transactions v2 do on every EndTxn): kept, if only as a header, for the epoch that fences zombies.
     */
    private boolean isLastMarkerOfProducer(long producerId, short epoch, long lastOffset) {
        if (producerId < 0) {
            return false;
        }
        ProducerStateTable.LastRecord last = lastRecords.get(producerId);
        return last != null && (last.lastDataOffset() >= 0 ? last.lastDataOffset() == lastOffset
                : last.epoch() == epoch);
    }

    /**
     * Kafka's rules for a transaction marker: kept while its transaction has batches in the log; once it has
     * none, the first pass to see that stamps the delete horizon (now + delete.retention.ms) into the batch's
     * base timestamp, and a pass after the horizon removes it (leaving the bare header if it is its producer's
     * last word). An ABORT kept for its batches keeps its aborted-transaction index entry.
     */
    private void cleanControlBatch(ByteBuffer in, int bs, int be, long lastOffset, LogSegment cleaned) {
        short attributes = in.getShort(bs + Batches.ATTRIBUTES);
        long producerId = in.getLong(bs + Batches.PRODUCER_ID);
        int count = in.getInt(bs + Batches.RECORDS_COUNT);
        boolean compressed = (attributes & Batches.COMPRESSION_MASK) != 0;
        int controlType = count == 0 ? -1 : compressed ? Integer.MIN_VALUE : controlType(in, bs, be);
        boolean discardable = txns.onControlBatch(producerId, lastOffset, controlType);
        if (lastOffset >= mapEnd) {
            copyBatch(in, bs, be, cleaned); // beyond what this pass knows about; its index entry is copied later
            return;
        }
        if (!discardable) {
            copyBatch(in, bs, be, cleaned);
            AbortedTxn aborted = txns.endedAbort();
            if (aborted != null) {
                cleaned.txnIndex.append(aborted);
            }
            return;
        }
        boolean keepHeader = isLastMarkerOfProducer(producerId, in.getShort(bs + Batches.PRODUCER_EPOCH), lastOffset);
        if (count == 0) {
            if (keepHeader) {
                copyBatch(in, bs, be, cleaned);
            }
            return;
        }
        boolean hasHorizon = (attributes & Batches.DELETE_HORIZON_MASK) != 0;
        if (hasHorizon && in.getLong(bs + Batches.BASE_TIMESTAMP) <= nowMs) {
            if (keepHeader) {
                ensureWriteRoom(Batches.HEADER_SIZE, cleaned);
                writeEmptyHeader(in, bs);
            }
            return;
        }
        if (hasHorizon) {
            copyBatch(in, bs, be, cleaned);
            return;
        }
        writeWithDeleteHorizon(in, bs, be, cleaned);
    }

    /** The control record type of an uncompressed control batch, or Integer.MIN_VALUE when it has none readable. */
    private int controlType(ByteBuffer in, int bs, int be) {
        try {
            int len = readVarint(in, bs + Batches.HEADER_SIZE);
            int recordEnd = cursor + len;
            readVarlong(in, cursor + 1); // timestamp delta
            readVarint(in, cursor); // offset delta
            int keyLen = readVarint(in, cursor);
            if (keyLen < 4 || cursor + keyLen > Math.min(recordEnd, be)) {
                return Integer.MIN_VALUE;
            }
            return in.getShort(cursor + 2);
        } catch (RuntimeException e) {
            return Integer.MIN_VALUE; // kept as it is
        }
    }

    /** Copies an uncompressed batch with the DELETE_HORIZON flag and now + delete.retention.ms as its base time. */
    private void writeWithDeleteHorizon(ByteBuffer in, int bs, int be, LogSegment cleaned) {
        int count = in.getInt(bs + Batches.RECORDS_COUNT);
        ensureWriteRoom(be - bs + count * 16, cleaned);
        int outStart = writeBuf.position();
        writeBuf.put(outStart, in, bs, be - bs);
        long oldBase = in.getLong(bs + Batches.BASE_TIMESTAMP);
        long horizon = nowMs + deleteRetentionMs;
        int op = rebaseTimestamps(outStart + Batches.HEADER_SIZE, outStart + (be - bs), count, oldBase, horizon);
        writeBuf.putShort(outStart + Batches.ATTRIBUTES,
                (short) (in.getShort(bs + Batches.ATTRIBUTES) | Batches.DELETE_HORIZON_MASK));
        writeBuf.putLong(outStart + Batches.BASE_TIMESTAMP, horizon);
        writeBuf.putInt(outStart + Batches.LENGTH, op - outStart - Batches.LOG_OVERHEAD);
        writeBuf.putInt(outStart + Batches.CRC, (int) Batches.crc(crc, writeBuf, outStart, op));
        writeBuf.position(op);
    }

    private void filterUncompressed(ByteBuffer in, int bs, int be, LogSegment cleaned) {
        int batchSize = be - bs;
        short attributes = in.getShort(bs + Batches.ATTRIBUTES);
        long base = in.getLong(bs + Batches.BASE_OFFSET);
        long baseTimestamp = in.getLong(bs + Batches.BASE_TIMESTAMP);
        boolean hasHorizon = (attributes & Batches.DELETE_HORIZON_MASK) != 0;
        int count = in.getInt(bs + Batches.RECORDS_COUNT);
        // re-encoded timestamp deltas may grow by up to 10 bytes a record, its length varint by up to 5
        ensureWriteRoom(batchSize + count * 16 + Batches.HEADER_SIZE, cleaned);
        int outStart = writeBuf.position();
        int op = outStart + Batches.HEADER_SIZE;
        int retained = 0;
        boolean tombstoneKept = false;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        int p = bs + Batches.HEADER_SIZE;
        for (int i = 0; i < count; i++) {
            int len = readVarint(in, p);
            int recordEnd = cursor + len;
            long timestampDelta = readVarlong(in, cursor + 1);
            int offsetDelta = readVarint(in, cursor);
            int keyLen = readVarint(in, cursor);
            int keyStart = cursor;
            int valueLen = readVarint(in, keyStart + Math.max(0, keyLen));
            long offset = base + offsetDelta;
            long latest = keyLen >= 0 && offset < mapEnd ? map.get(in, keyStart, keyLen) : -1;
            if (retain(offset, keyLen >= 0, latest, valueLen >= 0, hasHorizon, baseTimestamp)) {
                writeBuf.put(op, in, p, recordEnd - p);
                op += recordEnd - p;
                retained++;
                tombstoneKept |= valueLen < 0;
                maxTimestamp = Math.max(maxTimestamp, baseTimestamp + timestampDelta);
            }
            p = recordEnd;
        }
        boolean setHorizon = tombstoneKept && !hasHorizon;
        if (retained == count && !setHorizon) {
            copyBatch(in, bs, be, cleaned);
            return;
        }
        long lastOffset = base + in.getInt(bs + Batches.LAST_OFFSET_DELTA);
        if (retained == 0) {
            if (isLastBatchOfProducer(in.getLong(bs + Batches.PRODUCER_ID), lastOffset)) {
                writeEmptyHeader(in, bs);
            }
            return;
        }
        writeBuf.put(outStart, in, bs, Batches.HEADER_SIZE);
        short newAttributes = attributes;
        long newBaseTimestamp = baseTimestamp;
        if (setHorizon) {
            newBaseTimestamp = nowMs + deleteRetentionMs;
            newAttributes |= Batches.DELETE_HORIZON_MASK;
            op = rebaseTimestamps(outStart + Batches.HEADER_SIZE, op, retained, baseTimestamp, newBaseTimestamp);
        }
        if ((attributes & Batches.TIMESTAMP_TYPE_MASK) != 0) {
            maxTimestamp = in.getLong(bs + Batches.MAX_TIMESTAMP); // LogAppendTime: the batch's time stands
        }
        writeBuf.putShort(outStart + Batches.ATTRIBUTES, newAttributes);
        writeBuf.putLong(outStart + Batches.BASE_TIMESTAMP, newBaseTimestamp);
        writeBuf.putLong(outStart + Batches.MAX_TIMESTAMP, maxTimestamp);
        writeBuf.putInt(outStart + Batches.RECORDS_COUNT, retained);
        writeBuf.putInt(outStart + Batches.LENGTH, op - outStart - Batches.LOG_OVERHEAD);
        writeBuf.putInt(outStart + Batches.CRC, (int) Batches.crc(crc, writeBuf, outStart, op));
        writeBuf.position(op);
    }

    /** Rewrites each record's timestamp delta against a new base timestamp; returns the new end. */
    private int rebaseTimestamps(int start, int end, int count, long oldBase, long newBase) {
        int n = end - start;
        if (scratch.capacity() < n) {
            scratch = ByteBuffer.allocate(Math.max(n, scratch.capacity() * 2));
        }
        scratch.clear();
        scratch.put(0, writeBuf, start, n);
        int p = 0;
        int op = start;
        for (int i = 0; i < count; i++) {
            int len = readVarint(scratch, p);
            int body = cursor;
            int recordEnd = body + len;
            byte recordAttributes = scratch.get(body);
            long delta = readVarlong(scratch, body + 1);
            int rest = cursor;
            long newDelta = oldBase + delta - newBase;
            int newLen = 1 + varlongSize(newDelta) + (recordEnd - rest);
            op = writeVarint(writeBuf, op, newLen);
            writeBuf.put(op++, recordAttributes);
            op = writeVarlong(writeBuf, op, newDelta);
            writeBuf.put(op, scratch, rest, recordEnd - rest);
            op += recordEnd - rest;
            p = recordEnd;
        }
        return op;
    }

    /** An idempotent producer's emptied last batch: the header alone, so its sequence state survives. */
    private void writeEmptyHeader(ByteBuffer in, int bs) {
        int o = writeBuf.position();
        writeBuf.put(o, in, bs, Batches.HEADER_SIZE);
        short attributes = (short) (in.getShort(bs + Batches.ATTRIBUTES)
                & (Batches.TIMESTAMP_TYPE_MASK | Batches.TRANSACTIONAL_MASK | Batches.CONTROL_MASK));
        long maxTimestamp = in.getLong(bs + Batches.MAX_TIMESTAMP);
        writeBuf.putShort(o + Batches.ATTRIBUTES, attributes);
        writeBuf.putLong(o + Batches.BASE_TIMESTAMP, maxTimestamp);
        writeBuf.putInt(o + Batches.RECORDS_COUNT, 0);
        writeBuf.putInt(o + Batches.LENGTH, Batches.MIN_BATCH_LENGTH);
        writeBuf.putInt(o + Batches.CRC, (int) Batches.crc(crc, writeBuf, o, o + Batches.HEADER_SIZE));
        writeBuf.position(o + Batches.HEADER_SIZE);
    }

    private void copyBatch(ByteBuffer in, int bs, int be, LogSegment cleaned) {
        ensureWriteRoom(be - bs, cleaned);
        int o = writeBuf.position();
        writeBuf.put(o, in, bs, be - bs);
        writeBuf.position(o + be - bs);
    }

    private void filterCompressed(ByteBuffer in, int bs, int be, MemoryRecords.RecordFilter filter,
                                  LogSegment cleaned) {
        ByteBuffer slice = in.duplicate();
        slice.limit(be).position(bs);
        filterOut.clear();
        MemoryRecords.FilterResult result = MemoryRecords.readableRecords(slice.slice())
                .filterTo(filter, filterOut, decompression, Integer.MAX_VALUE);
        ByteBuffer out = result.outputBuffer();
        if (out != filterOut && out.capacity() > filterOut.capacity()) {
            filterOut = out; // it grew; keep the larger one
        }
        out.flip();
        ensureWriteRoom(out.remaining(), cleaned);
        writeBuf.put(out);
    }

    /** The same rules as {@link #retain} for kafka-clients' filter over compressed batches. */
    private MemoryRecords.RecordFilter compressedFilter() {
        return new MemoryRecords.RecordFilter(nowMs, deleteRetentionMs) {
            @Override
            protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
                boolean keepHeader = batch.hasProducerId()
                        && isLastBatchOfProducer(batch.producerId(), batch.lastOffset());
                return new BatchRetentionResult(keepHeader ? BatchRetention.RETAIN_EMPTY : BatchRetention.DELETE_EMPTY,
                        false);
            }

            @Override
            protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
                long offset = record.offset();
                long latest = record.hasKey() && offset < mapEnd ? map.get(record.key()) : -1;
                OptionalLong horizon = batch.deleteHorizonMs();
                return retain(offset, record.hasKey(), latest, record.hasValue(), horizon.isPresent(),
                        horizon.orElse(Long.MAX_VALUE));
            }
        };
    }

    private void ensureWriteRoom(int bytes, LogSegment cleaned) {
        if (writeBuf.remaining() >= bytes) {
            return;
        }
        flushWrites(cleaned);
        if (writeBuf.capacity() < bytes) {
            writeBuf = ByteBuffer.allocate(bytes);
        }
    }

    /** Appends the buffered batches to the cleaned segment, indexing them as appends do. */
    private void flushWrites(LogSegment cleaned) {
        int n = writeBuf.position();
        if (n == 0) {
            return;
        }
        int fileStart = cleaned.size();
        for (BatchHeaders b = writtenHeaders.over(writeBuf, 0, n); b.next(); ) {
            cleaned.onBatchWritten(b.lastOffset(), b.maxTimestamp(), fileStart + b.position(), b.sizeInBytes());
        }
        writeBuf.flip();
        cleaned.writeAtEnd(writeBuf);
        cleaned.publishSize(fileStart + n);
        bytesWritten += n;
        writeBuf.clear();
    }

    // ------------------------------------------------------------------ reading segments

    /** Hands whole batches from position {@code from} to the segment's end, reading in buffer-sized chunks. */
    private void scan(LogSegment seg, int from, BatchHandler handler) throws IOException {
        int limit = seg.size();
        int filePos = from;
        while (filePos + Batches.LOG_OVERHEAD <= limit) {
            if (stopping.getAsBoolean()) {
                throw new AbortedException();
            }
            readBuf.clear();
            readBuf.limit(Math.min(readBuf.capacity(), limit - filePos));
            if (!FileUtil.readFully(seg.channel, readBuf, filePos)) {
                throw new CorruptRecordException("Segment " + seg.logPath() + " ends before " + limit);
            }
            int n = readBuf.position();
            bytesRead += n;
            int p = 0;
            for (BatchHeaders b = scannedHeaders.over(readBuf, 0, n); b.next() && b.remaining() >= Batches.LOG_OVERHEAD; ) {
                if (b.sizeInBytes() < Batches.HEADER_SIZE) {
                    throw new CorruptRecordException("Batch of " + b.sizeInBytes() + " bytes in " + seg.logPath());
                }
                if (b.end() > n) {
                    break;
                }
                if (!handler.handle(readBuf, b.position(), b.end())) {
                    return;
                }
                p = b.end();
            }
            if (p == 0) {
                // one batch larger than the buffer: grow to it (up to the batch size) and read again
                int size = readBuf.getInt(Batches.LENGTH) + Batches.LOG_OVERHEAD;
                if (filePos + size > limit) {
                    throw new CorruptRecordException("Batch at " + filePos + " overruns " + seg.logPath());
                }
                readBuf = ByteBuffer.allocate(size);
                continue;
            }
            filePos += p;
        }
    }

    // ------------------------------------------------------------------ varints (zigzag, as in records)

    private int readVarint(ByteBuffer buf, int pos) {
        int raw = 0;
        int shift = 0;
        int p = pos;
        byte b;
        do {
            if (shift > 28) {
                throw new CorruptRecordException("Varint is too long");
            }
            b = buf.get(p++);
            raw |= (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        cursor = p;
        return (raw >>> 1) ^ -(raw & 1);
    }

    private long readVarlong(ByteBuffer buf, int pos) {
        long raw = 0;
        int shift = 0;
        int p = pos;
        byte b;
        do {
            if (shift > 63) {
                throw new CorruptRecordException("Varlong is too long");
            }
            b = buf.get(p++);
            raw |= (long) (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        cursor = p;
        return (raw >>> 1) ^ -(raw & 1);
    }

    private static int writeVarint(ByteBuffer buf, int pos, int value) {
        int v = (value << 1) ^ (value >> 31);
        int p = pos;
        while ((v & 0xffffff80) != 0) {
            buf.put(p++, (byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buf.put(p++, (byte) v);
        return p;
    }

    private static int writeVarlong(ByteBuffer buf, int pos, long value) {
        long v = (value << 1) ^ (value >> 63);
        int p = pos;
        while ((v & 0xffffffffffffff80L) != 0) {
            buf.put(p++, (byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buf.put(p++, (byte) v);
        return p;
    }

    private static int varlongSize(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((v & 0xffffffffffffff80L) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }
}
