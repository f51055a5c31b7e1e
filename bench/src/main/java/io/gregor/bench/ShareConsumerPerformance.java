package io.gregor.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Share-group consume throughput (KIP-932): CONSUMERS {@code KafkaShareConsumer}s of one share group read a
 * 1-partition topic that holds RECORDS records, acknowledging implicitly (each poll accepts the previous one's
 * records), until every offset was delivered. The group starts from the earliest offset
 * ({@code share.auto.offset.reset=earliest}, a group config set through the admin client first).
 * Usage: ShareConsumerPerformance BOOTSTRAP TOPIC RECORDS CONSUMERS TIMEOUT_MS
 * Prints {@code share-consume records=N ms=T records/s=R redelivered=D first-record-ms=F}: T (and R) run from
 * creating the consumers, so they include F, the wait for the first record (joining, the group coordinator's
 * InitializeShareGroupState of the partition, and the assignment on a later heartbeat: about one
 * group.share.heartbeat.interval.ms, 5 s by default, on Kafka 4.4 too).
 */
public final class ShareConsumerPerformance {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int expected = Integer.parseInt(args[2]);
        int consumers = Integer.parseInt(args[3]);
        long timeoutMs = Long.parseLong(args[4]);
        String group = "share-bench-" + System.nanoTime();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        BitSet seen = new BitSet(expected);
        AtomicLong deliveries = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong firstRecordNanos = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < consumers; i++) {
            Thread t = new Thread(() -> {
                try (KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(props)) {
                    consumer.subscribe(List.of(topic));
                    while (!stop.get()) {
                        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                            if (deliveries.incrementAndGet() == 1) {
                                firstRecordNanos.set(System.nanoTime());
                            }
                            if (r.offset() < expected) {
                                synchronized (seen) {
                                    seen.set((int) r.offset());
                                }
                            }
                        }
                    }
                    consumer.commitSync(); // the last poll's records, so the group's state ends acknowledged
                }
            }, "share-consumer-" + i);
            t.start();
            threads.add(t);
        }
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int delivered;
        while (true) {
            synchronized (seen) {
                delivered = seen.cardinality();
            }
            if (delivered >= expected || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(5);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        if (delivered < expected) {
            System.out.println("WARNING: delivered " + delivered + " of " + expected + " records within " + timeoutMs + " ms");
            System.exit(1);
        }
        System.out.printf("share-consume records=%d ms=%d records/s=%.1f redelivered=%d first-record-ms=%d%n", expected,
                ms, expected * 1000.0 / Math.max(ms, 1), deliveries.get() - expected,
                TimeUnit.NANOSECONDS.toMillis(firstRecordNanos.get() - start));
    }
}
