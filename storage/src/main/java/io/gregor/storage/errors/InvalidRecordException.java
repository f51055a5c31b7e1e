package io.gregor.storage.errors;

/** A batch is well-formed but breaks a rule, e.g. wrong magic or offsets (INVALID_RECORD). */
public class InvalidRecordException extends StorageException {
    public InvalidRecordException(String message) {
        super(message);
    }

    public InvalidRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
