package io.gregor.storage.errors;

/** A producer wrote outside the transaction it has open (INVALID_TXN_STATE). */
public class InvalidTxnStateException extends StorageException {
    public InvalidTxnStateException(String message) {
        super(message);
    }

    public InvalidTxnStateException(String message, Throwable cause) {
        super(message, cause);
    }
}
