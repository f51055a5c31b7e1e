package io.gregor.compat;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Produced;

import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * Kafka's word count: lines in, one running count per word out, with the record cache off so every input
 * word yields exactly one output update (under exactly-once, the updates for a word read committed are
 * 1, 2, ..., n with no repeat and no gap). Runs in a test JVM or, with {@link #main}, as a process of its
 * own that a test can kill.
 */
public final class StreamsWordCountApp {
    private StreamsWordCountApp() {
    }

    public static KafkaStreams build(String bootstrap, String applicationId, String stateDir, String input,
                                     String output, String guarantee) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream(input)
                .flatMapValues(line -> Arrays.asList(line.toLowerCase(Locale.ROOT).split("\\s+")))
                .groupBy((key, word) -> word)
                .count()
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        // the broker's minimum (group.min.session.timeout.ms): a SIGKILLed instance leaves the group soonest
        props.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 6_000);
        props.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 2_000);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        props.put(StreamsConfig.producerPrefix("transaction.timeout.ms"), 10_000);
        return new KafkaStreams(builder.build(), props);
    }

    /** Usage: StreamsWordCountApp BOOTSTRAP APPLICATION_ID STATE_DIR INPUT OUTPUT GUARANTEE; runs until killed. */
    public static void main(String[] args) throws InterruptedException {
        KafkaStreams streams = build(args[0], args[1], args[2], args[3], args[4], args[5]);
        CountDownLatch dead = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            System.out.println("STATE " + now);
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                dead.countDown();
            }
        });
        streams.start();
        dead.await();
        System.exit(1);
    }
}
