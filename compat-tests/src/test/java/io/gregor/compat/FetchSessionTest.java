package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.intercept.TraceRecord;
import io.gregor.config.BrokerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchRequestData.ForgottenTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Incremental fetch sessions (KIP-227): a stock consumer of 500 partitions sends small incremental fetches
 * once it holds a session, and keeps consuming when its session is evicted; raw fetches see Kafka's session
 * errors and the partitions left out of incremental answers.
 */
class FetchSessionTest {
    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension();

    private static final Pattern SESSION_EPOCH = Pattern.compile("sessionEpoch=(-?\\d+)");
    private static final Pattern SESSION_ID = Pattern.compile("sessionId=(-?\\d+)");
    private static final int PARTITIONS = 500;

    /** The broker's clock, which a test moves past the 120 s for which Kafka keeps a new session from eviction. */
    private static final class ShiftedTime implements Time {
        private final AtomicLong shiftMs = new AtomicLong();

        void shift(Duration d) {
            shiftMs.addAndGet(d.toMillis());
        }

        @Override
        public long milliseconds() {
            return Time.SYSTEM.milliseconds() + shiftMs.get();
        }

        @Override
        public long nanoseconds() {
            return Time.SYSTEM.nanoseconds() + shiftMs.get() * 1_000_000L;
        }

        @Override
        public void sleep(long ms) {
            Time.SYSTEM.sleep(ms);
        }
    }

