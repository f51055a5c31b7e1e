package io.gregor.storage;

/**
 * What an append did. For a batch recognised as a duplicate of one of the producer's last five
 * batches, {@code duplicate} is true and the offsets are those the original append assigned.
 */
public record AppendResult(long firstOffset, long lastOffset, long logAppendTimeMs, long logStartOffset,
                           boolean duplicate) {
}
