package io.gregor.coordinator;

/** A committed offset as stored in an OffsetCommit value; {@code expireTimestamp} is -1 unless v1 set it. */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestamp,
                              long expireTimestamp) {
}
