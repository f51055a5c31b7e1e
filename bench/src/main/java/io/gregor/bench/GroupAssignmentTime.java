package io.gregor.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How long three consumers of one topic take until every partition is assigned to exactly one of them, with
 * the classic or the consumer (KIP-848) group protocol: from the three subscribe calls to the first moment the
 * assignments cover the topic without overlap. Each repeat uses a fresh group; the first is a warm-up of the
 * tool's own JVM and is not printed.
 * Usage: GroupAssignmentTime BOOTSTRAP TOPIC PARTITIONS PROTOCOL REPEATS TIMEOUT_MS
 * Prints one line per repeat: {@code assigned PROTOCOL ms=N}.
 */
public final class GroupAssignmentTime {
    private static final int CONSUMERS = 3;

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        String protocol = args[3];
        int repeats = Integer.parseInt(args[4]);
        long timeoutMs = Long.parseLong(args[5]);
        for (int repeat = 0; repeat <= repeats; repeat++) {
            long ms = once(bootstrap, topic, partitions, protocol, "assign-" + protocol + "-" + repeat + "-"
                    + System.nanoTime(), timeoutMs);
            if (repeat > 0) {
                System.out.println("assigned " + protocol + " ms=" + ms);
            }
        }
    }

    private static long once(String bootstrap, String topic, int partitions, String protocol, String group,
                             long timeoutMs) throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<Set<TopicPartition>> owned = new ArrayList<>();
        for (int i = 0; i < CONSUMERS; i++) {
            owned.add(ConcurrentHashMap.newKeySet());
        }
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < CONSUMERS; i++) {
            Set<TopicPartition> mine = owned.get(i);
            Thread t = new Thread(() -> {
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
                    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                        @Override
                        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                            mine.removeAll(revoked);
                        }

                        @Override
                        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                            mine.addAll(assigned);
                        }

                        @Override
                        public void onPartitionsLost(Collection<TopicPartition> lost) {
                            mine.removeAll(lost);
                        }
                    });
                    while (!stop.get()) {
                        consumer.poll(Duration.ofMillis(20));
                        if (coversOnce(owned, partitions)) {
                            done.countDown();
                        }
                    }
                }
            }, "consumer-" + i);
            t.start();
            threads.add(t);
        }
        boolean assigned = done.await(timeoutMs, TimeUnit.MILLISECONDS);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        if (!assigned) {
            System.out.println("WARNING: not all " + partitions + " partitions assigned to " + CONSUMERS
                    + " consumers within " + timeoutMs + " ms: " + owned);
            System.exit(1);
        }
        return ms;
    }

    /** Every consumer has partitions, and together they hold each partition exactly once. */
    private static boolean coversOnce(List<Set<TopicPartition>> owned, int partitions) {
        Set<TopicPartition> all = new HashSet<>();
        int count = 0;
        for (Set<TopicPartition> s : owned) {
            List<TopicPartition> snapshot = List.copyOf(s);
            if (snapshot.isEmpty()) {
                return false;
            }
            all.addAll(snapshot);
            count += snapshot.size();
        }
        return all.size() == partitions && count == partitions;
    }
}
