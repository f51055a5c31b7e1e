package io.gregor.broker.handlers;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidProducerEpochException;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.InvalidTimestampException;
import io.gregor.storage.errors.InvalidTxnStateException;
import io.gregor.storage.errors.KafkaStorageException;
import io.gregor.storage.errors.OffsetOutOfRangeException;
import io.gregor.storage.errors.OutOfOrderSequenceException;
import io.gregor.storage.errors.RecordTooLargeException;
import io.gregor.storage.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.protocol.Errors;

/** Maps storage's own exceptions, which know nothing of the protocol, to Kafka's error codes. */
final class StorageErrors {
    private StorageErrors() {
    }

    static Errors toKafka(Throwable e) {
        if (e instanceof CorruptRecordException) {
            return Errors.CORRUPT_MESSAGE;
        } else if (e instanceof InvalidTimestampException) {
            return Errors.INVALID_TIMESTAMP;
        } else if (e instanceof InvalidRecordException) {
            return Errors.INVALID_RECORD;
        } else if (e instanceof RecordTooLargeException) {
            return Errors.MESSAGE_TOO_LARGE;
        } else if (e instanceof OffsetOutOfRangeException) {
            return Errors.OFFSET_OUT_OF_RANGE;
        } else if (e instanceof OutOfOrderSequenceException) {
            return Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
        } else if (e instanceof InvalidProducerEpochException) {
            return Errors.INVALID_PRODUCER_EPOCH;
        } else if (e instanceof InvalidTxnStateException) {
            return Errors.INVALID_TXN_STATE;
        } else if (e instanceof TransactionCoordinatorFencedException) {
            return Errors.TRANSACTION_COORDINATOR_FENCED;
        } else if (e instanceof KafkaStorageException) {
            return Errors.KAFKA_STORAGE_ERROR;
        }
        return Errors.forException(e);
    }
}
