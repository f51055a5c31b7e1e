package io.gregor.broker.metrics;

import com.yammer.metrics.core.Clock;
import com.yammer.metrics.core.Gauge;
import com.yammer.metrics.core.Histogram;
import com.yammer.metrics.core.Meter;
import com.yammer.metrics.core.Metric;
import com.yammer.metrics.core.MetricName;
import com.yammer.metrics.core.MetricsRegistry;
import com.yammer.metrics.reporting.JmxReporter;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import io.prometheus.client.hotspot.BufferPoolsExports;
import io.prometheus.client.hotspot.ClassLoadingExports;
import io.prometheus.client.hotspot.GarbageCollectorExports;
import io.prometheus.client.hotspot.MemoryPoolsExports;
import io.prometheus.client.hotspot.StandardExports;
import io.prometheus.client.hotspot.ThreadExports;
import io.prometheus.client.hotspot.VersionInfoExports;
import org.apache.kafka.common.metrics.KafkaMetricsContext;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One broker's metrics, with Kafka's names and meanings: Yammer metrics (the library Kafka's broker uses for
 * them, so the MBeans have Kafka's ObjectNames and attributes: Count, OneMinuteRate, 99thPercentile, Value, ...)
 * and Kafka's own metrics classes for the few Kafka reports through them (group-coordinator-metrics). Both are
 * registered as JMX MBeans on the platform MBean server and rendered in Prometheus text for /metrics
 * ({@link PrometheusExport} names them as the JMX exporter's Kafka rules do).
 * <p>
 * Several brokers may run in one JVM (tests) but JMX names carry no broker id, as in Kafka: the first broker to
 * start registers the MBeans, the others serve their metrics on /metrics only (one INFO line says so).
 */
public final class BrokerMetrics implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerMetrics.class);
    /** Held by the broker whose metrics are the JVM's MBeans. */
    static final String JMX_OWNER = "io.gregor:type=BrokerMetrics";
    /** Where Kafka's broker reports its metrics-classes metrics (group-coordinator-metrics). */
    private static final String KAFKA_METRICS_PREFIX = "kafka.server";

    private final int brokerId;
    private final Registry registry;
    /** Tags of each Yammer metric, in Kafka's order, for the Prometheus labels. */
    private final Map<MetricName, Map<String, String>> tags = new ConcurrentHashMap<>();
    private final Metrics kafkaMetrics;
    /** Set once the MBeans are registered (off the start path); null while not, or when another broker has them. */
    private JmxReporter jmx;
    private ObjectName jmxOwner;
    private boolean closed;
    /** Made on the first scrape: a broker nobody scrapes loads no Prometheus classes. */
    private CollectorRegistry prometheus;
    private final TopicMetrics topicMetrics;
    private final RequestMetrics requestMetrics;
    private final List<Runnable> beforeScrape = new CopyOnWriteArrayList<>();

    /** Yammer's registry, taking a metric of ours too (the request handlers' idle share). */
    private static final class Registry extends MetricsRegistry {
        Registry(Clock clock) {
            super(clock);
        }

        <T extends Metric> T add(MetricName name, T metric) {
            return getOrAdd(name, metric);
        }
    }

    public interface BrokerMetricsOwnerMBean {
        int getBrokerId();
    }

    private BrokerMetrics(int brokerId, Time time) {
        this.brokerId = brokerId;
        this.registry = new Registry(new Clock() {
            @Override
            public long tick() {
                return time.nanoseconds();
            }

            @Override
            public long time() {
                return time.milliseconds();
            }
        });
        // a mutable reporter list: registerInJmx adds the JMX reporter later (Metrics.addReporter appends to it)
        this.kafkaMetrics = new Metrics(new MetricConfig(), new ArrayList<>(), time, new KafkaMetricsContext(KAFKA_METRICS_PREFIX));
        this.topicMetrics = new TopicMetrics(this);
        this.requestMetrics = new RequestMetrics(this);
    }

    /**
     * Registers the metrics, and those made later, as MBeans on the platform MBean server, unless another broker
     * in this JVM has. Slow (the platform MBean server's creation, an MBean per metric): the broker calls it off
     * its start path, once it serves.
     */
    public synchronized void registerInJmx() {
        if (closed || jmx != null) {
            return;
        }
        jmxOwner = claimJmx(brokerId);
        if (jmxOwner == null) {
            log.debug("Broker {}: another broker in this JVM holds the Kafka MBean names; this one's metrics are on "
                    + "its /metrics only", brokerId);
            return;
        }
        jmx = new JmxReporter(registry);
        jmx.start();
        org.apache.kafka.common.metrics.JmxReporter kafkaJmx = new org.apache.kafka.common.metrics.JmxReporter();
        kafkaJmx.configure(Map.of());
        kafkaJmx.contextChange(new KafkaMetricsContext(KAFKA_METRICS_PREFIX));
        kafkaMetrics.addReporter(kafkaJmx);
    }

    private synchronized CollectorRegistry prometheus() {
        if (prometheus == null) {
            prometheus = new CollectorRegistry();
            prometheus.register(new PrometheusExport(this));
            new StandardExports().register(prometheus);
            new MemoryPoolsExports().register(prometheus);
            new BufferPoolsExports().register(prometheus);
            new GarbageCollectorExports().register(prometheus);
            new ThreadExports().register(prometheus);
            new ClassLoadingExports().register(prometheus);
            new VersionInfoExports().register(prometheus);
        }
        return prometheus;
    }

    public static BrokerMetrics create(int brokerId, Time time) {
        return new BrokerMetrics(brokerId, time);
    }

    /** Registering a marker MBean is atomic: of brokers starting together exactly one gets the JMX names. */
    private static ObjectName claimJmx(int brokerId) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            ObjectName name = new ObjectName(JMX_OWNER);
            server.registerMBean(new StandardMBean((BrokerMetricsOwnerMBean) () -> brokerId, BrokerMetricsOwnerMBean.class), name);
            return name;
        } catch (InstanceAlreadyExistsException e) {
            return null;
        } catch (JMException e) {
            log.warn("Broker {}: cannot register MBeans ({}); metrics are on /metrics only", brokerId, e.toString());
            return null;
        }
    }

    public int brokerId() {
        return brokerId;
    }

    /** Whether this broker's metrics are the JVM's Kafka MBeans. */
    public synchronized boolean registeredInJmx() {
        return jmx != null;
    }

    public TopicMetrics topics() {
        return topicMetrics;
    }

    public RequestMetrics requests() {
        return requestMetrics;
    }

    /** Kafka's metrics classes, reported under kafka.server (group-coordinator-metrics). */
    public Metrics kafkaMetrics() {
        return kafkaMetrics;
    }

    // ------------------------------------------------------------------ Yammer metrics with Kafka's names

    /**
     * Kafka's name for a Yammer metric (KafkaMetricsGroup.explicitMetricName): the MBean name
     * {@code domain:type=T,name=N,tag=value,...} with the tags in the order given, values JMX-quoted if needed.
     */
    static MetricName name(String domain, String type, String name, Map<String, String> tagMap) {
        StringBuilder mbean = new StringBuilder(domain).append(":type=").append(type).append(",name=").append(name);
        StringBuilder scope = new StringBuilder();
        for (Map.Entry<String, String> e : tagMap.entrySet()) {
            mbean.append(',').append(e.getKey()).append('=').append(jmxValue(e.getValue()));
            if (scope.length() > 0) {
                scope.append('.');
            }
            scope.append(e.getKey()).append('.').append(e.getValue().replace('.', '_'));
        }
        return new MetricName(domain, type, name, scope.length() == 0 ? null : scope.toString(), mbean.toString());
    }

    /** A value as an ObjectName takes it: quoted when it holds a character JMX reserves (group ids may). */
    private static String jmxValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (",=:*?\"\n\\".indexOf(value.charAt(i)) >= 0) {
                return ObjectName.quote(value);
            }
        }
        return value;
    }

    public Meter meter(String domain, String type, String name, String eventType, Map<String, String> tagMap) {
        MetricName n = name(domain, type, name, tagMap);
        tags.put(n, orderedCopy(tagMap));
        return registry.newMeter(n, eventType, TimeUnit.SECONDS);
    }

    /** Biased (exponentially decaying) as Kafka's request histograms: percentiles of the last minutes. */
    public Histogram histogram(String domain, String type, String name, Map<String, String> tagMap) {
        MetricName n = name(domain, type, name, tagMap);
        tags.put(n, orderedCopy(tagMap));
        return registry.newHistogram(n, true);
    }

    public <T> void gauge(String domain, String type, String name, Map<String, String> tagMap, Supplier<T> value) {
        MetricName n = name(domain, type, name, tagMap);
        tags.put(n, orderedCopy(tagMap));
        registry.newGauge(n, new Gauge<T>() {
            @Override
            public T value() {
                return value.get();
            }
        });
    }

    /** A metric that is none of Yammer's kinds but reports as one (its MBean has that kind's attributes). */
    public <T extends Metric> T add(String domain, String type, String name, Map<String, String> tagMap, T metric) {
        MetricName n = name(domain, type, name, tagMap);
        tags.put(n, orderedCopy(tagMap));
        return registry.add(n, metric);
    }

    public void remove(String domain, String type, String name, Map<String, String> tagMap) {
        MetricName n = name(domain, type, name, tagMap);
        registry.removeMetric(n);
        tags.remove(n);
    }

    private static Map<String, String> orderedCopy(Map<String, String> tagMap) {
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tagMap));
    }

    Map<MetricName, Metric> yammerMetrics() {
        return registry.allMetrics();
    }

    Map<String, String> tagsOf(MetricName name) {
        return tags.getOrDefault(name, Map.of());
    }

    // ------------------------------------------------------------------ Prometheus

    /** Runs before each scrape (e.g. bringing per-partition gauges up to date). */
    public void beforeScrape(Runnable task) {
        beforeScrape.add(task);
    }

    /** Everything, in the Prometheus text format 0.0.4. */
    public String prometheusText() {
        for (Runnable task : beforeScrape) {
            task.run();
        }
        StringWriter out = new StringWriter(16 * 1024);
        try {
            TextFormat.write004(out, prometheus().metricFamilySamples());
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not throw
        }
        return out.toString();
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (jmx != null) {
            jmx.shutdown();
        }
        kafkaMetrics.close();
        registry.shutdown();
        if (jmxOwner != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(jmxOwner);
            } catch (JMException e) {
                log.debug("Cannot unregister {}: {}", jmxOwner, e.toString());
            }
        }
    }
}
