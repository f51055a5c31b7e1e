package io.gregor.compat.clients;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The Java-client scenario of the version matrix. It is compiled against the pinned kafka-clients but
 * loaded into a class loader holding an older kafka-clients jar, so it may call only API present since
 * 2.8 (the one call that changed, describeTopics' result, goes through reflection) and may reference
 * nothing but the JDK and kafka-clients. Each step is one {@link #apply} call; failures are thrown as
 * JDK exceptions so that they cross the class loader boundary intact.
 */
public final class JavaClientScenario implements Function<Map<String, String>, String> {
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 30;
    private static final Duration POLL_DEADLINE = Duration.ofSeconds(30);

    private String bootstrap;
    private String topic;
    /** What the produce step wrote: "partition:offset" to "key=value". */
    private final Map<String, String> produced = new TreeMap<>();

    @Override
    public String apply(Map<String, String> args) {
        bootstrap = args.get("bootstrap");
        topic = args.get("topic");
        // Kafka resolves configured classes (serializers, reporters) through the context class loader.
        Thread thread = Thread.currentThread();
        ClassLoader callers = thread.getContextClassLoader();
        thread.setContextClassLoader(JavaClientScenario.class.getClassLoader());
        try {
            switch (args.get("step")) {
                case "version":
                    return kafkaClientsVersion();
                case "create-topic":
                    return createTopic();
                case "produce-keyed":
                    return produceKeyed();
                case "consume-assign":
                    return consumeAssigned();
                case "group-commit-resume":
                    return groupCommitAndResume(args.get("group"));
                case "admin-list-describe-delete":
                    return listDescribeDelete();
                default:
                    throw new IllegalArgumentException("unknown step " + args.get("step"));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.toString(), e);
        } finally {
            thread.setContextClassLoader(callers);
        }
    }

    /** From the jar's own version file: the class that reads it moved between versions. */
    static String kafkaClientsVersion() throws java.io.IOException {
        Properties props = new Properties();
        try (var in = JavaClientScenario.class.getClassLoader().getResourceAsStream("kafka/kafka-version.properties")) {
            check(in != null, "no kafka/kafka-version.properties on the class path");
            props.load(in);
        }
        return props.getProperty("version");
    }

    private String createTopic() throws Exception {
        try (Admin admin = Admin.create(adminProps())) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
            Set<String> names = admin.listTopics().names().get();
            check(names.contains(topic), "listTopics after create lacks " + topic + ": " + names);
            return "created " + topic;
        }
    }

    private String produceKeyed() throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        props.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        props.put("max.block.ms", "20000");
        props.put("request.timeout.ms", "10000");
        props.put("delivery.timeout.ms", "30000");
        // Idempotence, acks and batching stay at this version's defaults: that is what users run.
        Map<String, Integer> partitionOfKey = new HashMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < RECORDS; i++) {
                String key = "key-" + (i % 7);
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, "value-" + i);
                record.headers().add("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                RecordMetadata meta = producer.send(record).get();
                Integer earlier = partitionOfKey.putIfAbsent(key, meta.partition());
                check(earlier == null || earlier == meta.partition(),
                        key + " went to partitions " + earlier + " and " + meta.partition());
                String previous = produced.put(meta.partition() + ":" + meta.offset(), key + "=value-" + i);
                check(previous == null, "offset " + meta.partition() + ":" + meta.offset() + " acknowledged twice");
            }
        }
        return "produced " + produced.size() + " records over partitions " + new HashSet<>(partitionOfKey.values());
    }

    private String consumeAssigned() {
        check(!produced.isEmpty(), "nothing was produced");
        Map<String, String> seen = new TreeMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(null))) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + POLL_DEADLINE.toNanos();
            while (seen.size() < produced.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    Header seq = r.headers().lastHeader("seq");
                    check(seq != null && r.value().equals("value-" + new String(seq.value(), StandardCharsets.UTF_8)),
                            "header seq does not match " + r.value());
                    seen.put(r.partition() + ":" + r.offset(), r.key() + "=" + r.value());
                }
            }
        }
        check(seen.equals(produced), "assign() read " + seen + " but produced " + produced);
        return "read " + seen.size() + " records by assign()";
    }

    private String groupCommitAndResume(String group) throws Exception {
        check(!produced.isEmpty(), "nothing was produced");
        // The first member takes a part of the topic, commits exactly what it consumed and leaves.
        Map<String, String> first = new TreeMap<>();
        Map<TopicPartition, Long> positions = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(group))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + POLL_DEADLINE.toNanos();
            while (first.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    first.put(r.partition() + ":" + r.offset(), r.key() + "=" + r.value());
                    positions.merge(new TopicPartition(topic, r.partition()), r.offset() + 1, Math::max);
                }
            }
            check(!first.isEmpty(), "subscribe() received nothing in " + POLL_DEADLINE);
            consumer.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(positions.keySet());
            for (Map.Entry<TopicPartition, Long> e : positions.entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                check(c != null && c.offset() == e.getValue(),
                        "committed " + e.getKey() + " is " + c + ", expected " + e.getValue());
            }
        }
        // A new member of the same group resumes from those commits: it gets the rest, nothing twice.
        Map<String, String> rest = new TreeMap<>(produced);
        rest.keySet().removeAll(first.keySet());
        Map<String, String> second = new TreeMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(group))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + POLL_DEADLINE.toNanos();
            while (second.size() < rest.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    String previous = second.put(r.partition() + ":" + r.offset(), r.key() + "=" + r.value());
                    check(previous == null && !first.containsKey(r.partition() + ":" + r.offset()),
                            "record " + r.partition() + ":" + r.offset() + " delivered again after commit");
                }
            }
            consumer.commitSync();
        }
        check(second.equals(rest), "resumed member read " + second + " but expected " + rest);
        return "first member read " + first.size() + ", resumed member read " + second.size();
    }

    private String listDescribeDelete() throws Exception {
        try (Admin admin = Admin.create(adminProps())) {
            Set<String> names = admin.listTopics().names().get();
            check(names.contains(topic), "listTopics lacks " + topic + ": " + names);
            TopicDescription description = describe(admin, topic);
            check(description.partitions().size() == PARTITIONS,
                    "describeTopics: " + description.partitions().size() + " partitions, expected " + PARTITIONS);
            for (TopicPartitionInfo p : description.partitions()) {
                check(p.leader() != null && p.leader().id() >= 0, "partition " + p.partition() + " has no leader");
            }
            admin.deleteTopics(List.of(topic)).all().get();
            long deadline = System.nanoTime() + POLL_DEADLINE.toNanos();
            while (admin.listTopics().names().get().contains(topic)) {
                check(System.nanoTime() < deadline, "deleted topic " + topic + " is still listed");
                Thread.onSpinWait();
            }
            return "listed, described and deleted " + topic;
        }
    }

    /** describeTopics' result changed shape in 3.1 (allTopicNames) and lost all() in 4.0. */
    @SuppressWarnings("unchecked")
    private static TopicDescription describe(Admin admin, String topic) throws Exception {
        Object result = admin.describeTopics(List.of(topic));
        java.lang.reflect.Method all;
        try {
            all = result.getClass().getMethod("allTopicNames");
        } catch (NoSuchMethodException e) {
            all = result.getClass().getMethod("all");
        }
        Map<String, TopicDescription> byName = ((KafkaFuture<Map<String, TopicDescription>>) all.invoke(result)).get();
        TopicDescription d = byName.get(topic);
        check(d != null, "describeTopics returned " + byName.keySet());
        return d;
    }

    private Properties adminProps() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("request.timeout.ms", "10000");
        props.put("default.api.timeout.ms", "20000");
        return props;
    }

    private Properties consumerProps(String group) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        props.put("default.api.timeout.ms", "20000");
        props.put("request.timeout.ms", "10000");
        if (group != null) {
            props.put("group.id", group);
            // Small polls so that the first member stops after some records, not the whole topic.
            props.put("max.poll.records", "5");
        }
        return props;
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }
}
