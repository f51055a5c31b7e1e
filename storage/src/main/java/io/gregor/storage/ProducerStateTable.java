package io.gregor.storage;

import io.gregor.storage.errors.InvalidProducerEpochException;
import io.gregor.storage.errors.InvalidTxnStateException;
import io.gregor.storage.errors.TransactionCoordinatorFencedException;
import io.gregor.storage.errors.KafkaStorageException;
import io.gregor.storage.errors.OutOfOrderSequenceException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Idempotent and transactional producer state of one partition: per producer id the epoch, the metadata of
 * its last five batches, the coordinator epoch of its last marker and the first offset of its ongoing
 * transaction (a transactional batch starts one, a marker ends it). Guarded by the log's append lock. Snapshots use Kafka's {@code %020d.snapshot} format
 * (ProducerSnapshot v1: int16 version, uint32 CRC-32C of the rest, array of producer entries).
 */
final class ProducerStateTable {
    static final String SNAPSHOT_SUFFIX = ".snapshot";
    static final int BATCHES_TO_RETAIN = 5;
    private static final short SNAPSHOT_VERSION = 1;
    private static final int ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
    private static final int ENTRIES_OFFSET = 2 + 4;

    /** One producer: epoch plus a ring of the last batches (arrays, so appends allocate nothing). */
    static final class Entry {
        short epoch = -1;
        int coordinatorEpoch = -1;
        long currentTxnFirstOffset = -1;
        /** Max timestamp of the producer's latest batch or marker: producer.id.expiration.ms counts from it. */
        long lastTimestamp = -1;
        final int[] firstSeq = new int[BATCHES_TO_RETAIN];
        final int[] lastSeq = new int[BATCHES_TO_RETAIN];
        final long[] lastOffset = new long[BATCHES_TO_RETAIN];
        final int[] offsetDelta = new int[BATCHES_TO_RETAIN];
        final long[] timestamp = new long[BATCHES_TO_RETAIN];
        int count;
        int next; // ring slot for the next batch

        int newest() {
            return (next + BATCHES_TO_RETAIN - 1) % BATCHES_TO_RETAIN;
        }

        int lastSequence() {
            return count == 0 ? -1 : lastSeq[newest()];
        }

        void add(int first, int last, long lastOff, int delta, long ts) {
            firstSeq[next] = first;
            lastSeq[next] = last;
            lastOffset[next] = lastOff;
            offsetDelta[next] = delta;
            timestamp[next] = ts;
            next = (next + 1) % BATCHES_TO_RETAIN;
            if (count < BATCHES_TO_RETAIN) {
                count++;
            }
        }

        /** Ring slot of a retained batch with these sequences, or -1. */
        int findDuplicate(int first, int last) {
            for (int i = 0; i < count; i++) {
                int slot = (next + BATCHES_TO_RETAIN - 1 - i) % BATCHES_TO_RETAIN;
                if (firstSeq[slot] == first && lastSeq[slot] == last) {
                    return slot;
                }
            }
            return -1;
        }
    }

    private final Map<Long, Entry> producers = new HashMap<>();
    /** Ongoing transactions, first offset -> producer id (Kafka's ongoingTxns): the first holds the LSO back. */
    private final TreeMap<Long, Long> ongoingTxns = new TreeMap<>();

    /** Kafka's VerificationStateEntry: a verification with the transaction coordinator under way. */
    private record Verification(VerificationGuard guard, long createdMs) {
    }

    private final Map<Long, Verification> verifications = new HashMap<>();

    /** The guard of the producer's verification under way, a new one if none is. */
    VerificationGuard verificationGuard(long producerId, long nowMs) {
        return verifications.computeIfAbsent(producerId, pid -> new Verification(new VerificationGuard(), nowMs))
                .guard();
    }

    /**
     * Kafka's check of a verified append: a transactional data batch of a producer without a transaction open
     * here at its epoch must carry the guard of a verification still under way.
     */
    void checkVerified(long producerId, short epoch, VerificationGuard guard) {
        Entry e = producers.get(producerId);
        if (e != null && e.epoch == epoch && e.currentTxnFirstOffset >= 0) {
            return;
        }
        Verification v = verifications.get(producerId);
        if (v == null || guard == VerificationGuard.SENTINEL || v.guard() != guard) {
            throw new InvalidTxnStateException("Record of producer " + producerId + " at epoch " + epoch
                    + " was not part of an ongoing transaction");
        }
    }

    /** A transaction ended by a marker: from its first record to the marker at lastOffset. */
    record CompletedTxn(long producerId, long firstOffset, long lastOffset, boolean aborted) {
    }

