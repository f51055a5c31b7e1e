package io.gregor.compat.chaos;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The clients of a chaos run, each on its own thread, recording into a {@link History}: idempotent acks=all
 * producers, transactional producers that commit most transactions and abort some on purpose, read_committed
 * group consumers committing what they read, and an admin client watching the group's committed offsets.
 */
final class Workload {
    static final int IDEMPOTENT_PRODUCERS = 2;
    static final int TRANSACTIONAL_PRODUCERS = 2;
    static final int CONSUMERS = 2;
    /** Paced, so a long run's history stays small and the brokers keep some CPU for recovery. */
    static final int IDEMPOTENT_WRITES_PER_SECOND = 150;
    static final int TRANSACTIONS_PER_SECOND = 8;

    private final String bootstrap;
    private final String topic;
    private final int partitions;
    private final String group;
    private final History history;
    private final List<Thread> writers = new ArrayList<>();
    private final List<Thread> readers = new ArrayList<>();
    private final AtomicInteger producerIds = new AtomicInteger();
    private final AtomicInteger consumerIds = new AtomicInteger();
    private volatile boolean writing = true;
    private volatile boolean reading = true;

    Workload(String bootstrap, String topic, int partitions, String group, History history) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.partitions = partitions;
        this.group = group;
        this.history = history;
    }

    void start() {
        for (int i = 0; i < IDEMPOTENT_PRODUCERS; i++) {
            writers.add(thread("idempotent-" + i, this::idempotentLoop));
        }
        for (int i = 0; i < TRANSACTIONAL_PRODUCERS; i++) {
            int writer = i;
            writers.add(thread("transactional-" + i, () -> transactionalLoop(writer)));
        }
        for (int i = 0; i < CONSUMERS; i++) {
            readers.add(thread("group-consumer-" + i, this::consumerLoop));
        }
        readers.add(thread("offsets-monitor", this::offsetsMonitorLoop));
    }

    /** Stops producing and waits for every write in flight to be acknowledged or to fail. */
    void stopWriting() throws InterruptedException {
        writing = false;
        for (Thread t : writers) {
            t.join(TimeUnit.MINUTES.toMillis(4));
        }
    }

    void stopReading() throws InterruptedException {
        reading = false;
        for (Thread t : readers) {
            t.join(TimeUnit.MINUTES.toMillis(2));
        }
    }

    private Thread thread(String name, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                history.clientError(name + " died", e);
                e.printStackTrace();
            }
        }, "chaos-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private Map<String, Object> producerProps() {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        props.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        return props;
    }

    private void idempotentLoop() {
        Semaphore inFlight = new Semaphore(200);
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / IDEMPOTENT_WRITES_PER_SECOND;
        while (writing) {
            int producerId = producerIds.incrementAndGet();
            KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps());
            try {
                long next = System.nanoTime();
                for (long seq = 0; writing; seq++) {
                    next += intervalNanos;
                    LockSupport.parkNanos(next - System.nanoTime());
                    while (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        if (!writing) {
                            break;
                        }
                    }
                    if (!writing) {
                        break;
                    }
                    String value = "i" + producerId + ":" + seq;
                    long s = seq;
                    history.idempotentSent.incrementAndGet();
                    producer.send(new ProducerRecord<>(topic, (int) (seq % partitions), null, value), (md, e) -> {
                        inFlight.release();
                        if (e == null) {
                            history.acks.add(new History.Ack(value, producerId, s, md.partition(), md.offset()));
                        } else {
                            history.idempotentFailed.incrementAndGet();
                            history.clientError("idempotent send", e);
                        }
                    });
                }
                producer.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // a fatal producer error: carry on with a new producer (new id, so ordering is checked per producer)
                history.clientError("idempotent producer", e);
            } finally {
                producer.close(Duration.ofSeconds(30));
            }
        }
    }

    private void transactionalLoop(int writer) {
        Random random = new Random(writer);
        String transactionalId = "chaos-txn-" + writer;
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, TRANSACTIONS_PER_SECOND / TRANSACTIONAL_PRODUCERS);
        long number = 0;
        while (writing) {
            Map<String, Object> props = producerProps();
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 15_000);
            KafkaProducer<String, String> producer = new KafkaProducer<>(props);
            String stage = "initTransactions";
            try {
                producer.initTransactions();
                long next = System.nanoTime();
                while (writing) {
                    next += intervalNanos;
                    LockSupport.parkNanos(next - System.nanoTime());
                    History.Txn txn = new History.Txn(writer, number++);
                    history.txns.add(txn);
                    stage = "beginTransaction";
                    producer.beginTransaction();
                    stage = "send";
                    int records = 1 + random.nextInt(4);
                    boolean abort = random.nextInt(4) == 0;
                    try {
                        for (int k = 0; k < records; k++) {
                            String value = txn.id + ":" + k;
                            txn.values.add(value);
                            producer.send(new ProducerRecord<>(topic, random.nextInt(partitions), null, value), (md, e) -> {
                                if (e == null) {
                                    txn.acked.put(value, new long[] {md.partition(), md.offset()});
                                }
                            });
                        }
                        if (abort) {
                            stage = "abortTransaction";
                            producer.abortTransaction();
                            txn.outcome = History.Outcome.ABORTED;
                        }
                    } catch (RuntimeException e) {
                        // commitTransaction was never called: this transaction can only end aborted
                        txn.outcome = History.Outcome.ABORTED;
                        throw e;
                    }
                    if (!abort) {
                        stage = "commitTransaction";
                        try {
                            producer.commitTransaction();
                            txn.outcome = History.Outcome.COMMITTED;
                        } catch (RuntimeException e) {
                            // the commit may or may not have been written: the final read decides
                            txn.outcome = History.Outcome.UNKNOWN;
                            throw e;
                        }
                    }
                }
            } catch (RuntimeException e) {
                history.clientError("transactional producer (" + stage + ")", e);
            } finally {
                producer.close(Duration.ofSeconds(5));
            }
        }
    }

    private KafkaConsumer<String, String> groupConsumer() {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
        props.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        return new KafkaConsumer<>(props);
    }

    private void consumerLoop() {
        AtomicLong ownership = new AtomicLong();
        while (reading) {
            int consumerId = consumerIds.incrementAndGet();
            Map<TopicPartition, Long> committed = new HashMap<>();
            long[] committedIn = {-1};
            try (KafkaConsumer<String, String> consumer = groupConsumer()) {
                consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                        ownership.incrementAndGet();
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                        ownership.incrementAndGet();
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> lost) {
                        ownership.incrementAndGet();
                    }
                });
                while (reading) {
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                    long owned = ownership.get();
                    if (owned != committedIn[0]) {
                        committed.clear();
                        committedIn[0] = owned;
                    }
                    for (ConsumerRecord<String, String> r : records) {
                        history.reads.add(new History.Read(consumerId, owned, r.partition(), r.offset(), r.value()));
                    }
                    // commit positions, not last offset + 1: a position steps over transaction markers too
                    Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
                    for (TopicPartition tp : consumer.assignment()) {
                        long position;
                        try {
                            position = consumer.position(tp, Duration.ofSeconds(1));
                        } catch (RuntimeException e) {
                            continue;
                        }
                        if (position > committed.getOrDefault(tp, -1L)) {
                            toCommit.put(tp, new OffsetAndMetadata(position));
                        }
                    }
                    if (toCommit.isEmpty()) {
                        continue;
                    }
                    long sentAt = history.nowMs();
                    try {
                        consumer.commitSync(toCommit);
                    } catch (RuntimeException e) {
                        history.clientError("commitSync", e);
                        long failedAt = history.nowMs();
                        toCommit.forEach((tp, o) -> history.failedCommits.add(
                                new History.Commit(consumerId, tp.partition(), o.offset(), sentAt, failedAt)));
                        continue;
                    }
                    long ackedAt = history.nowMs();
                    toCommit.forEach((tp, o) -> {
                        committed.put(tp, o.offset());
                        history.commits.add(new History.Commit(consumerId, tp.partition(), o.offset(), sentAt, ackedAt));
                    });
                }
            } catch (RuntimeException e) {
                history.clientError("group consumer", e);
            }
        }
    }

    private void offsetsMonitorLoop() {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap,
                "default.api.timeout.ms", 10_000, "request.timeout.ms", 5_000))) {
            while (reading) {
                long started = history.nowMs();
                try {
                    Map<TopicPartition, OffsetAndMetadata> offsets =
                            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(15, TimeUnit.SECONDS);
                    Map<Integer, Long> mine = new HashMap<>();
                    offsets.forEach((tp, o) -> {
                        if (tp.topic().equals(topic) && o != null) {
                            mine.put(tp.partition(), o.offset());
                        }
                    });
                    history.observations.add(new History.OffsetsObservation(started, mine));
                } catch (Exception e) {
                    history.clientError("listConsumerGroupOffsets", e);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
            }
        }
    }

    /** Latest offsets of the topic's partitions as read_committed (last stable offset) and read_uncommitted see them. */
    static Map<Integer, long[]> stableAndEndOffsets(Admin admin, String topic, int partitions) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        var committed = admin.listOffsets(latest, new org.apache.kafka.clients.admin.ListOffsetsOptions(
                org.apache.kafka.common.IsolationLevel.READ_COMMITTED)).all().get(15, TimeUnit.SECONDS);
        var uncommitted = admin.listOffsets(latest).all().get(15, TimeUnit.SECONDS);
        Map<Integer, long[]> out = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            out.put(p, new long[] {committed.get(tp).offset(), uncommitted.get(tp).offset()});
        }
        return out;
    }
}