    private static int field(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        assertThat(m.find()).as("%s in %s", pattern, text).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static List<TraceRecord> fetchesOf(RequestTrace trace, String clientId) {
        return trace.entries().stream()
                .filter(r -> r.apiKey() == ApiKeys.FETCH.id && clientId.equals(r.clientId())).toList();
    }

    private static boolean incremental(TraceRecord fetch) {
        return field(SESSION_EPOCH, fetch.request()) > 0;
    }

    @Test
    void consumerOf500PartitionsSendsSmallerIncrementalFetchesAndSurvivesTheEvictionOfItsSession() {
        Path dir = TestDirs.newDataDir("fetch-session-eviction");
        ShiftedTime time = new ShiftedTime();
        Map<String, String> props = new HashMap<>();
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("offsets.topic.replication.factor", "1");
        props.put("max.incremental.fetch.session.cache.slots", "1");
        try (Broker broker = Broker.start(BrokerConfig.of(props), time)) {
            RequestTrace trace = broker.requestTrace();
            trace.setEnabled(true);
            String bootstrap = broker.bootstrapServers();
            String big = TestDirs.uniqueTopic("sessions-500");
            String extra = TestDirs.uniqueTopic("sessions-extra");
            try (Admin admin = Clients.admin(bootstrap)) {
                Clients.createTopic(admin, big, PARTITIONS, Map.of());
                Clients.createTopic(admin, extra, 1, Map.of());
            }
            produceOnePerPartition(bootstrap, big, "first-");
            try (KafkaProducer<String, String> producer = Clients.producer(bootstrap)) {
                Clients.get(producer.send(new ProducerRecord<>(extra, 0, null, "extra")));
            }
            Map<String, Object> fastFetches = Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
            List<TopicPartition> bigPartitions = Clients.partitions(big, PARTITIONS);
            List<TopicPartition> bigAndExtra = new ArrayList<>(bigPartitions);
            bigAndExtra.add(new TopicPartition(extra, 0));
            try (KafkaConsumer<String, String> a = Clients.consumer(bootstrap, with(fastFetches, "sessions-a"));
                 KafkaConsumer<String, String> b = Clients.consumer(bootstrap, with(fastFetches, "sessions-b"))) {
                assertThat(Clients.readFromBeginning(a, bigPartitions, PARTITIONS)).hasSize(PARTITIONS);
                await("incremental fetches of consumer a").atMost(Clients.TIMEOUT).pollInterval(Duration.ZERO).until(() -> {
                    a.poll(Duration.ofMillis(50));
                    return fetchesOf(trace, "sessions-a").stream().filter(FetchSessionTest::incremental).count() >= 5;
                });
                // once a has read everything its incremental fetches name no partition (a full fetch names all 500);
                // the one right after a has read records names those whose position moved
                List<TraceRecord> fetchesA = fetchesOf(trace, "sessions-a");
                IntSummaryStatistics full = fetchesA.stream().filter(f -> !incremental(f))
                        .mapToInt(TraceRecord::requestBytes).summaryStatistics();
                List<TraceRecord> incrementalA = fetchesA.stream().filter(FetchSessionTest::incremental).toList();
                IntSummaryStatistics incremental = incrementalA.stream()
                        .mapToInt(TraceRecord::requestBytes).summaryStatistics();
                IntSummaryStatistics idle = incrementalA.subList(incrementalA.size() - 3, incrementalA.size()).stream()
                        .mapToInt(TraceRecord::requestBytes).summaryStatistics();
                System.out.printf("Fetch request bytes of a %d-partition consumer: full %s; incremental %s; "
                        + "incremental with nothing new %s%n", PARTITIONS, full, incremental, idle);
                assertThat(full.getCount()).isPositive();
                assertThat(incremental.getAverage()).as("mean incremental vs mean full fetch bytes")
                        .isLessThan(full.getAverage());
                assertThat(idle.getMax() * 20L).as("incremental fetches with nothing new, 20x, vs the smallest full one")
                        .isLessThan(full.getMin());

                // the one slot is taken by a's session, too new to give up: b fetches without a session
                assertThat(Clients.readFromBeginning(b, bigAndExtra, PARTITIONS + 1)).hasSize(PARTITIONS + 1);
                List<TraceRecord> fetchesB = fetchesOf(trace, "sessions-b");
                assertThat(fetchesB).isNotEmpty().noneMatch(FetchSessionTest::incremental)
                        .allSatisfy(f -> assertThat(field(SESSION_ID, f.response())).isZero());

                // past 120 s a's session may give way to b's, which has more partitions
                time.shift(Duration.ofSeconds(121));
                await("b's session replaces a's").atMost(Clients.TIMEOUT).pollInterval(Duration.ZERO).until(() -> {
                    a.poll(Duration.ofMillis(50));
                    b.poll(Duration.ofMillis(50));
                    return fetchesOf(trace, "sessions-b").stream().anyMatch(FetchSessionTest::incremental)
                            && fetchesOf(trace, "sessions-a").stream()
                            .anyMatch(f -> f.errorCodes().contains(Errors.FETCH_SESSION_ID_NOT_FOUND.code()));
                });
                produceOnePerPartition(bootstrap, big, "second-");
                assertThat(Clients.pollUntil(a, PARTITIONS)).allSatisfy(r -> assertThat(r.value()).startsWith("second-"));
                assertThat(Clients.pollUntil(b, PARTITIONS)).allSatisfy(r -> assertThat(r.value()).startsWith("second-"));
                TraceRecord lastOfA = fetchesOf(trace, "sessions-a").get(fetchesOf(trace, "sessions-a").size() - 1);
                assertThat(incremental(lastOfA)).as("a without a session sends full fetches").isFalse();
                assertThat(field(SESSION_ID, lastOfA.response())).isZero();
            }
        } finally {
            TestDirs.deleteRecursively(dir);
        }
    }

    private static Map<String, Object> with(Map<String, Object> base, String clientId) {
        Map<String, Object> m = new HashMap<>(base);
        m.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        return m;
    }

    private static void produceOnePerPartition(String bootstrap, String topic, String prefix) {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap)) {
            for (int p = 0; p < PARTITIONS; p++) {
                producer.send(new ProducerRecord<>(topic, p, null, prefix + p));
            }
            producer.flush();
        }
    }

    @Test
    void incrementalFetchesLeaveOutUnchangedPartitionsAndBadSessionsGetKafkasErrors() throws Exception {
        String topic = TestDirs.uniqueTopic("sessions-raw");
        Uuid topicId;
        try (Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            Clients.createTopic(admin, topic, 3, Map.of());
            topicId = Clients.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).topicId();
        }
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
            for (int p = 0; p < 3; p++) {
                Clients.get(producer.send(new ProducerRecord<>(topic, p, null, "v" + p)));
            }
        }
        short version = ApiKeys.FETCH.latestVersion();
        try (RawKafkaConnection raw = new RawKafkaConnection(BROKER.port(), Duration.ofSeconds(20))) {
            FetchResponseData full = raw.roundTrip(ApiKeys.FETCH, version,
                    fetch(0, 0, List.of(new FetchTopic().setTopicId(topicId).setPartitions(List.of(
                            partition(0, 0), partition(1, 0), partition(2, 0))))), FetchResponseData::new);
            assertThat(Errors.forCode(full.errorCode())).isEqualTo(Errors.NONE);
            int session = full.sessionId();
            assertThat(session).as("a full fetch with epoch 0 opens a session").isPositive();
            assertThat(full.responses().get(0).partitions()).hasSize(3)
                    .allSatisfy(p -> assertThat(p.highWatermark()).isEqualTo(1));

            // the client moved past what it read: nothing else changed, so no partition is in the answer
            FetchResponseData nothingNew = raw.roundTrip(ApiKeys.FETCH, version,
                    fetch(session, 1, List.of(new FetchTopic().setTopicId(topicId).setPartitions(List.of(
                            partition(0, 1), partition(1, 1), partition(2, 1))))), FetchResponseData::new);
            assertThat(Errors.forCode(nothingNew.errorCode())).isEqualTo(Errors.NONE);
            assertThat(nothingNew.sessionId()).isEqualTo(session);
            assertThat(nothingNew.responses()).isEmpty();

            try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
                Clients.get(producer.send(new ProducerRecord<>(topic, 1, null, "new")));
            }
            // the request names no partition: the session's are read, and only the one with news is answered
            FetchResponseData onlyPartition1 = raw.roundTrip(ApiKeys.FETCH, version, fetch(session, 2, List.of()),
                    FetchResponseData::new);
            assertThat(onlyPartition1.responses()).hasSize(1);
            assertThat(onlyPartition1.responses().get(0).topicId()).isEqualTo(topicId);
            assertThat(onlyPartition1.responses().get(0).partitions()).singleElement().satisfies(p -> {
                assertThat(p.partitionIndex()).isEqualTo(1);
                assertThat(p.highWatermark()).isEqualTo(2);
                assertThat(p.records().sizeInBytes()).isPositive();
            });

            FetchResponseData duplicate = raw.roundTrip(ApiKeys.FETCH, version, fetch(session, 2, List.of()),
                    FetchResponseData::new);
            assertThat(Errors.forCode(duplicate.errorCode())).isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
            assertThat(duplicate.responses()).isEmpty();

            FetchResponseData unknown = raw.roundTrip(ApiKeys.FETCH, version, fetch(session + 1, 1, List.of()),
                    FetchResponseData::new);
            assertThat(Errors.forCode(unknown.errorCode())).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
            assertThat(unknown.sessionId()).isZero();

            // a forgotten partition is no longer read: news on it is not answered
            try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers())) {
                Clients.get(producer.send(new ProducerRecord<>(topic, 2, null, "unseen")));
            }
            // the client read partition 1's record: it names its new position (else the record is read again)
            FetchRequestData forget = fetch(session, 3, List.of(new FetchTopic().setTopicId(topicId)
                    .setPartitions(List.of(partition(1, 2)))));
            forget.setForgottenTopicsData(List.of(new ForgottenTopic().setTopicId(topicId).setPartitions(List.of(2))));
            FetchResponseData afterForget = raw.roundTrip(ApiKeys.FETCH, version, forget, FetchResponseData::new);
            assertThat(Errors.forCode(afterForget.errorCode())).isEqualTo(Errors.NONE);
            assertThat(afterForget.responses()).isEmpty();

            // epoch -1 closes the session; it is gone afterwards
            FetchResponseData closed = raw.roundTrip(ApiKeys.FETCH, version, fetch(session, -1, List.of()),
                    FetchResponseData::new);
            assertThat(closed.sessionId()).isZero();
            FetchResponseData afterClose = raw.roundTrip(ApiKeys.FETCH, version, fetch(session, 4, List.of()),
                    FetchResponseData::new);
            assertThat(Errors.forCode(afterClose.errorCode())).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        }
    }

    private static FetchRequestData fetch(int sessionId, int epoch, List<FetchTopic> topics) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                .setIsolationLevel((byte) 0).setSessionId(sessionId).setSessionEpoch(epoch)
                .setTopics(new ArrayList<>(topics));
    }

    private static FetchPartition partition(int partition, long offset) {
        return new FetchPartition().setPartition(partition).setFetchOffset(offset).setCurrentLeaderEpoch(-1)
                .setLastFetchedEpoch(-1).setLogStartOffset(-1).setPartitionMaxBytes(1 << 20);
    }

}
