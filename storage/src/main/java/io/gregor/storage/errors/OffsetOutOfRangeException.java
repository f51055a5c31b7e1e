package io.gregor.storage.errors;

/** An offset outside the log (OFFSET_OUT_OF_RANGE). */
public class OffsetOutOfRangeException extends StorageException {
    public OffsetOutOfRangeException(String message) {
        super(message);
    }

    public OffsetOutOfRangeException(String message, Throwable cause) {
        super(message, cause);
    }
}
