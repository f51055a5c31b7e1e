package io.gregor.compat;

import com.sun.tools.attach.VirtualMachine;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka's metrics after a known workload, read as a dashboard reads them: the MBeans over JMX with a stock
 * JMXConnector (attached to the broker's own JVM, as jconsole attaches), and the Prometheus text of /metrics.
 * The workload: {@value #RECORDS} records of {@value #VALUE_BYTES}-byte values sent one at a time (so one
 * Produce request each) by a stock producer, then read and committed by a stock consumer in a group. The lag
 * test produces more afterwards, so it runs after the exact counts are checked.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsTest {
    private static final String TOPIC = "metrics-test";
    private static final String GROUP = "metrics-test-group";
    private static final int RECORDS = 40;
    private static final int VALUE_BYTES = 100;
    private static final int MORE = 5;

    private static BrokerProcess broker;
    private static JMXConnector jmx;
    private static MBeanServerConnection mbeans;
    private static int httpPort;
    /** Per partition: the log end offset after the workload, as the producer's acks tell it. */
    private static final Map<Integer, Long> endOffsets = new HashMap<>();

    @BeforeAll
    static void runTheWorkload() throws Exception {
        broker = new BrokerProcess("MetricsTest", Map.of("gregor.http.listener", "127.0.0.1:0",
                "offsets.topic.num.partitions", "1", "group.initial.rebalance.delay.ms", "0")).start();
        Matcher http = Pattern.compile("HTTP listener http://127.0.0.1:(\\d+)").matcher(Files.readString(broker.outputFile()));
        assertThat(http.find()).isTrue();
        httpPort = Integer.parseInt(http.group(1));

        VirtualMachine vm = VirtualMachine.attach(Long.toString(broker.pid()));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        jmx = JMXConnectorFactory.connect(new JMXServiceURL(address));
        mbeans = jmx.getMBeanServerConnection();
        // the broker registers its MBeans once it serves, off its start path
        await("the MBeans are registered").atMost(Duration.ofSeconds(30)).until(() -> mbeans.isRegistered(
                new ObjectName("kafka.server:type=ReplicaManager,name=PartitionCount")));

        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, TOPIC, 2, Map.of());
        }
        String value = "v".repeat(VALUE_BYTES);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false))) {
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata sent = producer.send(new ProducerRecord<>(TOPIC, i % 2, null, value)).get();
                endOffsets.merge(sent.partition(), sent.offset() + 1, Math::max);
            }
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers(),
                Map.of(ConsumerConfig.GROUP_ID_CONFIG, GROUP))) {
            consumer.subscribe(List.of(TOPIC));
            Clients.pollUntil(consumer, RECORDS);
            consumer.commitSync();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (jmx != null) {
            jmx.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static Object attribute(String name, String attribute) throws Exception {
        return mbeans.getAttribute(new ObjectName(name), attribute);
    }

    private static long count(String name) throws Exception {
        return (Long) attribute(name, "Count");
    }

    private static long value(String name) throws Exception {
        return ((Number) attribute(name, "Value")).longValue();
    }

    private static String scrape() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        // simpleclient writes label sets with a trailing comma ({a="b",}), which the format allows; read it without
        return response.body().replace(",}", "}");
    }

    /** The value of the one sample {@code name{labels}} in the Prometheus text. */
    private static double sample(String text, String nameAndLabels) {
        for (String line : text.split("\n")) {
            if (line.startsWith(nameAndLabels + " ")) {
                return Double.parseDouble(line.substring(nameAndLabels.length() + 1).trim());
            }
        }
        throw new AssertionError("no sample " + nameAndLabels + " in\n" + text);
    }

    private static long logSize(int partition) throws Exception {
        return value("kafka.log:type=Log,name=Size,topic=" + TOPIC + ",partition=" + partition);
    }

    @Test
    @Order(1)
    void theMBeansHaveKafkasNamesAttributesAndTheWorkloadsCounts() throws Exception {
        String topicStats = "kafka.server:type=BrokerTopicMetrics,name=%s,topic=" + TOPIC;
        assertThat(count(topicStats.formatted("MessagesInPerSec"))).isEqualTo(RECORDS);
        assertThat(count("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec")).isEqualTo(RECORDS);
        // every byte in is a batch appended as sent, so the topic's logs hold exactly what came in
        await("the Log gauges are registered").atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> logSize(0) > 0);
        long logBytes = logSize(0) + logSize(1);
        assertThat(logBytes).isGreaterThan((long) RECORDS * VALUE_BYTES);
        assertThat(count(topicStats.formatted("BytesInPerSec"))).isEqualTo(logBytes);
        // the consumer read each batch once at least
        assertThat(count(topicStats.formatted("BytesOutPerSec"))).isBetween(logBytes, 3 * logBytes);
        assertThat(count(topicStats.formatted("FailedProduceRequestsPerSec"))).isZero();
        assertThat(count(topicStats.formatted("FailedFetchRequestsPerSec"))).isZero();
        assertThat(attribute(topicStats.formatted("MessagesInPerSec"), "OneMinuteRate")).isInstanceOf(Double.class);
        assertThat(attribute(topicStats.formatted("MessagesInPerSec"), "EventType")).isEqualTo("messages");

        // one Produce request per record; Kafka tags RequestsPerSec with the version, the histograms without
        Set<ObjectName> produceRates = mbeans.queryNames(
                new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Produce,*"), null);
        assertThat(produceRates).hasSize(1);
        assertThat(produceRates.iterator().next().getKeyProperty("version")).matches("\\d+");
        assertThat((Long) mbeans.getAttribute(produceRates.iterator().next(), "Count")).isEqualTo(RECORDS);
        for (String histogram : List.of("TotalTimeMs", "RequestQueueTimeMs", "LocalTimeMs", "RemoteTimeMs",
                "ResponseQueueTimeMs", "ResponseSendTimeMs")) {
            String name = "kafka.network:type=RequestMetrics,name=" + histogram + ",request=Produce";
            assertThat(count(name)).as(histogram).isEqualTo(RECORDS);
            assertThat((Double) attribute(name, "99thPercentile")).as(histogram).isGreaterThanOrEqualTo(0.0);
            assertThat((Double) attribute(name, "Max")).as(histogram).isGreaterThanOrEqualTo(0.0);
        }
        assertThat(mbeans.queryNames(new ObjectName(
                "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=FetchConsumer,*"), null)).isNotEmpty();
        assertThat(count("kafka.network:type=RequestMetrics,name=TotalTimeMs,request=FetchConsumer"))
                .isEqualTo(count("kafka.network:type=RequestMetrics,name=TotalTimeMs,request=Fetch"));

        // the topic's 2 partitions and __consumer_offsets' 1, all led here, none under-replicated
        assertThat(value("kafka.server:type=ReplicaManager,name=PartitionCount")).isEqualTo(3);
        assertThat(value("kafka.server:type=ReplicaManager,name=LeaderCount")).isEqualTo(3);
        assertThat(value("kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions")).isZero();
        assertThat(value("kafka.server:type=ReplicaManager,name=UnderMinIsrPartitionCount")).isZero();
        assertThat(count("kafka.server:type=ReplicaManager,name=IsrShrinksPerSec")).isZero();
        assertThat(value("kafka.controller:type=KafkaController,name=ActiveControllerCount")).isEqualTo(1);
        assertThat(value("kafka.controller:type=KafkaController,name=OfflinePartitionsCount")).isZero();
        for (int p = 0; p < 2; p++) {
            String log = "kafka.log:type=Log,name=%s,topic=" + TOPIC + ",partition=" + p;
            assertThat(value(log.formatted("LogEndOffset"))).isEqualTo(endOffsets.get(p));
            assertThat(value(log.formatted("LogStartOffset"))).isZero();
        }
        double idle = (Double) attribute("kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent", "Value");
        assertThat(idle).isBetween(0.0, 1.0);
        String handlers = "kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent";
        await("the request threads' idle share is sampled").atMost(Duration.ofSeconds(30))
                .until(() -> (Double) attribute(handlers, "OneMinuteRate") > 0);
        assertThat((Double) attribute(handlers, "OneMinuteRate")).isBetween(0.0, 1.0);
        assertThat(((Number) attribute("kafka.server:type=group-coordinator-metrics,protocol=classic", "group-count"))
                .intValue()).isEqualTo(1);
        assertThat(((Number) attribute("kafka.server:type=group-coordinator-metrics", "offset-commit-count"))
                .doubleValue()).isGreaterThanOrEqualTo(2.0);
    }

    @Test
    @Order(2)
    void prometheusTextHasTheJmxExporterNamesAndTheSameCountsAndTheLagMoves() throws Exception {
        await("the partition metrics are registered").atMost(Duration.ofSeconds(30))
                .until(() -> scrape().contains("kafka_consumergroup_lag{"));
        String text = scrape();
        String topic = "{topic=\"" + TOPIC + "\"}";
        assertThat(sample(text, "kafka_server_brokertopicmetrics_messagesin_total" + topic)).isEqualTo(RECORDS);
        assertThat(sample(text, "kafka_server_brokertopicmetrics_bytesin_total" + topic))
                .isEqualTo((double) count("kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec,topic=" + TOPIC));
        assertThat(sample(text, "kafka_server_brokertopicmetrics_bytesout_total" + topic)).isPositive();
        assertThat(sample(text, "kafka_server_brokertopicmetrics_messagesin_total")).isEqualTo(RECORDS);
        assertThat(sample(text, "kafka_network_requestmetrics_totaltimems_count{request=\"Produce\"}")).isEqualTo(RECORDS);
        assertThat(text).containsPattern("kafka_network_requestmetrics_totaltimems\\{request=\"Produce\",quantile=\"0.99\"} ");
        assertThat(text).containsPattern("kafka_network_requestmetrics_requests_total\\{request=\"Produce\",version=\"\\d+\"} "
                + RECORDS + ".0");
        assertThat(sample(text, "kafka_server_replicamanager_partitioncount")).isEqualTo(3);
        assertThat(sample(text, "kafka_server_replicamanager_underreplicatedpartitions")).isZero();
        assertThat(sample(text, "kafka_controller_kafkacontroller_activecontrollercount")).isEqualTo(1);
        assertThat(sample(text, "kafka_log_log_logendoffset{topic=\"" + TOPIC + "\",partition=\"0\"}"))
                .isEqualTo((double) endOffsets.get(0));
        assertThat(sample(text, "kafka_network_socketserver_networkprocessoravgidle_percent")).isBetween(0.0, 1.0);
        assertThat(sample(text, "kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent")).isBetween(0.0, 1.0);
        assertThat(sample(text, "kafka_server_group_coordinator_metrics_group_count{protocol=\"classic\"}")).isEqualTo(1);
        assertThat(text).contains("jvm_memory_bytes_used{area=\"heap\"}", "process_cpu_seconds_total", "jvm_threads_current",
                "jvm_gc_collection_seconds_count");

        String lag = "kafka_consumergroup_lag{consumergroup=\"" + GROUP + "\",topic=\"" + TOPIC + "\",partition=\"0\"}";
        assertThat(sample(text, lag)).isZero();
        assertThat(sample(text, "kafka_consumergroup_current_offset{consumergroup=\"" + GROUP + "\",topic=\"" + TOPIC
                + "\",partition=\"0\"}")).isEqualTo((double) endOffsets.get(0));
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            for (int i = 0; i < MORE; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "more")).get();
            }
        }
        assertThat(sample(scrape(), lag)).isEqualTo(MORE);
        assertThat(value("io.gregor:type=ConsumerLag,name=Lag,group=" + GROUP + ",topic=" + TOPIC + ",partition=0"))
                .isEqualTo(MORE);
    }

    @Test
    @Order(4)
    void aDeletedTopicsMetricsGo() throws Exception {
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.get(admin.deleteTopics(List.of(TOPIC)).all());
        }
        // a scrape brings the per-partition and per-topic metrics up to date first
        await("the topic's metrics are gone").atMost(Duration.ofSeconds(30))
                .until(() -> !scrape().contains("topic=\"" + TOPIC + "\""));
        assertThat(mbeans.queryNames(new ObjectName("kafka.server:type=BrokerTopicMetrics,topic=" + TOPIC + ",*"), null)).isEmpty();
        assertThat(mbeans.queryNames(new ObjectName("kafka.log:type=Log,topic=" + TOPIC + ",*"), null)).isEmpty();
        // the all-topics totals stay
        assertThat(count("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec")).isEqualTo(RECORDS + MORE);
    }

    @Test
    @Order(3)
    void healthSaysReady() throws Exception {
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(health.body()).contains("\"status\":\"ready\"");
    }
}
