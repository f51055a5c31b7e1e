package io.gregor.broker.metrics;

import com.yammer.metrics.core.Meter;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kafka.server:type=BrokerTopicMetrics, for all topics (no tag) and per topic (topic=T), as Kafka's
 * BrokerTopicStats: marked once per partition of a request with its counts, never per record.
 */
public final class TopicMetrics {
    static final String DOMAIN = "kafka.server";
    static final String TYPE = "BrokerTopicMetrics";

    private final BrokerMetrics metrics;
    private final Stats all;
    private final Meter replicationBytesOut;
    private final Map<String, Stats> byTopic = new ConcurrentHashMap<>();

    /** One topic's meters (or the all-topics ones). */
    public static final class Stats {
        final Meter messagesIn;
        final Meter bytesIn;
        final Meter bytesOut;
        final Meter failedProduce;
        final Meter failedFetch;
        final Meter totalProduce;
        final Meter totalFetch;

        private Stats(BrokerMetrics m, Map<String, String> tags) {
            messagesIn = m.meter(DOMAIN, TYPE, "MessagesInPerSec", "messages", tags);
            bytesIn = m.meter(DOMAIN, TYPE, "BytesInPerSec", "bytes", tags);
            bytesOut = m.meter(DOMAIN, TYPE, "BytesOutPerSec", "bytes", tags);
            failedProduce = m.meter(DOMAIN, TYPE, "FailedProduceRequestsPerSec", "requests", tags);
            failedFetch = m.meter(DOMAIN, TYPE, "FailedFetchRequestsPerSec", "requests", tags);
            totalProduce = m.meter(DOMAIN, TYPE, "TotalProduceRequestsPerSec", "requests", tags);
            totalFetch = m.meter(DOMAIN, TYPE, "TotalFetchRequestsPerSec", "requests", tags);
        }
    }

    TopicMetrics(BrokerMetrics metrics) {
        this.metrics = metrics;
        this.all = new Stats(metrics, Map.of());
        this.replicationBytesOut = metrics.meter(DOMAIN, TYPE, "ReplicationBytesOutPerSec", "bytes", Map.of());
    }

    private Stats topic(String topic) {
        Stats s = byTopic.get(topic);
        return s != null ? s : byTopic.computeIfAbsent(topic, t -> new Stats(metrics, Map.of("topic", t)));
    }

    /** A produce to one partition of {@code topic} was appended: its batch bytes and record count. */
    public void produced(String topic, long bytes, long records) {
        Stats t = topic(topic);
        t.totalProduce.mark();
        t.bytesIn.mark(bytes);
        t.messagesIn.mark(records);
        all.totalProduce.mark();
        all.bytesIn.mark(bytes);
        all.messagesIn.mark(records);
    }

    /** A produce to one partition failed unexpectedly (not for a known client-side error, as Kafka counts). */
    public void produceFailed(String topic) {
        Stats t = topic(topic);
        t.totalProduce.mark();
        t.failedProduce.mark();
        all.totalProduce.mark();
        all.failedProduce.mark();
    }

    /** A fetch answer carries {@code bytes} of one topic's records; a follower's counts as replication. */
    public void fetched(String topic, long bytes, boolean follower) {
        if (follower) {
            replicationBytesOut.mark(bytes);
            return;
        }
        Stats t = topic(topic);
        t.totalFetch.mark();
        t.bytesOut.mark(bytes);
        all.totalFetch.mark();
        all.bytesOut.mark(bytes);
    }

    /** A fetch of one partition failed unexpectedly. */
    public void fetchFailed(String topic) {
        Stats t = topic(topic);
        t.totalFetch.mark();
        t.failedFetch.mark();
        all.totalFetch.mark();
        all.failedFetch.mark();
    }

    /** Drops the per-topic metrics of topics no longer hosted here (deleted, or moved away), as Kafka does. */
    public void retainOnly(java.util.Set<String> hostedTopics, java.util.function.Predicate<String> hostedNow) {
        for (String topic : byTopic.keySet()) {
            // hostedNow: a topic created since the set was taken keeps its meters
            if (!hostedTopics.contains(topic) && !hostedNow.test(topic)) {
                removeTopic(topic);
            }
        }
    }

    /** The topic is gone: its per-topic metrics go too, as Kafka's do. */
    public void removeTopic(String topic) {
        if (byTopic.remove(topic) != null) {
            Map<String, String> tags = Map.of("topic", topic);
            for (String name : new String[]{"MessagesInPerSec", "BytesInPerSec", "BytesOutPerSec",
                    "FailedProduceRequestsPerSec", "FailedFetchRequestsPerSec", "TotalProduceRequestsPerSec",
                    "TotalFetchRequestsPerSec"}) {
                metrics.remove(DOMAIN, TYPE, name, tags);
            }
        }
    }
}
