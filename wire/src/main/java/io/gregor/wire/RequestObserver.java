package io.gregor.wire;

/**
 * Told of every request once its answer is on the wire (or dropped: acks=0, a disconnect), with where its time
 * went: the broker clock's nanosecond stamps as Kafka's request metrics define them. Called on the connection's
 * event loop for every request, so it must be quick and must not block.
 */
public interface RequestObserver {
    RequestObserver NONE = (request, dequeuedNanos, localDoneNanos, answerReadyNanos, sendStartNanos, sentNanos) -> { };

    /**
     * @param request          the request; {@link KafkaRequest#receivedNanos()} is when its frame was decoded
     * @param dequeuedNanos    a request thread took it up (the end of its queue time)
     * @param localDoneNanos   the handler returned (what remains is waiting: purgatory, replication, coordinator)
     * @param answerReadyNanos its answer was complete
     * @param sendStartNanos   its answer was handed to the socket (after the answers before it, and any injected delay)
     * @param sentNanos        the socket took the answer's last byte (equal to sendStartNanos when nothing was sent)
     */
    void requestCompleted(KafkaRequest request, long dequeuedNanos, long localDoneNanos, long answerReadyNanos,
                          long sendStartNanos, long sentNanos);
}
