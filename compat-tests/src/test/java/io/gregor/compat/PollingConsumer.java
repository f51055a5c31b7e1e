package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** A subscribed KafkaConsumer polling on its own thread, so several members of a group rebalance together. */
final class PollingConsumer implements AutoCloseable {
    private final Thread thread;
    private final AtomicReference<Set<TopicPartition>> assignment = new AtomicReference<>(Set.of());
    final List<ConsumerRecord<String, String>> records = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running = true;
    /** How often the consumer's rebalance listener was told of an assignment: once per rebalance it took part in. */
    final AtomicInteger assignments = new AtomicInteger();

    PollingConsumer(Properties props, String topic, String name) {
        thread = new Thread(() -> {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
                consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        assignments.incrementAndGet();
                    }
                });
                while (running) {
                    consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                    assignment.set(Set.copyOf(consumer.assignment()));
                    if (!records.isEmpty() && "false".equals(props.getProperty("enable.auto.commit"))) {
                        consumer.commitSync();
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    Set<TopicPartition> assignment() {
        if (failure.get() != null) {
            throw new AssertionError("consumer " + thread.getName() + " failed", failure.get());
        }
        return assignment.get();
    }

    /** What ended the consumer's thread, or null while it polls. */
    Throwable failure() {
        return failure.get();
    }

    /** Leaves the group (close sends LeaveGroup) and waits for it. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(30_000);
    }
}
