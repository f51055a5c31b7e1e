package io.gregor.storage;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The cleaner's key -> latest offset map, as compact as Kafka's: an open-addressing table of 24-byte slots
 * (the key's 16-byte MD5 digest and the offset) in one long[], so inserting and probing allocate nothing.
 * Memory is bounded by the dedupe buffer share of one cleaner thread; the table is sized to what a
 * cleaning pass needs and reused while big enough. Not thread-safe: one per cleaner thread.
 */
final class CleanerOffsetMap {
    static final int BYTES_PER_ENTRY = 24;
    private static final double LOAD_FACTOR = 0.9; // log.cleaner.io.buffer.load.factor

    private final int maxSlots;
    private final MessageDigest md5;
    private final byte[] digest = new byte[16];
    private long[] table = new long[0];
    private int slots;
    private int maxEntries;
    private int size;
    private long digestHi;
    private long digestLo;

    CleanerOffsetMap(long memoryBytes) {
        this.maxSlots = (int) Math.max(1, Math.min(Integer.MAX_VALUE / 3, memoryBytes / BYTES_PER_ENTRY));
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required by the JDK", e);
        }
    }

    /** Entries the map could ever hold, whatever a pass asks for. */
    int maxCapacity() {
        return (int) (maxSlots * LOAD_FACTOR);
    }

    /** Empties the map, sized for {@code expectedEntries} (capped by the memory bound). */
    void reset(long expectedEntries) {
        int wanted = (int) Math.min(maxSlots, Math.max(16, (long) Math.ceil(expectedEntries / LOAD_FACTOR) + 1));
        if (table.length < 3 * wanted) {
            table = new long[3 * wanted];
        } else {
            Arrays.fill(table, 0, 3 * wanted, 0L); // a larger table is reused, its tail unused
        }
        slots = wanted;
        maxEntries = (int) (slots * LOAD_FACTOR);
        size = 0;
    }

    int size() {
        return size;
    }

    /** Room for {@code more} entries (a whole batch, so a batch is never split between passes). */
    boolean hasRoomFor(int more) {
        return (long) size + more <= maxEntries;
    }

    /** Records {@code offset} for the key bytes in buf[pos, pos+len); offsets must not decrease per key. */
    void put(ByteBuffer buf, int pos, int len, long offset) {
        digest(buf, pos, len);
        int slot = probe();
        int i = 3 * slot;
        if (table[i + 2] == 0) {
            table[i] = digestHi;
            table[i + 1] = digestLo;
            size++;
        }
        table[i + 2] = offset + 1; // 0 marks an empty slot
    }

    /** The latest offset of the key in buf[pos, pos+len), or -1 when it is not in the map. */
    long get(ByteBuffer buf, int pos, int len) {
        digest(buf, pos, len);
        return table[3 * probe() + 2] - 1;
    }

    void put(ByteBuffer key, long offset) {
        put(key, key.position(), key.remaining(), offset);
    }

    long get(ByteBuffer key) {
        return get(key, key.position(), key.remaining());
    }

    private void digest(ByteBuffer buf, int pos, int len) {
        if (buf.hasArray()) {
            md5.update(buf.array(), buf.arrayOffset() + pos, len);
        } else {
            ByteBuffer d = buf.duplicate();
            d.limit(pos + len).position(pos);
            md5.update(d);
        }
        try {
            md5.digest(digest, 0, 16);
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        digestHi = toLong(digest, 0);
        digestLo = toLong(digest, 8);
    }

    private static long toLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xffL);
        }
        return v;
    }

    /** Slot holding the current digest, or the empty slot where it would go (linear probing). */
    private int probe() {
        int slot = (int) Long.remainderUnsigned(digestHi ^ (digestLo * 31), slots);
        while (true) {
            int i = 3 * slot;
            if (table[i + 2] == 0 || (table[i] == digestHi && table[i + 1] == digestLo)) {
                return slot;
            }
            slot = slot + 1 == slots ? 0 : slot + 1;
        }
    }
}
