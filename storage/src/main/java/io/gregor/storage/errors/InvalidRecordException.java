package io.gregor.storage.errors;

/** A batch is well-formed but breaks a rule, e.g. wrong magic or offsets (INVALID_RECORD). */
public class InvalidRecordException extends StorageException {
    private final int recordIndex;

    public InvalidRecordException(String message) {
        this(message, -1);
    }

    /** A rule broken by one record: {@code recordIndex} is its index in the batch (ProduceResponse record_errors). */
    public InvalidRecordException(String message, int recordIndex) {
        super(message);
        this.recordIndex = recordIndex;
    }

    public InvalidRecordException(String message, Throwable cause) {
        super(message, cause);
        this.recordIndex = -1;
    }

    /** The index within its batch of the record at fault, or -1 when the fault is the batch's. */
    public int recordIndex() {
        return recordIndex;
    }
}
