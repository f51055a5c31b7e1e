package io.gregor.storage.errors;

/** Base of storage errors; each subclass names the Kafka error the broker answers with. */
public class StorageException extends RuntimeException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
