package io.gregor.broker;

import io.gregor.broker.metadata.MetadataStore;

import java.util.function.LongSupplier;

/**
 * Producer ids never used before, even across restarts: reserved from the metadata store in blocks, so a
 * restart skips the unused rest of a block rather than reusing it. Idempotent producers and the
 * transaction coordinator draw from the same allocator.
 */
public final class ProducerIdAllocator implements LongSupplier {
    private static final int BLOCK_SIZE = 1000;

    private final MetadataStore store;
    private long next;
    private long blockEnd;

    public ProducerIdAllocator(MetadataStore store) {
        this.store = store;
    }

    @Override
    public synchronized long getAsLong() {
        if (next >= blockEnd) {
            next = store.allocateProducerIds(BLOCK_SIZE);
            blockEnd = next + BLOCK_SIZE;
        }
        return next++;
    }
}