    // Pending view of producers already seen earlier in the append being validated.
    private long[] pendingPid = new long[4];
    private short[] pendingEpoch = new short[4];
    private int[] pendingLastSeq = new int[4];
    private int pendingCount;

    /**
     * What compaction must keep of a producer (Kafka's LastRecord): the last offset of its newest data batch
     * (-1 when a marker bumped the epoch since, or none is known) and its epoch, which a marker may carry alone.
     */
    record LastRecord(long lastDataOffset, short epoch) {
    }

    /** Per producer id, its {@link LastRecord}: the batch (or, failing one, the marker) compaction must keep. */
    Map<Long, LastRecord> lastRecords() {
        Map<Long, LastRecord> result = new HashMap<>();
        producers.forEach((pid, e) -> result.put(pid,
                new LastRecord(e.count > 0 ? e.lastOffset[e.newest()] : -1, e.epoch)));
        return result;
    }

    Entry get(long producerId) {
        return producers.get(producerId);
    }

    int size() {
        return producers.size();
    }

    /** First offset of the earliest ongoing transaction, or -1 when none is open. */
    long firstOngoingTxnOffset() {
        return ongoingTxns.isEmpty() ? -1 : ongoingTxns.firstKey();
    }

    /** Every producer with its state, for DescribeProducers. */
    Map<Long, Entry> entries() {
        return producers;
    }

    /** A coordinator's write for a producer (a transactional offset commit): only an older epoch is refused. */
    void checkEpoch(long producerId, short epoch) {
        Entry e = producers.get(producerId);
        if (e != null && epoch < e.epoch) {
            throw new InvalidProducerEpochException("Epoch of producer " + producerId + " is " + epoch
                    + ", which is smaller than the last seen epoch " + e.epoch);
        }
    }

    /** Kafka's rule: a producer inside a transaction must keep writing transactional batches until its marker. */
    void checkTransactional(long producerId, boolean transactional) {
        Entry e = producers.get(producerId);
        if (!transactional && e != null && e.currentTxnFirstOffset >= 0) {
            throw new InvalidTxnStateException("Expected transactional write from producer " + producerId
                    + ": its transaction from offset " + e.currentTxnFirstOffset + " is still open");
        }
    }

    /**
     * Checks a transaction marker the coordinator asks to write (Kafka's appendEndTxnMarker): an epoch older
     * than the producer's (transactions v0/v1), or not newer (v2, whose coordinator bumps the epoch before
     * each marker; a retry of a marker already written, same epoch and no open transaction, passes) is
     * INVALID_PRODUCER_EPOCH; an older coordinator epoch is TRANSACTION_COORDINATOR_FENCED.
     */
    void validateMarker(long producerId, short epoch, int coordinatorEpoch, int transactionVersion) {
        Entry e = producers.get(producerId);
        if (e == null) {
            return;
        }
        boolean stale = transactionVersion >= 2 ? epoch <= e.epoch : epoch < e.epoch;
        boolean retriedTv2Marker = transactionVersion >= 2 && epoch == e.epoch && e.currentTxnFirstOffset < 0;
        if (stale && !retriedTv2Marker) {
            throw new InvalidProducerEpochException("Epoch of producer " + producerId + " is " + epoch + ", which is "
                    + (transactionVersion >= 2 ? "<=" : "<") + " the last seen epoch " + e.epoch
                    + " (TV" + transactionVersion + ")");
        }
        if (coordinatorEpoch < e.coordinatorEpoch) {
            throw new TransactionCoordinatorFencedException("Invalid coordinator epoch for producer " + producerId
                    + ": " + coordinatorEpoch + " (zombie), " + e.coordinatorEpoch + " (current)");
        }
    }

    void beginValidation() {
        pendingCount = 0;
    }

