package io.gregor.broker.share;

import io.gregor.coordinator.share.ShareStateStore;
import io.gregor.coordinator.share.ShareStateStore.ShareState;
import io.gregor.coordinator.share.ShareStateStore.StateBatch;
import org.apache.kafka.common.message.ShareFetchResponseData.AcquiredRecords;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One share group's view of one partition, on the partition's leader (KIP-932's SharePartition): records
 * from {@code startOffset} (every offset below is acknowledged or archived) up to {@code endOffset} (the next
 * offset never handed out) are in flight, each AVAILABLE (for redelivery), ACQUIRED by one member until its
 * lock expires, ACKNOWLEDGED or ARCHIVED. The window is kept in flat arrays indexed by offset - startOffset,
 * bounded by {@code share.partition.max.record.locks} (plus the rest of the last batch handed out), so no
 * object exists per record. All methods are called under the instance's lock.
 */
final class SharePartition {
    static final byte AVAILABLE = ShareStateStore.AVAILABLE;
    static final byte ACQUIRED = 1;
    static final byte ACKNOWLEDGED = ShareStateStore.ACKNOWLEDGED;
    static final byte ARCHIVED = ShareStateStore.ARCHIVED;

    static final byte ACK_GAP = 0;
    static final byte ACK_ACCEPT = 1;
    static final byte ACK_RELEASE = 2;
    static final byte ACK_REJECT = 3;
    static final byte ACK_RENEW = 4;

    final ShareStateStore.Key key;
    final int leaderEpoch;
    private long startOffset;
    private long endOffset;
    private int stateEpoch;
    private byte[] states = new byte[64];
    private short[] deliveries = new short[64];
    private long[] lockExpiry = new long[64];
    private String[] owners = new String[64];
    private long earliestLockExpiry = Long.MAX_VALUE;

    SharePartition(ShareStateStore.Key key, int leaderEpoch, long startOffset, int stateEpoch) {
        this.key = key;
        this.leaderEpoch = leaderEpoch;
        this.startOffset = startOffset;
        this.endOffset = startOffset;
        this.stateEpoch = stateEpoch;
    }

    /** The partition as persisted: acquired records come back available, with their delivery counts. */
    static SharePartition restore(ShareStateStore.Key key, int leaderEpoch, ShareState state) {
        SharePartition sp = new SharePartition(key, leaderEpoch, state.startOffset(), state.stateEpoch());
        long end = state.startOffset();
        for (StateBatch b : state.batches()) {
            end = Math.max(end, b.lastOffset() + 1);
        }
        sp.grow((int) (end - sp.startOffset));
        sp.endOffset = end;
        // offsets inside the window that no batch names were never delivered: available with count 0
        for (StateBatch b : state.batches()) {
            for (long o = Math.max(b.firstOffset(), sp.startOffset); o <= b.lastOffset(); o++) {
                int i = (int) (o - sp.startOffset);
                sp.states[i] = b.deliveryState() == ACQUIRED ? AVAILABLE : b.deliveryState();
                sp.deliveries[i] = b.deliveryCount();
            }
        }
        sp.advanceStart();
        return sp;
    }

    long startOffset() {
        return startOffset;
    }

    long endOffset() {
        return endOffset;
    }

    int stateEpoch() {
        return stateEpoch;
    }

    int window() {
        return (int) (endOffset - startOffset);
    }

    /** Acknowledged or archived records inside the window (Kafka's delivery-complete count, for the lag). */
    int completedInWindow() {
        int n = 0;
        for (int i = 0; i < window(); i++) {
            if (states[i] == ACKNOWLEDGED || states[i] == ARCHIVED) {
                n++;
            }
        }
        return n;
    }

    /** The first offset a fetch may acquire: the first available one in the window, else the end. */
    long nextFetchOffset() {
        for (int i = 0; i < window(); i++) {
            if (states[i] == AVAILABLE) {
                return startOffset + i;
            }
        }
        return endOffset;
    }

    /** Whether offset may be acquired now (available in the window, or new while the in-flight limit allows). */
    boolean canAcquireNew(int maxInFlight) {
        return window() < maxInFlight;
    }

    /**
     * Acquires for {@code member} the offsets {@code first..last} of one log batch (from where the fetch starts);
     * a batch never to be delivered ({@code control}: a transaction marker, or under read_committed a batch of an
     * aborted transaction) is archived instead,
     * at most {@code budget} records: available ones in the window and new ones past its end. Returns how many
     * became acquired; their ranges (one per run of equal delivery count) go to {@code out}. The caller starts a
     * batch past the end only while the in-flight limit allows ({@link #canAcquireNew}).
     */
    int acquireBatch(long first, long last, boolean control, String member, long lockUntil, int budget,
                     List<AcquiredRecords> out) {
        int acquired = 0;
        long rangeFirst = -1;
        long rangeLast = -1;
        short rangeCount = 0;
        for (long o = Math.max(first, startOffset); o <= last && acquired < budget; o++) {
            int i;
            if (o >= endOffset) {
                if (o > endOffset) {
                    fillGap(o); // offsets the log no longer has (compaction): done, never delivered
                }
                grow(window() + 1);
                i = window();
                endOffset++;
                deliveries[i] = 0;
                if (control) {
                    states[i] = ARCHIVED; // transaction markers and aborted records are never delivered
                    continue;
                }
                states[i] = AVAILABLE;
            } else {
                i = (int) (o - startOffset);
                if (states[i] != AVAILABLE) {
                    if (rangeFirst >= 0) {
                        out.add(range(rangeFirst, rangeLast, rangeCount));
                        rangeFirst = -1;
                    }
                    continue;
                }
            }
            states[i] = ACQUIRED;
            deliveries[i]++;
            lockExpiry[i] = lockUntil;
            owners[i] = member;
            earliestLockExpiry = Math.min(earliestLockExpiry, lockUntil);
            acquired++;
            if (rangeFirst >= 0 && (deliveries[i] != rangeCount || o != rangeLast + 1)) {
                out.add(range(rangeFirst, rangeLast, rangeCount));
                rangeFirst = -1;
            }
            if (rangeFirst < 0) {
                rangeFirst = o;
                rangeCount = deliveries[i];
            }
            rangeLast = o;
        }
        if (rangeFirst >= 0) {
            out.add(range(rangeFirst, rangeLast, rangeCount));
        }
        mergeLast(out);
        if (control) {
            advanceStart();
        }
        return acquired;
    }

    /** Offsets missing from the log between the end and {@code upTo} (compaction): done, never delivered. */
    private void fillGap(long upTo) {
        while (endOffset < upTo) {
            grow(window() + 1);
            int i = window();
            states[i] = ARCHIVED;
            deliveries[i] = 0;
            endOffset++;
        }
        advanceStart();
    }

    /** One range for consecutive offsets of equal delivery count across batches, as Kafka answers. */
    private static void mergeLast(List<AcquiredRecords> out) {
        while (out.size() >= 2) {
            AcquiredRecords prev = out.get(out.size() - 2);
            AcquiredRecords last = out.get(out.size() - 1);
            if (prev.lastOffset() + 1 != last.firstOffset() || prev.deliveryCount() != last.deliveryCount()) {
                return;
            }
            prev.setLastOffset(last.lastOffset());
            out.remove(out.size() - 1);
        }
    }

    private static AcquiredRecords range(long first, long last, short count) {
        return new AcquiredRecords().setFirstOffset(first).setLastOffset(last).setDeliveryCount(count);
    }

    /**
     * Checks a whole acknowledgement batch first (INVALID_REQUEST for a malformed one, INVALID_RECORD_STATE
     * when a record is not acquired by {@code member}), then applies it.
     */
    Errors checkAcknowledgement(long first, long last, List<Byte> types, String member) {
        if (first > last || first < 0 || types.isEmpty() || (types.size() != 1 && types.size() != last - first + 1)) {
            return Errors.INVALID_REQUEST;
        }
        for (byte t : types) {
            if (t < ACK_GAP || t > ACK_RENEW) {
                return Errors.INVALID_REQUEST;
            }
        }
        for (long o = first; o <= last; o++) {
            if (o < startOffset || o >= endOffset) {
                return Errors.INVALID_RECORD_STATE;
            }
            int i = (int) (o - startOffset);
            byte type = types.size() == 1 ? types.get(0) : types.get((int) (o - first));
            if (type == ACK_GAP) {
                continue;
            }
            if (states[i] != ACQUIRED || !member.equals(owners[i])) {
                return Errors.INVALID_RECORD_STATE;
            }
        }
        return Errors.NONE;
    }

    /** Applies a checked batch; true if a persisted state changed (a renewal changes only the lock). */
    boolean acknowledge(long first, long last, List<Byte> types, long renewedLockUntil, int deliveryLimit) {
        boolean changed = false;
        for (long o = first; o <= last; o++) {
            int i = (int) (o - startOffset);
            byte type = types.size() == 1 ? types.get(0) : types.get((int) (o - first));
            switch (type) {
                case ACK_ACCEPT -> states[i] = ACKNOWLEDGED;
                case ACK_RELEASE -> states[i] = deliveries[i] >= deliveryLimit ? ARCHIVED : AVAILABLE;
                case ACK_REJECT, ACK_GAP -> states[i] = ARCHIVED;
                case ACK_RENEW -> {
                    lockExpiry[i] = renewedLockUntil;
                    continue;
                }
                default -> {
                    continue;
                }
            }
            owners[i] = null;
            changed = true;
        }
        advanceStart();
        return changed;
    }

    /** Records whose lock ran out go back (or are archived at the delivery limit); true if any did. */
    boolean expireLocks(long now, int deliveryLimit) {
        if (now < earliestLockExpiry) {
            return false;
        }
        boolean changed = false;
        long earliest = Long.MAX_VALUE;
        for (int i = 0; i < window(); i++) {
            if (states[i] == ACQUIRED) {
                if (lockExpiry[i] <= now) {
                    states[i] = deliveries[i] >= deliveryLimit ? ARCHIVED : AVAILABLE;
                    owners[i] = null;
                    changed = true;
                } else {
                    earliest = Math.min(earliest, lockExpiry[i]);
                }
            }
        }
        earliestLockExpiry = earliest;
        if (changed) {
            advanceStart();
        }
        return changed;
    }

    /** The records {@code member} holds go back at once (its share session closed or it left the group). */
    boolean releaseMember(String member, int deliveryLimit) {
        boolean changed = false;
        for (int i = 0; i < window(); i++) {
            if (states[i] == ACQUIRED && member.equals(owners[i])) {
                states[i] = deliveries[i] >= deliveryLimit ? ARCHIVED : AVAILABLE;
                owners[i] = null;
                changed = true;
            }
        }
        if (changed) {
            advanceStart();
        }
        return changed;
    }

    /** Records deleted from the log (retention, DeleteRecords) are gone for the group too. */
    void moveStartTo(long logStartOffset) {
        if (logStartOffset <= startOffset) {
            return;
        }
        int drop = (int) Math.min(window(), logStartOffset - startOffset);
        shift(drop);
        startOffset = logStartOffset;
        endOffset = Math.max(endOffset, startOffset);
    }

    /** Moves the start past every leading acknowledged or archived record (the share-partition start offset). */
    private void advanceStart() {
        int done = 0;
        int w = window();
        while (done < w && (states[done] == ACKNOWLEDGED || states[done] == ARCHIVED)) {
            done++;
        }
        if (done > 0) {
            shift(done);
            startOffset += done;
        }
    }

    private void shift(int n) {
        int w = window();
        int keep = w - n;
        if (keep > 0) {
            System.arraycopy(states, n, states, 0, keep);
            System.arraycopy(deliveries, n, deliveries, 0, keep);
            System.arraycopy(lockExpiry, n, lockExpiry, 0, keep);
            System.arraycopy(owners, n, owners, 0, keep);
        }
        Arrays.fill(owners, Math.max(keep, 0), Math.min(w, owners.length), null);
    }

    private void grow(int size) {
        if (size <= states.length) {
            return;
        }
        int n = Math.max(size, states.length * 2);
        states = Arrays.copyOf(states, n);
        deliveries = Arrays.copyOf(deliveries, n);
        lockExpiry = Arrays.copyOf(lockExpiry, n);
        owners = Arrays.copyOf(owners, n);
    }

    /** A new start offset (AlterShareGroupOffsets): nothing in flight, a new state epoch. */
    void reset(long newStart) {
        shift(window());
        startOffset = newStart;
        endOffset = newStart;
        stateEpoch++;
        earliestLockExpiry = Long.MAX_VALUE;
    }

    /** The state to persist: runs of equal (state, delivery count); acquired records as available. */
    ShareState snapshot() {
        List<StateBatch> batches = new ArrayList<>();
        int w = window();
        int i = 0;
        while (i < w) {
            byte s = states[i] == ACQUIRED ? AVAILABLE : states[i];
            short d = deliveries[i];
            int j = i + 1;
            while (j < w && (states[j] == ACQUIRED ? AVAILABLE : states[j]) == s && deliveries[j] == d) {
                j++;
            }
            batches.add(new StateBatch(startOffset + i, startOffset + j - 1, s, d));
            i = j;
        }
        return new ShareState(startOffset, stateEpoch, leaderEpoch, batches);
    }
}
