package io.gregor.broker.quota;

/** The client quotas Gregor enforces, by Kafka's config key. */
enum QuotaType {
    /** Bytes per second of produce requests. */
    PRODUCE("producer_byte_rate"),
    /** Bytes per second of fetch responses to consumers. */
    FETCH("consumer_byte_rate"),
    /** Percent of one request thread's time per second (200 = two threads). */
    REQUEST("request_percentage");

    final String key;

    QuotaType(String key) {
        this.key = key;
    }
}
