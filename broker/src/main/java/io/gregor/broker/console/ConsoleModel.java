package io.gregor.broker.console;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the console shows, read from the broker at one moment; the HTML pages and the JSON API render the
 * same values. -1 stands for "not known here" (a partition this broker does not host).
 */
final class ConsoleModel {
    private ConsoleModel() {
    }

    record BrokerRow(int id, String host, int port, String rack, boolean controller, boolean local) {
        Map<String, Object> json() {
            return map("id", id, "host", host, "port", port, "rack", rack, "controller", controller, "local", local);
        }
    }

    record Cluster(String clusterId, int brokerId, int controllerId, boolean zooKeeper, List<BrokerRow> brokers,
                   List<String> listeners, int topics, int partitions, int groups) {
        Map<String, Object> json() {
            return map("clusterId", clusterId, "brokerId", brokerId, "controllerId", controllerId,
                    "zooKeeper", zooKeeper, "brokers", brokers.stream().map(BrokerRow::json).toList(),
                    "listeners", listeners, "topics", topics, "partitions", partitions, "groups", groups);
        }
    }

    record PartitionRow(int partition, int leader, List<Integer> replicas, List<Integer> isr, boolean hosted,
                        long sizeBytes, long logStartOffset, long logEndOffset, long highWatermark) {
        /** Records a consumer can read now (compaction may have removed some in between). */
        long readable() {
            return hosted ? Math.max(0, highWatermark - logStartOffset) : -1;
        }

        Map<String, Object> json() {
            return map("partition", partition, "leader", leader, "replicas", replicas, "isr", isr, "hosted", hosted,
                    "sizeBytes", sizeBytes, "logStartOffset", logStartOffset, "logEndOffset", logEndOffset,
                    "highWatermark", highWatermark);
        }
    }

    record TopicSummary(String name, String topicId, boolean internal, int partitions, int replicationFactor,
                        long sizeBytes, long records, int underReplicated) {
        Map<String, Object> json() {
            return map("name", name, "topicId", topicId, "internal", internal, "partitions", partitions,
                    "replicationFactor", replicationFactor, "sizeBytes", sizeBytes, "records", records,
                    "underReplicatedPartitions", underReplicated);
        }
    }

    record ConfigRow(String name, String value, String source) {
        boolean overridden() {
            return source.equals("TOPIC_CONFIG");
        }

        Map<String, Object> json() {
            return map("name", name, "value", value, "source", source);
        }
    }

    record TopicDetail(TopicSummary summary, List<PartitionRow> partitions, List<ConfigRow> configs) {
        Map<String, Object> json() {
            Map<String, Object> m = summary.json();
            m.put("partitionDetails", partitions.stream().map(PartitionRow::json).toList());
            m.put("configs", configs.stream().map(ConfigRow::json).toList());
            return m;
        }
    }

    /** Bytes shown as text when they are printable UTF-8 (or text was asked for), else as hex. */
    record Shown(String text, boolean hex) {
        static final Shown NULL = new Shown(null, false);

        Object encoding() {
            return text == null ? null : hex ? "hex" : "text";
        }
    }

    record HeaderRow(String key, Shown value) {
    }

    record RecordRow(long offset, long timestamp, String timestampType, Shown key, Shown value,
                     int valueSize, List<HeaderRow> headers) {
        Map<String, Object> json() {
            List<Object> hs = headers.stream().map(h -> (Object) map("key", h.key(), "value", h.value().text(),
                    "valueEncoding", h.value().encoding())).toList();
            return map("offset", offset, "timestamp", timestamp, "timestampType", timestampType,
                    "key", key.text(), "keyEncoding", key.encoding(), "value", value.text(),
                    "valueEncoding", value.encoding(), "valueSize", valueSize, "headers", hs);
        }
    }

    /**
     * One page of a partition's records from {@code from}; {@code nextOffset} is where the next page starts.
     * {@code note} says why the page starts elsewhere than asked, or why it is empty.
     */
    record RecordPage(String topic, int partition, long logStartOffset, long highWatermark, long from,
                      List<RecordRow> records, long nextOffset, String note) {
        Map<String, Object> json() {
            return map("topic", topic, "partition", partition, "logStartOffset", logStartOffset,
                    "highWatermark", highWatermark, "from", from, "nextOffset", nextOffset, "note", note,
                    "records", records.stream().map(RecordRow::json).toList());
        }
    }

    record Produced(String topic, int partition, long offset, long timestamp) {
        Map<String, Object> json() {
            return map("topic", topic, "partition", partition, "offset", offset, "timestamp", timestamp);
        }
    }

    record GroupSummary(String groupId, String state, String protocolType, int members) {
        Map<String, Object> json() {
            return map("groupId", groupId, "state", state, "protocolType", protocolType, "members", members);
        }
    }

    record MemberRow(String memberId, String groupInstanceId, String clientId, String clientHost,
                     List<String> assignment) {
        Map<String, Object> json() {
            return map("memberId", memberId, "groupInstanceId", groupInstanceId, "clientId", clientId,
                    "clientHost", clientHost, "assignment", assignment);
        }
    }

    /** A partition's committed offset and lag; lag is -1 where the end offset is not known here. */
    record OffsetRow(String topic, int partition, long committed, long endOffset, long lag, String memberId) {
        Map<String, Object> json() {
            return map("topic", topic, "partition", partition, "committedOffset", committed, "endOffset", endOffset,
                    "lag", lag, "memberId", memberId);
        }
    }

    record GroupDetail(String groupId, String state, String protocolType, String protocol, List<MemberRow> members,
                       List<OffsetRow> offsets) {
        long totalLag() {
            return offsets.stream().mapToLong(OffsetRow::lag).filter(l -> l >= 0).sum();
        }

        Map<String, Object> json() {
            return map("groupId", groupId, "state", state, "protocolType", protocolType, "protocol", protocol,
                    "members", members.stream().map(MemberRow::json).toList(),
                    "offsets", offsets.stream().map(OffsetRow::json).toList(), "totalLag", totalLag());
        }
    }

    /** An ordered JSON object from alternating keys and values (nulls allowed, unlike Map.of). */
    static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
