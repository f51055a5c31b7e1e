package io.gregor.storage;

/** Records read from a log plus the log's offsets at the time of the read. */
public record ReadResult(FileSlice records, long highWatermark, long logStartOffset, long logEndOffset) {
}
