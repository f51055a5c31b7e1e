package io.gregor.broker.console;

import io.gregor.broker.Topics;
import io.gregor.broker.console.ConsoleModel.BrokerRow;
import io.gregor.broker.console.ConsoleModel.Cluster;
import io.gregor.broker.console.ConsoleModel.ConfigRow;
import io.gregor.broker.console.ConsoleModel.GroupDetail;
import io.gregor.broker.console.ConsoleModel.GroupSummary;
import io.gregor.broker.console.ConsoleModel.MemberRow;
import io.gregor.broker.console.ConsoleModel.OffsetRow;
import io.gregor.broker.console.ConsoleModel.PartitionRow;
import io.gregor.broker.console.ConsoleModel.Produced;
import io.gregor.broker.console.ConsoleModel.RecordPage;
import io.gregor.broker.console.ConsoleModel.TopicDetail;
import io.gregor.broker.console.ConsoleModel.TopicSummary;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.Partition;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigEntry;
import io.gregor.config.TopicConfigs;
import io.gregor.coordinator.CommittedOffset;
import io.gregor.coordinator.GroupCoordinator;
import io.gregor.coordinator.GroupState;
import io.gregor.storage.AppendResult;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.TimestampOffset;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker as the console sees it, read in-process from its own components: the metadata store, the
 * partitions and their logs, and the group coordinator. Writes (create, delete, produce) go through the same
 * paths the Kafka API handlers use.
 */
public final class BrokerView {
    private static final short DESCRIBE_GROUPS_VERSION = 5;
    private static final short LIST_GROUPS_VERSION = 5;

    private final int brokerId;
    private final String clusterId;
    private final BrokerConfig config;
    private final Topics topics;
    private final GroupCoordinator groups;
    private final Map<String, InetSocketAddress> advertised;
    private final Time time;
    private final RecordReader reader = new RecordReader();
    /** Spreads keyless test records over the partitions, as a producer's round-robin would. */
    private final AtomicInteger nextKeylessPartition = new AtomicInteger();

    /** {@code advertised}: the listeners by name, filled in as they bind (read at each request). */
    public BrokerView(int brokerId, String clusterId, BrokerConfig config, Topics topics, GroupCoordinator groups,
                      Map<String, InetSocketAddress> advertised, Time time) {
        this.brokerId = brokerId;
        this.clusterId = clusterId;
        this.config = config;
        this.topics = topics;
        this.groups = groups;
        this.advertised = advertised;
        this.time = time;
    }

    int brokerId() {
        return brokerId;
    }

    String clusterId() {
        return clusterId;
    }

    // ------------------------------------------------------------------ cluster

    Cluster cluster() {
        MetadataStore store = topics.store();
        boolean clustered = store.clustered();
        int controller = clustered ? store.controllerId() : brokerId;
        List<BrokerRow> brokers = new ArrayList<>();
        List<String> listeners = new ArrayList<>();
        new TreeMap<>(advertised).forEach((name, a) -> listeners.add(name + "://" + a.getHostString() + ":" + a.getPort()));
        if (clustered) {
            for (BrokerInfo b : store.liveBrokers()) {
                brokers.add(new BrokerRow(b.id(), b.host(), b.port(), b.rack(), b.id() == controller, b.id() == brokerId));
            }
            brokers.sort(Comparator.comparingInt(BrokerRow::id));
        } else {
            InetSocketAddress first = advertised.get(config.listeners().get(0).listenerName());
            brokers.add(new BrokerRow(brokerId, first == null ? "" : first.getHostString(),
                    first == null ? -1 : first.getPort(), config.rack().orElse(null), true, true));
        }
        int partitions = 0;
        for (TopicMetadata t : topics.all()) {
            partitions += t.partitionCount();
        }
        return new Cluster(clusterId, brokerId, controller, clustered, brokers, listeners, topics.all().size(),
                partitions, groups.listGroups(List.of(), List.of(), LIST_GROUPS_VERSION).size());
    }

    // ------------------------------------------------------------------ topics

    List<TopicSummary> topicSummaries() {
        List<TopicSummary> out = new ArrayList<>();
        for (TopicMetadata t : topics.all()) {
            out.add(summary(t, partitionRows(t)));
        }
        out.sort(Comparator.comparing(TopicSummary::internal).thenComparing(TopicSummary::name));
        return out;
    }

    Optional<TopicDetail> topic(String name) {
        return topics.topic(name).map(t -> {
            List<PartitionRow> rows = partitionRows(t);
            List<ConfigRow> configs = new ArrayList<>();
            for (ConfigEntry e : TopicConfigs.describe(config, t.configs())) {
                configs.add(new ConfigRow(e.name(), e.value(), e.source().name()));
            }
            return new TopicDetail(summary(t, rows), rows, configs);
        });
    }

