package io.gregor.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * Reads a whole topic with {@code assign()} and no consumer group, with ConsumerPerformance's fetch
 * settings, and prints that tool's summary format. It measures the fetch path on a broker without
 * consumer groups, where ConsumerPerformance (which subscribes) cannot run.
 * Usage: AssignConsumerPerformance BOOTSTRAP TOPIC RECORDS TIMEOUT_MS [ISOLATION_LEVEL [CLIENT_CONFIG_FILE]]
 * (read_uncommitted, the consumer's default, or read_committed; the file: e.g. TLS settings).
 */
public final class AssignConsumerPerformance {
    public static void main(String[] args) {
        String bootstrap = args[0];
        String topic = args[1];
        long expected = Long.parseLong(args[2]);
        long timeoutMs = Long.parseLong(args[3]);
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024); // ConsumerPerformance --fetch-size
        props.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, 2 * 1024 * 1024);       // --socket-buffer-size
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, args.length > 4 ? args[4] : "read_uncommitted");
        if (args.length > 5) {
            try (var in = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(args[5]))) {
                props.load(in);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        long start = System.currentTimeMillis();
        long fetchStart = start;
        long records = 0;
        long bytes = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            fetchStart = System.currentTimeMillis();
            long lastConsumed = System.currentTimeMillis();
            while (records < expected && System.currentTimeMillis() - lastConsumed <= timeoutMs) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
                if (!batch.isEmpty()) {
                    lastConsumed = System.currentTimeMillis();
                }
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    records++;
                    bytes += r.serializedValueSize() < 0 ? 0 : r.serializedValueSize();
                    bytes += r.serializedKeySize() < 0 ? 0 : r.serializedKeySize();
                }
            }
        }
        long end = System.currentTimeMillis();
        double seconds = Math.max(end - start, 1) / 1000.0;
        double fetchSeconds = Math.max(end - fetchStart, 1) / 1000.0;
        double mb = bytes / (1024.0 * 1024.0);
        if (records < expected) {
            System.out.printf("WARNING: Exiting before consuming the expected number of records: %d of %d%n",
                    records, expected);
        }
        // ConsumerPerformance's columns; the fetch phase starts once the partitions are assigned (no rebalance).
        System.out.println("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
                + "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec");
        System.out.printf("%d, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f%n", start, end, mb, mb / seconds, records,
                records / seconds, 0, end - fetchStart, mb / fetchSeconds, records / fetchSeconds);
    }
}
