package io.gregor.coordinator.share;

import io.gregor.coordinator.share.ShareStateStore.StateBatch;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the share coordinator applies a WriteShareGroupState's batches to the stored ones (Kafka's batch combining). */
class ShareStateMergeTest {
    private static StateBatch b(long first, long last, int state, int count) {
        return new StateBatch(first, last, (byte) state, (short) count);
    }

    @Test
    void writtenBatchesReplaceStoredOnesWhereTheyOverlap() {
        List<StateBatch> stored = List.of(b(5, 9, 0, 1), b(10, 14, 2, 1));
        assertEquals(List.of(b(5, 5, 0, 1), b(6, 7, 2, 1), b(8, 11, 4, 3), b(12, 14, 2, 1)),
                ShareStateStore.merge(stored, List.of(b(8, 11, 4, 3), b(6, 7, 2, 1)), 5));
    }

    @Test
    void batchesBelowTheNewStartOffsetAreDropped() {
        List<StateBatch> stored = List.of(b(0, 4, 2, 1), b(5, 9, 0, 2));
        assertEquals(List.of(b(7, 9, 0, 2), b(10, 10, 2, 1)),
                ShareStateStore.merge(stored, List.of(b(3, 3, 2, 1), b(10, 10, 2, 1)), 7));
    }

    @Test
    void aWholeStateReplacesEverything() {
        List<StateBatch> stored = List.of(b(0, 2, 0, 1), b(3, 3, 2, 1));
        List<StateBatch> whole = List.of(b(0, 1, 2, 1), b(2, 5, 0, 1));
        assertEquals(whole, ShareStateStore.merge(stored, whole, 0));
    }
}
