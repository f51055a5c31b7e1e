package io.gregor.storage;

/**
 * One aborted transaction of a partition, as Kafka's {@code .txnindex} stores it: the producer, the offsets of
 * its first record and of its abort marker, and the last stable offset once the abort was written (no
 * transaction open below it), which lets a search stop early.
 */
public record AbortedTxn(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
}
