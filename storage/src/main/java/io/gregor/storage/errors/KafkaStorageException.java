package io.gregor.storage.errors;

/** An I/O failure on the log dir (KAFKA_STORAGE_ERROR). */
public class KafkaStorageException extends StorageException {
    public KafkaStorageException(String message) {
        super(message);
    }

    public KafkaStorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
