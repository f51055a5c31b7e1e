package io.gregor.coordinator;

/**
 * A coordinator whose state lives in the partitions of an internal topic: it serves the keys of a
 * partition while this broker leads it, loading them on election and dropping them on resignation.
 */
public interface PartitionLeadershipListener {
    /** This broker now leads {@code partition}: load its state (in the background). */
    void onElection(int partition);

    /** Another broker leads {@code partition} now: forget its state; clients must find the new coordinator. */
    void onResignation(int partition);
}
