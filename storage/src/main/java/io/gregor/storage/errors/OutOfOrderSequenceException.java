package io.gregor.storage.errors;

/** A producer sequence gap (OUT_OF_ORDER_SEQUENCE_NUMBER). */
public class OutOfOrderSequenceException extends StorageException {
    public OutOfOrderSequenceException(String message) {
        super(message);
    }

    public OutOfOrderSequenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
