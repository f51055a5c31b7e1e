package io.gregor.broker.metrics;

import io.gregor.broker.replica.Partition;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.coordinator.CommittedOffset;
import io.gregor.coordinator.GroupCoordinator;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The metrics that come and go with partitions and groups, brought up to date periodically and before each
 * scrape (their values are read when read, so only the set of them lags):
 * <ul>
 * <li>kafka.log:type=Log,name=Size|LogStartOffset|LogEndOffset,topic=T,partition=P for each partition hosted here,
 *     and BrokerTopicMetrics' per-topic meters only for topics hosted here (a deleted topic's go);
 * <li>Gregor's consumer lag, which Kafka's broker does not have: io.gregor:type=ConsumerLag,name=Lag|CommittedOffset,
 *     group=G,topic=T,partition=P for each committed offset of a group this broker coordinates, on a partition
 *     hosted here. Lag is the partition's high watermark (the end a read_uncommitted consumer sees, as
 *     kafka-consumer-groups.sh shows LOG-END-OFFSET) minus the committed offset, at least 0.
 * </ul>
 */
public final class PartitionMetrics {
    static final String LAG_DOMAIN = "io.gregor";
    static final String LAG_TYPE = "ConsumerLag";
    static final String LAG = "Lag";
    static final String COMMITTED = "CommittedOffset";
    private static final String[] LOG_GAUGES = {"Size", "LogStartOffset", "LogEndOffset"};

    private final BrokerMetrics metrics;
    private final ReplicaManager replicas;
    private final GroupCoordinator groups;
    private final Set<TopicPartition> logsShown = new HashSet<>();
    private final Set<GroupPartition> lagShown = new HashSet<>();

    private record GroupPartition(String group, TopicPartition partition) {
        Map<String, String> tags() {
            Map<String, String> tags = new LinkedHashMap<>();
            tags.put("group", group);
            tags.put("topic", partition.topic());
            tags.put("partition", Integer.toString(partition.partition()));
            return tags;
        }
    }

    public PartitionMetrics(BrokerMetrics metrics, ReplicaManager replicas, GroupCoordinator groups) {
        this.metrics = metrics;
        this.replicas = replicas;
        this.groups = groups;
    }

    private static Map<String, String> logTags(TopicPartition tp) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("topic", tp.topic());
        tags.put("partition", Integer.toString(tp.partition()));
        return tags;
    }

    private Optional<Partition> partition(TopicPartition tp) {
        return replicas.partition(tp.topic(), tp.partition());
    }

    /** Registers the gauges of new partitions and groups' offsets, removes those of gone ones. */
    public synchronized void refresh() {
        Set<TopicPartition> hosted = new HashSet<>();
        for (Partition p : replicas.partitions()) {
            TopicPartition tp = new TopicPartition(p.topicPartition().topic(), p.topicPartition().partition());
            hosted.add(tp);
            if (logsShown.add(tp)) {
                Map<String, String> tags = logTags(tp);
                metrics.gauge("kafka.log", "Log", "Size", tags, () -> partition(tp).map(x -> x.log().sizeInBytes()).orElse(0L));
                metrics.gauge("kafka.log", "Log", "LogStartOffset", tags,
                        () -> partition(tp).map(x -> x.log().logStartOffset()).orElse(-1L));
                metrics.gauge("kafka.log", "Log", "LogEndOffset", tags,
                        () -> partition(tp).map(x -> x.log().logEndOffset()).orElse(-1L));
            }
        }
        Set<String> hostedTopics = new HashSet<>();
        for (TopicPartition tp : hosted) {
            hostedTopics.add(tp.topic());
        }
        metrics.topics().retainOnly(hostedTopics, topic -> replicas.partition(topic, 0).isPresent());
        for (var it = logsShown.iterator(); it.hasNext(); ) {
            TopicPartition tp = it.next();
            if (!hosted.contains(tp)) {
                it.remove();
                for (String name : LOG_GAUGES) {
                    metrics.remove("kafka.log", "Log", name, logTags(tp));
                }
            }
        }

        Set<GroupPartition> committed = new HashSet<>();
        for (ListedGroup listed : groups.listGroups(List.of(), List.of(), (short) 5)) {
            for (TopicPartition tp : groups.committedOffsets(listed.groupId(), null).keySet()) {
                if (hosted.contains(tp)) {
                    committed.add(new GroupPartition(listed.groupId(), tp));
                }
            }
        }
        for (GroupPartition gp : committed) {
            if (lagShown.add(gp)) {
                metrics.gauge(LAG_DOMAIN, LAG_TYPE, COMMITTED, gp.tags(), () -> committedOffset(gp));
                metrics.gauge(LAG_DOMAIN, LAG_TYPE, LAG, gp.tags(), () -> {
                    long offset = committedOffset(gp);
                    long end = partition(gp.partition).map(x -> x.log().highWatermark()).orElse(-1L);
                    return offset < 0 || end < 0 ? 0L : Math.max(0L, end - offset);
                });
            }
        }
        for (var it = lagShown.iterator(); it.hasNext(); ) {
            GroupPartition gp = it.next();
            if (!committed.contains(gp)) {
                it.remove();
                metrics.remove(LAG_DOMAIN, LAG_TYPE, COMMITTED, gp.tags());
                metrics.remove(LAG_DOMAIN, LAG_TYPE, LAG, gp.tags());
            }
        }
    }

    private long committedOffset(GroupPartition gp) {
        CommittedOffset c = groups.committedOffsets(gp.group, Map.of(gp.partition.topic(), List.of(gp.partition.partition())))
                .get(gp.partition);
        return c == null ? -1L : c.offset();
    }
}
