package io.gregor.compat;

import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * A KafkaConsumer with {@code group.protocol=consumer} (KIP-848) polling on its own thread, subscribed by
 * whatever {@code subscribe} does (topic names or a pattern); commits what it read after each poll.
 */
final class ConsumerProtocolMember implements AutoCloseable {
    private final Thread thread;
    private final AtomicReference<Set<TopicPartition>> assignment = new AtomicReference<>(Set.of());
    final List<ConsumerRecord<String, String>> records = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running = true;

    ConsumerProtocolMember(Properties props, BiConsumer<KafkaConsumer<String, String>, ConsumerRebalanceListener> subscribe,
                           String name) {
        Properties p = new Properties();
        p.putAll(props);
        p.put("group.protocol", "consumer");
        // the consumer protocol takes its timeouts from the broker; the classic client settings are refused
        p.remove("session.timeout.ms");
        p.remove("heartbeat.interval.ms");
        thread = new Thread(() -> {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
                subscribe.accept(consumer, new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    }
                });
                boolean uncommitted = false;
                while (running) {
                    var polled = consumer.poll(Duration.ofMillis(100));
                    polled.forEach(records::add);
                    assignment.set(Set.copyOf(consumer.assignment()));
                    uncommitted |= !polled.isEmpty();
                    if (uncommitted) {
                        try {
                            consumer.commitSync();
                            uncommitted = false;
                        } catch (RetriableException | CommitFailedException e) {
                            // the member's epoch moved on meanwhile (a rebalance): commit again next time round
                        }
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Subscribed to topics by name. */
    static ConsumerProtocolMember subscribed(Properties props, List<String> topics, String name) {
        return new ConsumerProtocolMember(props, (c, listener) -> c.subscribe(topics, listener), name);
    }

    Set<TopicPartition> assignment() {
        if (failure.get() != null) {
            throw new AssertionError("consumer " + thread.getName() + " failed", failure.get());
        }
        return assignment.get();
    }

    /** What made the consumer stop, or null while it runs. */
    Throwable failure() {
        return failure.get();
    }

    /** Leaves the group (close sends the leave heartbeat) and waits for it. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(30_000);
    }
}