    /**
     * Checks one batch against the producer's state (Kafka's rules). Returns the ring slot of the original
     * when the batch duplicates one of the last five, else -1. The batch is recorded in the pending view.
     */
    int validate(long producerId, short epoch, int firstSeq, int lastSeq) {
        Entry entry = producers.get(producerId);
        int p = pendingIndex(producerId);
        if (p < 0 && entry != null && entry.epoch == epoch) {
            int dup = entry.findDuplicate(firstSeq, lastSeq);
            if (dup >= 0) {
                return dup;
            }
        }
        short currentEpoch = p >= 0 ? pendingEpoch[p] : entry == null ? -1 : entry.epoch;
        int currentLastSeq = p >= 0 ? pendingLastSeq[p] : entry == null ? -1 : entry.lastSequence();
        if (epoch < currentEpoch) {
            throw new InvalidProducerEpochException("Epoch of producer " + producerId + " is " + epoch
                    + ", which is smaller than the last seen epoch " + currentEpoch);
        }
        if (epoch != currentEpoch) {
            // an unknown producer may start anywhere (its state may have expired); a bumped epoch at 0
            if (firstSeq != 0 && currentEpoch != -1) {
                throw new OutOfOrderSequenceException("Invalid sequence number for new epoch of producer "
                        + producerId + " at epoch " + epoch + ": " + firstSeq + " (request epoch), 0 (seq. number)");
            }
        } else if (currentLastSeq == -1 && firstSeq != 0) {
            throw new OutOfOrderSequenceException("Out of order sequence number for producer " + producerId
                    + " with no sequence state: " + firstSeq);
        } else if (!inSequence(currentLastSeq, firstSeq)) {
            throw new OutOfOrderSequenceException("Out of order sequence number for producer " + producerId
                    + " at offset ?: " + firstSeq + " (incoming seq. number), " + currentLastSeq
                    + " (current end sequence number)");
        }
        if (p < 0) {
            p = pendingCount++;
            if (p == pendingPid.length) {
                pendingPid = java.util.Arrays.copyOf(pendingPid, p * 2);
                pendingEpoch = java.util.Arrays.copyOf(pendingEpoch, p * 2);
                pendingLastSeq = java.util.Arrays.copyOf(pendingLastSeq, p * 2);
            }
            pendingPid[p] = producerId;
        }
        pendingEpoch[p] = epoch;
        pendingLastSeq[p] = lastSeq;
        return -1;
    }

    private int pendingIndex(long producerId) {
        for (int i = 0; i < pendingCount; i++) {
            if (pendingPid[i] == producerId) {
                return i;
            }
        }
        return -1;
    }

    private static boolean inSequence(int lastSeq, int nextSeq) {
        return nextSeq == lastSeq + 1L || (lastSeq == Integer.MAX_VALUE && nextSeq == 0);
    }

    /** Records a written batch (also used unchecked when rebuilding state from the log). */
    void update(long producerId, short epoch, int firstSeq, int lastSeq, long firstOffset, long lastOffset,
                long timestamp) {
        Entry e = producers.get(producerId);
        if (e == null) {
            e = new Entry();
            producers.put(producerId, e);
        }
        if (epoch != e.epoch) {
            e.count = 0;
            e.next = 0;
            e.epoch = epoch;
        }
        if (firstSeq >= 0) {
            e.add(firstSeq, lastSeq, lastOffset, (int) (lastOffset - firstOffset), timestamp);
        }
    }

    /**
     * Records a batch written to (or replayed from) the log: the one place producer state follows the log.
     * Returns the transaction a marker completed, or null.
     */
    CompletedTxn onBatch(BatchHeaders b) {
        long producerId = b.producerId();
        if (producerId < 0) {
            return null;
        }
        if (b.isTransactional() && !verifications.isEmpty()) {
            // a marker ended the transaction, or a batch opened it: a verification under way is stale or done
            verifications.remove(producerId);
        }
        if (b.isControl()) {
            if (b.recordCount() == 0) {
                return null; // the cleaner emptied it: its transaction is gone from the log
            }
            long marker;
            try {
                marker = b.controlMarker();
            } catch (RuntimeException e) {
                return null; // not a marker we can read (validated appends never get here)
            }
            Entry e = updateEpochOnly(producerId, b.producerEpoch());
            e.coordinatorEpoch = BatchHeaders.markerCoordinatorEpoch(marker);
            e.lastTimestamp = b.maxTimestamp();
            long first = e.currentTxnFirstOffset;
            if (first < 0) {
                return null; // a marker without data here changes neither the LSO nor the index (as Kafka)
            }
            e.currentTxnFirstOffset = -1;
            ongoingTxns.remove(first);
            return new CompletedTxn(producerId, first, b.baseOffset(),
                    BatchHeaders.markerType(marker) == BatchHeaders.ABORT);
        }
        update(producerId, b.producerEpoch(), b.baseSequence(), b.lastSequence(), b.baseOffset(),
                b.lastOffset(), b.maxTimestamp());
        Entry e = producers.get(producerId);
        e.lastTimestamp = b.maxTimestamp();
        if (b.isTransactional()) {
            if (e.currentTxnFirstOffset < 0) {
                e.currentTxnFirstOffset = b.baseOffset();
                ongoingTxns.put(b.baseOffset(), producerId);
            }
        }
        return null;
    }

