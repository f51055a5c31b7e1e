package io.gregor.broker.metrics;

import com.yammer.metrics.core.Gauge;
import com.yammer.metrics.core.Histogram;
import com.yammer.metrics.core.Metered;
import com.yammer.metrics.core.Metric;
import com.yammer.metrics.core.MetricName;
import com.yammer.metrics.stats.Snapshot;
import io.prometheus.client.Collector;
import org.apache.kafka.common.metrics.KafkaMetric;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The broker's Kafka metrics as the Prometheus JMX exporter's Kafka rules (example_configs/kafka-2_0_0.yml,
 * lowercaseOutputName) name them, so dashboards and alerts built on those work against /metrics unchanged:
 * <ul>
 * <li>a meter {@code kafka.D:type=T,name=XPerSec,tags} is the counter {@code kafka_D_T_X_total{tags}} (its Count);
 * <li>a gauge {@code kafka.D:type=T,name=N,tags} is {@code kafka_D_T_N{tags}} (its Value), and a name ending in
 *     Percent is {@code kafka_D_T_N_percent} with Percent taken off (for a meter, RequestHandlerAvgIdlePercent,
 *     its OneMinuteRate);
 * <li>a histogram is the summary {@code kafka_D_T_N{tags,quantile="0.50"...}} with {@code _count} and {@code _sum};
 * <li>Kafka's metrics classes' {@code kafka.server:type=G,tags} attribute A is {@code kafka_server_G_A{tags}}
 *     with dashes as underscores, as the exporter names MBeans no rule matches.
 * </ul>
 * Gregor's consumer lag ({@code io.gregor:type=ConsumerLag}) is named as kafka_exporter names it:
 * {@code kafka_consumergroup_lag{consumergroup,topic,partition}} and {@code kafka_consumergroup_current_offset}.
 */
final class PrometheusExport extends Collector {
    private static final String[] QUANTILES = {"0.50", "0.75", "0.95", "0.98", "0.99", "0.999"};
    private static final double[] QUANTILE_VALUES = {0.50, 0.75, 0.95, 0.98, 0.99, 0.999};

    private final BrokerMetrics metrics;

    PrometheusExport(BrokerMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        // families by name: a family's samples must be together in the text format
        Map<String, MetricFamilySamples> families = new TreeMap<>();
        for (Map.Entry<MetricName, Metric> e : metrics.yammerMetrics().entrySet()) {
            add(families, e.getKey(), metrics.tagsOf(e.getKey()), e.getValue());
        }
        for (KafkaMetric m : metrics.kafkaMetrics().metrics().values()) {
            Object value = m.metricValue();
            if (!(value instanceof Number n) || m.metricName().group().equals("kafka-metrics-count")) {
                continue;
            }
            String name = sanitize("kafka_server_" + m.metricName().group() + "_" + m.metricName().name());
            family(families, name, Type.GAUGE, m.metricName().description())
                    .samples.add(sample(name, m.metricName().tags(), null, n.doubleValue()));
        }
        return new ArrayList<>(families.values());
    }

    private static void add(Map<String, MetricFamilySamples> families, MetricName n, Map<String, String> tags, Metric metric) {
        String base;
        if (n.getGroup().equals(PartitionMetrics.LAG_DOMAIN)) {
            base = n.getName().equals(PartitionMetrics.LAG) ? "kafka_consumergroup_lag" : "kafka_consumergroup_current_offset";
            Map<String, String> labels = new java.util.LinkedHashMap<>();
            labels.put("consumergroup", tags.get("group"));
            labels.put("topic", tags.get("topic"));
            labels.put("partition", tags.get("partition"));
            tags = labels;
        } else {
            base = sanitize(n.getGroup() + "_" + n.getType() + "_").toLowerCase(Locale.ROOT);
            String name = n.getName();
            if (name.endsWith("Percent")) {
                base += name.substring(0, name.length() - "Percent".length()).toLowerCase(Locale.ROOT) + "_percent";
            } else if (metric instanceof Metered) {
                int perSec = name.indexOf("PerSec");
                base += (perSec >= 0 ? name.substring(0, perSec) : name).toLowerCase(Locale.ROOT);
            } else {
                base += name.toLowerCase(Locale.ROOT);
            }
        }
        if (metric instanceof Metered meter && n.getName().endsWith("Percent")) {
            // a meter of idle time per nanosecond (RequestHandlerAvgIdlePercent): its recent rate is the share
            family(families, base, Type.GAUGE, n.getMBeanName()).samples.add(sample(base, tags, null, meter.oneMinuteRate()));
        } else if (metric instanceof Metered meter) {
            family(families, base, Type.COUNTER, n.getMBeanName()).samples
                    .add(sample(base + "_total", tags, null, meter.count()));
        } else if (metric instanceof Histogram h) {
            MetricFamilySamples f = family(families, base, Type.SUMMARY, n.getMBeanName());
            Snapshot snapshot = h.getSnapshot();
            for (int i = 0; i < QUANTILES.length; i++) {
                f.samples.add(sample(base, tags, QUANTILES[i], snapshot.getValue(QUANTILE_VALUES[i])));
            }
            f.samples.add(sample(base + "_count", tags, null, h.count()));
            f.samples.add(sample(base + "_sum", tags, null, h.sum()));
        } else if (metric instanceof Gauge<?> g) {
            Object value = g.value();
            if (value instanceof Number v) {
                family(families, base, Type.GAUGE, n.getMBeanName()).samples.add(sample(base, tags, null, v.doubleValue()));
            }
        }
    }

    private static MetricFamilySamples family(Map<String, MetricFamilySamples> families, String name, Type type, String help) {
        return families.computeIfAbsent(name, k -> new MetricFamilySamples(k, type, help, new ArrayList<>()));
    }

    private static MetricFamilySamples.Sample sample(String name, Map<String, String> tags, String quantile, double value) {
        List<String> names = new ArrayList<>(tags.size() + 1);
        List<String> values = new ArrayList<>(tags.size() + 1);
        for (Map.Entry<String, String> t : tags.entrySet()) {
            names.add(sanitize(t.getKey()));
            values.add(t.getValue());
        }
        if (quantile != null) {
            names.add("quantile");
            values.add(quantile);
        }
        return new MetricFamilySamples.Sample(name, names, values, value);
    }

    private static String sanitize(String name) {
        return name.replaceAll("[^a-zA-Z0-9_:]", "_");
    }
}
