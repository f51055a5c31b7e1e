package io.gregor.coordinator;

/** One record of {@code __consumer_offsets}: its key bytes and value bytes, a null value being a tombstone. */
public record CoordinatorRecord(byte[] key, byte[] value) {
}