    private TopicSummary summary(TopicMetadata t, List<PartitionRow> rows) {
        long size = 0;
        long records = 0;
        int underReplicated = 0;
        for (PartitionRow r : rows) {
            size += Math.max(0, r.sizeBytes());
            records += Math.max(0, r.readable());
            if (r.isr().size() < r.replicas().size()) {
                underReplicated++;
            }
        }
        int rf = rows.isEmpty() ? 0 : rows.get(0).replicas().size();
        return new TopicSummary(t.name(), t.topicId().toString(), t.isInternal(), t.partitionCount(), rf, size,
                records, underReplicated);
    }

    private List<PartitionRow> partitionRows(TopicMetadata t) {
        MetadataStore store = topics.store();
        List<PartitionRow> rows = new ArrayList<>(t.partitionCount());
        for (int p = 0; p < t.partitionCount(); p++) {
            int leader;
            List<Integer> replicas;
            List<Integer> isr;
            if (store.clustered()) {
                Optional<PartitionState> state = store.partitionState(t.name(), p);
                leader = state.map(PartitionState::leader).orElse(PartitionState.NO_LEADER);
                isr = state.map(PartitionState::isr).orElse(List.of());
                replicas = store.replicas(t.name(), p);
            } else {
                leader = brokerId;
                isr = List.of(brokerId);
                replicas = List.of(brokerId);
            }
            Optional<Partition> local = topics.partition(t.name(), p);
            if (local.isPresent()) {
                PartitionLog log = local.get().log();
                rows.add(new PartitionRow(p, leader, replicas, isr, true, log.sizeInBytes(), log.logStartOffset(),
                        log.logEndOffset(), log.highWatermark()));
            } else {
                rows.add(new PartitionRow(p, leader, replicas, isr, false, -1, -1, -1, -1));
            }
        }
        return rows;
    }

    /** Creates a topic as CreateTopics does; -1 takes the broker's default. */
    TopicMetadata createTopic(String name, int partitions, short replicationFactor, Map<String, String> configs) {
        return topics.create(name, partitions, replicationFactor, configs, false);
    }

    TopicMetadata deleteTopic(String name) {
        return topics.delete(name);
    }

    // ------------------------------------------------------------------ records

    /**
     * Up to {@code limit} records of a partition from {@code offset}, or from the first record at or after
     * {@code timestamp} when that is not null. What consumers cannot read yet (above the high watermark) is
     * not shown; a start past the end gives an empty page.
     */
    RecordPage records(String topic, int partition, Long offset, Long timestamp, int limit, RecordReader.Format format) {
        PartitionLog log = hostedLog(topic, partition);
        long start = log.logStartOffset();
        long end = log.highWatermark();
        long from;
        String note = null;
        if (timestamp != null) {
            Optional<TimestampOffset> found = log.offsetForTimestamp(timestamp);
            from = found.map(TimestampOffset::offset).orElse(end);
            if (found.isEmpty()) {
                note = "No record has a timestamp at or after " + timestamp + ".";
            }
        } else {
            from = offset == null ? start : offset;
            if (from < start) {
                note = "Offset " + from + " is before the log start offset " + start + "; showing from " + start + ".";
                from = start;
            }
        }
        if (from >= end) {
            if (note == null) {
                note = "No records at or after offset " + from + " (the end is " + end + ").";
            }
            return new RecordPage(topic, partition, start, end, from, List.of(), from, note);
        }
        RecordReader.Page page = reader.read(log, from, end, limit, format);
        return new RecordPage(topic, partition, start, end, from, page.records(), page.nextOffset(), note);
    }

