package io.gregor.coordinator.txn;

/**
 * The transaction coordinator's settings, Kafka's keys: transaction.max.timeout.ms,
 * transaction.abort.timed.out.transaction.cleanup.interval.ms, transactional.id.expiration.ms and
 * transaction.remove.expired.transaction.cleanup.interval.ms. {@code markerRetryBackoffMs} paces marker
 * retries while a partition has no reachable leader.
 */
public record TransactionConfig(int maxTimeoutMs, long abortTimedOutIntervalMs, long transactionalIdExpirationMs,
                                long removeExpiredIntervalMs, long markerRetryBackoffMs) {
}
