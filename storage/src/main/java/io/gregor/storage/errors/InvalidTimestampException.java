package io.gregor.storage.errors;

import java.util.Arrays;

/**
 * Records whose timestamps break the topic's rules (message.timestamp.before.max.ms / after.max.ms, or a
 * producer claiming LogAppendTime): INVALID_TIMESTAMP, with one record error per failing record, as Kafka's
 * RecordValidationException carries them.
 */
public class InvalidTimestampException extends StorageException {
    private final int[] recordIndexes;
    private final String[] recordMessages;

    public InvalidTimestampException(int[] recordIndexes, String[] recordMessages, int count) {
        super("One or more records have been rejected due to invalid timestamp");
        this.recordIndexes = Arrays.copyOf(recordIndexes, count);
        this.recordMessages = Arrays.copyOf(recordMessages, count);
    }

    /** How many records failed. */
    public int recordErrorCount() {
        return recordIndexes.length;
    }

    /** The index within its batch of the i-th failing record. */
    public int recordIndex(int i) {
        return recordIndexes[i];
    }

    public String recordMessage(int i) {
        return recordMessages[i];
    }
}
