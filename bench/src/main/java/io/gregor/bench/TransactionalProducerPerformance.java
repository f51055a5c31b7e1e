package io.gregor.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Arrays;
import java.util.Properties;
import java.util.Random;

/**
 * Produces RECORDS records of RECORD_SIZE bytes with a transactional producer, committing every
 * RECORDS_PER_TXN records, and prints ProducerPerformance's final line (so the harness reads both tools
 * alike). ProducerPerformance itself can only commit by elapsed time, not by record count. Latency is
 * send to acknowledgement per record, as ProducerPerformance measures it; a record is only readable
 * by a read_committed consumer once its transaction commits, which this line does not include.
 * Usage: TransactionalProducerPerformance BOOTSTRAP TOPIC RECORDS RECORD_SIZE RECORDS_PER_TXN
 */
public final class TransactionalProducerPerformance {
    public static void main(String[] args) {
        String bootstrap = args[0];
        String topic = args[1];
        int records = Integer.parseInt(args[2]);
        int recordSize = Integer.parseInt(args[3]);
        int perTxn = Integer.parseInt(args[4]);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-txn-" + topic);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        byte[] payload = new byte[recordSize];
        Random random = new Random(0);
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) ('A' + random.nextInt(26)); // ProducerPerformance's payload alphabet
        }
        int[] latencies = new int[records];
        long start;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            start = System.currentTimeMillis();
            for (int sent = 0; sent < records; ) {
                producer.beginTransaction();
                int end = Math.min(records, sent + perTxn);
                for (; sent < end; sent++) {
                    int index = sent;
                    long sendMs = System.currentTimeMillis();
                    // a failed send makes commitTransaction throw, which ends the run with no summary line
                    producer.send(new ProducerRecord<>(topic, payload),
                            (metadata, error) -> latencies[index] = (int) (System.currentTimeMillis() - sendMs));
                }
                producer.commitTransaction();
            }
        }
        long elapsed = Math.max(System.currentTimeMillis() - start, 1);
        double recsPerSec = records * 1000.0 / elapsed;
        double mbPerSec = recsPerSec * recordSize / (1024.0 * 1024.0);
        int[] sorted = latencies.clone();
        Arrays.sort(sorted);
        double avg = Arrays.stream(latencies).average().orElse(0);
        System.out.printf("%d records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "
                        + "%d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.%n", records, recsPerSec, mbPerSec, avg,
                (double) sorted[sorted.length - 1], pct(sorted, 0.5), pct(sorted, 0.95), pct(sorted, 0.99),
                pct(sorted, 0.999));
    }

    private static int pct(int[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }
}
