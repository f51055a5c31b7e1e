package io.gregor.storage.errors;

/** A producer epoch older than the one seen (INVALID_PRODUCER_EPOCH). */
public class InvalidProducerEpochException extends StorageException {
    public InvalidProducerEpochException(String message) {
        super(message);
    }

    public InvalidProducerEpochException(String message, Throwable cause) {
        super(message, cause);
    }
}
