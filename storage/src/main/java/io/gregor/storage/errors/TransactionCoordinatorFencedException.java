package io.gregor.storage.errors;

/** A marker from a coordinator older than the last one seen (TRANSACTION_COORDINATOR_FENCED). */
public class TransactionCoordinatorFencedException extends StorageException {
    public TransactionCoordinatorFencedException(String message) {
        super(message);
    }

    public TransactionCoordinatorFencedException(String message, Throwable cause) {
        super(message, cause);
    }
}