    /** Appends one record as the leader, as a producer's acks=1 request would. */
    Produced produce(String topic, Integer partition, byte[] key, byte[] value, Map<String, byte[]> headers) {
        TopicMetadata t = topics.topic(topic)
                .orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + topic + "' does not exist."));
        if (t.isInternal()) {
            throw new InvalidRequestException("Cannot produce to the internal topic " + topic);
        }
        int p;
        if (partition != null) {
            p = partition;
        } else if (key != null) {
            p = Utils.toPositive(Utils.murmur2(key)) % t.partitionCount();
        } else {
            p = Math.floorMod(nextKeylessPartition.getAndIncrement(), t.partitionCount());
        }
        if (p < 0 || p >= t.partitionCount()) {
            throw new InvalidPartitionsException("Topic " + topic + " has no partition " + p
                    + " (it has " + t.partitionCount() + ")");
        }
        Partition leader = topics.partition(topic, p).filter(Partition::isLeader)
                .orElseThrow(() -> new NotLeaderOrFollowerException("Broker " + brokerId + " does not lead " + topic
                        + "-" + p + "; produce through the console of its leader"));
        Header[] hs = new Header[headers.size()];
        int i = 0;
        for (Map.Entry<String, byte[]> h : headers.entrySet()) {
            hs[i++] = new RecordHeader(h.getKey(), h.getValue());
        }
        long now = time.milliseconds();
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(now, key, value, hs));
        AppendResult appended;
        try {
            appended = leader.appendAsLeader(records.buffer(), now);
        } catch (io.gregor.storage.errors.KafkaStorageException e) {
            topics.logDirHealth().appendFailed(leader.topicPartition(), e);
            throw e;
        }
        topics.logDirHealth().appendSucceeded(leader.topicPartition());
        return new Produced(topic, p, appended.firstOffset(), appended.logAppendTimeMs() > 0 ? appended.logAppendTimeMs() : now);
    }

    private PartitionLog hostedLog(String topic, int partition) {
        TopicMetadata t = topics.topic(topic)
                .orElseThrow(() -> new UnknownTopicOrPartitionException("Topic '" + topic + "' does not exist."));
        if (partition < 0 || partition >= t.partitionCount()) {
            throw new UnknownTopicOrPartitionException("Topic " + topic + " has no partition " + partition);
        }
        return topics.partition(topic, partition).map(Partition::log)
                .orElseThrow(() -> new NotLeaderOrFollowerException("Broker " + brokerId + " does not host "
                        + topic + "-" + partition + "; browse it on a broker that does"));
    }

    // ------------------------------------------------------------------ groups

    List<GroupSummary> groupSummaries() {
        List<GroupSummary> out = new ArrayList<>();
        for (ListedGroup g : groups.listGroups(List.of(), List.of(), LIST_GROUPS_VERSION)) {
            DescribedGroup d = groups.describeGroup(g.groupId(), DESCRIBE_GROUPS_VERSION, false);
            out.add(new GroupSummary(g.groupId(), g.groupState(), g.protocolType(), d.members().size()));
        }
        return out;
    }

    Optional<GroupDetail> group(String groupId) {
        DescribedGroup d = groups.describeGroup(groupId, DESCRIBE_GROUPS_VERSION, false);
        Map<TopicPartition, CommittedOffset> committed = groups.committedOffsets(groupId, null);
        boolean dead = GroupState.DEAD.wireName().equals(d.groupState());
        if (dead && committed.isEmpty()) {
            return Optional.empty();
        }
        List<MemberRow> members = new ArrayList<>();
        Map<TopicPartition, String> owners = new HashMap<>();
        for (DescribedGroupMember m : d.members()) {
            List<String> assigned = new ArrayList<>();
            for (TopicPartition tp : assignment(d.protocolType(), m.memberAssignment())) {
                assigned.add(tp.toString());
                owners.put(tp, m.memberId());
            }
            members.add(new MemberRow(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(), assigned));
        }
        members.sort(Comparator.comparing(MemberRow::memberId));
        Map<TopicPartition, Long> offsets = new TreeMap<>(Comparator.comparing(TopicPartition::topic)
                .thenComparingInt(TopicPartition::partition));
        committed.forEach((tp, c) -> offsets.put(tp, c.offset()));
        owners.keySet().forEach(tp -> offsets.putIfAbsent(tp, -1L));
        List<OffsetRow> rows = new ArrayList<>();
        offsets.forEach((tp, c) -> {
            long end = topics.partition(tp.topic(), tp.partition()).map(p -> p.log().highWatermark()).orElse(-1L);
            long lag = end < 0 || c < 0 ? -1 : Math.max(0, end - c);
            rows.add(new OffsetRow(tp.topic(), tp.partition(), c, end, lag, owners.get(tp)));
        });
        String state = dead ? GroupState.EMPTY.wireName() : d.groupState();
        return Optional.of(new GroupDetail(groupId, state, d.protocolType(), d.protocolData(), members, rows));
    }

    /** A consumer group member's assigned partitions; other protocols' assignments are opaque. */
    private static List<TopicPartition> assignment(String protocolType, byte[] bytes) {
        if (!"consumer".equals(protocolType) || bytes == null || bytes.length == 0) {
            return List.of();
        }
        try {
            return ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(bytes)).partitions();
        } catch (RuntimeException e) {
            return List.of();
        }
    }
}
