package io.gregor.storage.errors;

/** A batch is larger than max.message.bytes (MESSAGE_TOO_LARGE). */
public class RecordTooLargeException extends StorageException {
    public RecordTooLargeException(String message) {
        super(message);
    }

    public RecordTooLargeException(String message, Throwable cause) {
        super(message, cause);
    }
}