    /** A control batch (transaction marker) carries no sequences but may bump the epoch. */
    Entry updateEpochOnly(long producerId, short epoch) {
        Entry e = producers.computeIfAbsent(producerId, k -> new Entry());
        if (epoch > e.epoch) {
            e.count = 0;
            e.next = 0;
            e.epoch = epoch;
        }
        return e;
    }

    /**
     * Kafka's producer id expiration: forgets producers without an open transaction whose last batch or marker
     * is at least {@code expirationMs} old. Returns how many went.
     */
    int removeExpired(long nowMs, long expirationMs) {
        verifications.values().removeIf(v -> nowMs - v.createdMs >= expirationMs);
        int before = producers.size();
        producers.values().removeIf(e -> e.currentTxnFirstOffset < 0 && nowMs - e.lastTimestamp >= expirationMs);
        return before - producers.size();
    }

    void clear() {
        verifications.clear();
        producers.clear();
        ongoingTxns.clear();
    }

    // ---- snapshots ----

    static Path snapshotPath(Path dir, long offset) {
        return dir.resolve(FileUtil.filenamePrefix(offset) + SNAPSHOT_SUFFIX);
    }

    void writeSnapshot(Path dir, long offset) {
        ByteBuffer buf = ByteBuffer.allocate(ENTRIES_OFFSET + 4 + producers.size() * ENTRY_BYTES);
        buf.putShort(SNAPSHOT_VERSION);
        buf.putInt(0); // CRC, filled below
        buf.putInt(producers.size());
        for (Map.Entry<Long, Entry> me : producers.entrySet()) {
            Entry e = me.getValue();
            boolean has = e.count > 0;
            int slot = has ? e.newest() : 0;
            buf.putLong(me.getKey());
            buf.putShort(e.epoch);
            buf.putInt(has ? e.lastSeq[slot] : -1);
            buf.putLong(has ? e.lastOffset[slot] : -1);
            buf.putInt(has ? e.offsetDelta[slot] : 0);
            buf.putLong(e.lastTimestamp);
            buf.putInt(e.coordinatorEpoch);
            buf.putLong(e.currentTxnFirstOffset);
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), ENTRIES_OFFSET, buf.position() - ENTRIES_OFFSET);
        buf.putInt(2, (int) crc.getValue());
        FileUtil.writeAtomically(snapshotPath(dir, offset), buf.array());
    }

    /** Replaces the state with the snapshot's; false when the file is unreadable or fails its CRC. */
    boolean loadSnapshot(Path file) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
            if (buf.remaining() < ENTRIES_OFFSET + 4 || buf.getShort(0) != SNAPSHOT_VERSION) {
                return false;
            }
            CRC32C crc = new CRC32C();
            crc.update(buf.array(), ENTRIES_OFFSET, buf.limit() - ENTRIES_OFFSET);
            if ((buf.getInt(2) & 0xffffffffL) != crc.getValue()) {
                return false;
            }
            int n = buf.getInt(ENTRIES_OFFSET);
            if (n < 0 || buf.limit() != ENTRIES_OFFSET + 4 + (long) n * ENTRY_BYTES) {
                return false;
            }
            clear();
            buf.position(ENTRIES_OFFSET + 4);
            for (int i = 0; i < n; i++) {
                long pid = buf.getLong();
                short epoch = buf.getShort();
                int lastSeq = buf.getInt();
                long lastOffset = buf.getLong();
                int delta = buf.getInt();
                long ts = buf.getLong();
                int coordinatorEpoch = buf.getInt();
                long txnFirst = buf.getLong();
                Entry e = new Entry();
                e.epoch = epoch;
                e.coordinatorEpoch = coordinatorEpoch;
                e.currentTxnFirstOffset = txnFirst;
                e.lastTimestamp = ts;
                if (lastSeq >= 0) {
                    long first = (long) lastSeq - delta;
                    int firstSeq = (int) (first < 0 ? first + Integer.MAX_VALUE + 1 : first);
                    e.add(firstSeq, lastSeq, lastOffset, delta, ts);
                }
                producers.put(pid, e);
                if (txnFirst >= 0) {
                    ongoingTxns.put(txnFirst, pid);
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Offsets of the snapshot files in dir, ascending. */
    static List<Long> listSnapshots(Path dir) {
        List<Long> offsets = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SNAPSHOT_SUFFIX)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                try {
                    offsets.add(Long.parseLong(name.substring(0, name.length() - SNAPSHOT_SUFFIX.length())));
                } catch (NumberFormatException ignored) {
                    // not ours
                }
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot list " + dir, e);
        }
        offsets.sort(null);
        return offsets;
    }
}
