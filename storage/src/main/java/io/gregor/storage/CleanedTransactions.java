package io.gregor.storage;

import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The transactions a cleaning pass walks through, batch by batch in offset order from the log start (Kafka's
 * CleanedTransactionMetadata). It tells the cleaner which data batches belong to aborted transactions (their
 * records go) and which markers may go: an ABORT once no batch of its transaction is left, a COMMIT once no
 * batch of its transaction was seen in the pass. A marker that may go still waits for its delete horizon
 * (the cleaner's business); an ABORT kept because its transaction still has batches keeps its entry in the
 * cleaned segment's aborted-transaction index, and only then, so the index never names a transaction whose
 * marker a later pass removed (a read_committed consumer would otherwise skip that producer's later data).
 */
final class CleanedTransactions {
    private static final class Aborted {
        final AbortedTxn txn;
        boolean batchSeen;

        Aborted(AbortedTxn txn) {
            this.txn = txn;
        }
    }

    private final PriorityQueue<AbortedTxn> upcoming = new PriorityQueue<>(Comparator.comparingLong(AbortedTxn::firstOffset));
    private final Map<Long, Aborted> ongoingAborted = new HashMap<>();
    private final Set<Long> ongoingCommitted = new HashSet<>();
    private AbortedTxn endedAbort;

    /** Starts a pass over a log whose aborted transactions (from its indexes) are {@code aborted}. */
    void reset(List<AbortedTxn> aborted) {
        upcoming.clear();
        ongoingAborted.clear();
        ongoingCommitted.clear();
        endedAbort = null;
        upcoming.addAll(aborted);
    }

    /** A data batch; true when it belongs to an aborted transaction. */
    boolean onDataBatch(long producerId, boolean transactional, long lastOffset) {
        startAbortedUpTo(lastOffset);
        if (!transactional) {
            return false;
        }
        Aborted a = ongoingAborted.get(producerId);
        if (a != null) {
            a.batchSeen = true;
            return true;
        }
        ongoingCommitted.add(producerId);
        return false;
    }

    /**
     * A control batch of {@code controlType} ({@link BatchHeaders#ABORT}, {@link BatchHeaders#COMMIT}, -1 for an
     * already emptied batch, anything else for one the cleaner cannot read). True when no batch of the
     * transaction it ends is left, so it may go once its delete horizon passed. Afterwards {@link #endedAbort()}
     * names the aborted transaction an ABORT ended, if the pass knew it.
     */
    boolean onControlBatch(long producerId, long lastOffset, int controlType) {
        startAbortedUpTo(lastOffset);
        endedAbort = null;
        if (controlType == -1) {
            return true; // emptied by an earlier pass: its transaction is already gone
        }
        if (controlType == BatchHeaders.ABORT) {
            Aborted a = ongoingAborted.remove(producerId);
            if (a == null) {
                return true; // a transaction without data in this partition
            }
            endedAbort = a.txn;
            return !a.batchSeen;
        }
        if (controlType == BatchHeaders.COMMIT) {
            return !ongoingCommitted.remove(producerId);
        }
        return false;
    }

    /** The aborted transaction the last ABORT marker ended, or null. */
    AbortedTxn endedAbort() {
        return endedAbort;
    }

    private void startAbortedUpTo(long offset) {
        while (!upcoming.isEmpty() && upcoming.peek().firstOffset() <= offset) {
            AbortedTxn txn = upcoming.poll();
            ongoingAborted.putIfAbsent(txn.producerId(), new Aborted(txn));
        }
    }
}
