package io.gregor.storage;

/**
 * Kafka's VerificationGuard (KIP-890 part 1): the token a partition leader takes from the log before it asks the
 * transaction coordinator whether a producer's transaction includes the partition. A marker or transactional
 * batch of that producer written meanwhile retires the token, so an append that arrives with a stale one (the
 * transaction was aborted or completed while the answer was on its way) is refused instead of opening a
 * transaction nobody will end. Compared by identity.
 */
public final class VerificationGuard {
    /** No verification took place for this append (the caller saw the transaction already open here). */
    public static final VerificationGuard SENTINEL = new VerificationGuard();

    VerificationGuard() {
    }

    @Override
    public String toString() {
        return this == SENTINEL ? "VerificationGuard(SENTINEL)" : "VerificationGuard@" + Integer.toHexString(hashCode());
    }
}
