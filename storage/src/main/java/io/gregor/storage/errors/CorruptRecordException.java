package io.gregor.storage.errors;

/** A batch failed CRC or structural validation (CORRUPT_MESSAGE). */
public class CorruptRecordException extends StorageException {
    public CorruptRecordException(String message) {
        super(message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
