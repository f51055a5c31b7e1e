package io.gregor.compat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stock idempotent producer writing numbered records as fast as the broker acknowledges them, on a
 * background thread, remembering which records were acknowledged, at which offset and in which phase of
 * the test. Used to prove that acknowledged writes survive broker restarts.
 */
final class AckedLoad implements AutoCloseable {
    record Ack(int partition, long offset, int phase) {
    }

    private final String topic;
    private final int partitions;
    private final KafkaProducer<String, String> producer;
    private final Thread sender;
    private final Semaphore outstanding = new Semaphore(1000);
    private final AtomicLong sent = new AtomicLong();
    private final AtomicInteger phase = new AtomicInteger(1);
    private final Map<String, Ack> acked = new ConcurrentHashMap<>();
    private final Map<String, String> failed = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> ackedPerPhase = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    AckedLoad(String bootstrap, String topic, int partitions) {
        this.topic = topic;
        this.partitions = partitions;
        // Generous timeouts: records must wait out the broker's downtime rather than fail.
        this.producer = Clients.producer(bootstrap, Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 180_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 180_000,
                ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500));
        this.sender = new Thread(this::sendLoop, "acked-load-" + topic);
        sender.setDaemon(true);
        sender.start();
    }

    private void sendLoop() {
        try {
            while (running) {
                if (!outstanding.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                long seq = sent.getAndIncrement();
                String value = "r" + seq;
                producer.send(new ProducerRecord<>(topic, (int) (seq % partitions), null, value), (md, e) -> {
                    outstanding.release();
                    if (e == null) {
                        int p = phase.get();
                        acked.put(value, new Ack(md.partition(), md.offset(), p));
                        ackedPerPhase.computeIfAbsent(p, k -> new AtomicInteger()).incrementAndGet();
                    } else {
                        failed.put(value, e.toString());
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Acks that arrive from now on are counted in {@code next}. */
    void enterPhase(int next) {
        phase.set(next);
    }

    int ackedIn(int p) {
        AtomicInteger n = ackedPerPhase.get(p);
        return n == null ? 0 : n.get();
    }

    /** Stops sending and waits until every record sent so far is acknowledged or failed. */
    void finish() {
        running = false;
        try {
            sender.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.flush();
    }

    long sent() {
        return sent.get();
    }

    Map<String, Ack> acked() {
        return acked;
    }

    Map<String, String> failed() {
        return failed;
    }

    @Override
    public void close() {
        running = false;
        producer.close(Duration.ofSeconds(10));
    }
}
