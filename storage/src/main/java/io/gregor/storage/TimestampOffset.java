package io.gregor.storage;

/** An offset found by timestamp: the record's offset and timestamp, and the leader epoch of its batch. */
public record TimestampOffset(long timestamp, long offset, int leaderEpoch) {
}
