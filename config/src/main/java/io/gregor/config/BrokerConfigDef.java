package io.gregor.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

import java.util.List;
import java.util.Map;

import static io.gregor.config.ConfigParsing.nullOr;
import static io.gregor.config.ConfigParsing.oneOf;
import static org.apache.kafka.common.config.ConfigDef.Importance.HIGH;
import static org.apache.kafka.common.config.ConfigDef.Importance.LOW;
import static org.apache.kafka.common.config.ConfigDef.Importance.MEDIUM;
import static org.apache.kafka.common.config.ConfigDef.Range.atLeast;
import static org.apache.kafka.common.config.ConfigDef.Range.between;
import static org.apache.kafka.common.config.ConfigDef.Type.BOOLEAN;
import static org.apache.kafka.common.config.ConfigDef.Type.DOUBLE;
import static org.apache.kafka.common.config.ConfigDef.Type.INT;
import static org.apache.kafka.common.config.ConfigDef.Type.LIST;
import static org.apache.kafka.common.config.ConfigDef.Type.LONG;
import static org.apache.kafka.common.config.ConfigDef.Type.SHORT;
import static org.apache.kafka.common.config.ConfigDef.Type.STRING;

/**
 * The broker keys Gregor knows, with Kafka's names, types, defaults and validators (checked against
 * the Kafka 4.4 definitions; the zookeeper.* keys follow Kafka 3.9, the last release that had them).
 */
final class BrokerConfigDef {
    private BrokerConfigDef() {
    }

    /** Kafka's authorizer classes (KRaft's and ZooKeeper mode's) and Gregor's own name; all mean the built-in ACLs. */
    static final List<String> AUTHORIZER_CLASSES = List.of("org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "kafka.security.authorizer.AclAuthorizer", "io.gregor.broker.authz.AclAuthorizer");

    static final String[] COMPRESSION_TYPES = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};
    static final String[] CLEANUP_POLICIES = {"compact", "delete"};
    static final String[] TIMESTAMP_TYPES = {"CreateTime", "LogAppendTime"};
    static final String DEFAULT_SECURITY_PROTOCOL_MAP =
            "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT";

    /** Broker keys that feed one value, highest precedence first (Kafka reports them as DescribeConfigs synonyms). */
    static final Map<String, List<String>> SYNONYM_GROUPS;

    static final ConfigDef DEF = new ConfigDef();

    static {
        List<String> retention = List.of("log.retention.ms", "log.retention.minutes", "log.retention.hours");
        List<String> roll = List.of("log.roll.ms", "log.roll.hours");
        List<String> jitter = List.of("log.roll.jitter.ms", "log.roll.jitter.hours");
        SYNONYM_GROUPS = Map.of(
                "log.retention.ms", retention, "log.retention.minutes", retention, "log.retention.hours", retention,
                "log.roll.ms", roll, "log.roll.hours", roll,
                "log.roll.jitter.ms", jitter, "log.roll.jitter.hours", jitter,
                "log.flush.interval.ms", List.of("log.flush.interval.ms", "log.flush.scheduler.interval.ms"));

        // --- identity and networking
        DEF.define("broker.id", INT, -1, HIGH, "Id of this broker; -1 means unset. Must equal node.id when both are set.");
        DEF.define("node.id", INT, null, nullOr(atLeast(0)), HIGH, "Id of this node; takes precedence over broker.id.");
        DEF.define("broker.rack", STRING, null, MEDIUM, "Rack of the broker, reported in Metadata.");
        DEF.define("listeners", LIST, "PLAINTEXT://:9092", HIGH,
                "Comma-separated NAME://host:port listeners to bind. An empty host binds all interfaces.");
        DEF.define("advertised.listeners", LIST, null, HIGH,
                "Listeners published to clients, if different from listeners. Defaults to listeners.");
        DEF.define("listener.security.protocol.map", STRING, DEFAULT_SECURITY_PROTOCOL_MAP, LOW,
                "Maps listener names to security protocols, as NAME:PROTOCOL pairs.");
        DEF.define("num.network.threads", INT, 3, atLeast(1), HIGH, "Threads handling network I/O.");
        DEF.define("num.io.threads", INT, 8, atLeast(1), HIGH, "Threads processing requests, including disk I/O.");
        DEF.define("background.threads", INT, 10, atLeast(1), HIGH, "Threads for background tasks.");
        DEF.define("queued.max.requests", INT, 500, atLeast(1), HIGH,
                "Requests queued for the I/O threads before network threads stop reading.");
        DEF.define("queued.max.request.bytes", LONG, -1L, MEDIUM, "Bytes of queued requests allowed; -1 is unlimited.");
        DEF.define("socket.send.buffer.bytes", INT, 102400, HIGH, "SO_SNDBUF of server sockets; -1 uses the OS default.");
        DEF.define("socket.receive.buffer.bytes", INT, 102400, HIGH, "SO_RCVBUF of server sockets; -1 uses the OS default.");
        DEF.define("socket.request.max.bytes", INT, 104857600, atLeast(1), HIGH, "Largest request accepted, in bytes.");
        DEF.define("socket.listen.backlog.size", INT, 50, atLeast(1), MEDIUM, "Accept backlog of server sockets.");
        DEF.define("connections.max.idle.ms", LONG, 600000L, MEDIUM, "Idle connections are closed after this long.");
        DEF.define("max.connections", INT, Integer.MAX_VALUE, atLeast(0), MEDIUM, "Connections allowed per broker.");
        DEF.define("max.connections.per.ip", INT, Integer.MAX_VALUE, atLeast(0), MEDIUM, "Connections allowed per client IP.");
        DEF.define("request.timeout.ms", INT, 30000, HIGH, "Timeout for requests the broker sends.");
        DEF.define("fetch.max.bytes", INT, 57671680, atLeast(1024), MEDIUM, "Most bytes returned by one Fetch request.");
        DEF.define("max.incremental.fetch.session.cache.slots", INT, 1000, atLeast(0), MEDIUM,
                "Incremental fetch sessions kept.");

        // --- topics
        DEF.define("auto.create.topics.enable", BOOLEAN, true, HIGH, "Create unknown topics on metadata requests.");
        DEF.define("delete.topic.enable", BOOLEAN, true, HIGH, "Allow DeleteTopics.");
        DEF.define("num.partitions", INT, 1, atLeast(1), MEDIUM, "Partitions of auto-created topics.");
        DEF.define("default.replication.factor", INT, 1, MEDIUM, "Replication factor of auto-created topics.");
        DEF.define("min.insync.replicas", INT, 1, atLeast(1), HIGH, "Default for the topic config min.insync.replicas.");
        DEF.define("unclean.leader.election.enable", BOOLEAN, false, HIGH,
                "Default for the topic config unclean.leader.election.enable.");
        DEF.define("compression.type", STRING, "producer", oneOf(COMPRESSION_TYPES), HIGH,
                "Default for the topic config compression.type.");
        DEF.define("compression.gzip.level", INT, -1, gzipLevel(), MEDIUM, "Default for the topic config compression.gzip.level.");
        DEF.define("compression.lz4.level", INT, 9, between(1, 17), MEDIUM, "Default for the topic config compression.lz4.level.");
        DEF.define("compression.zstd.level", INT, 3, between(-131072, 22), MEDIUM,
                "Default for the topic config compression.zstd.level.");
        DEF.define("message.max.bytes", INT, 1048588, atLeast(0), HIGH,
                "Largest record batch accepted; default for the topic config max.message.bytes.");
        DEF.define("max.decompressed.message.bytes", INT, 2147483639, between(1, 2147483639), MEDIUM,
                "Default for the topic config max.decompressed.message.bytes.");

        // --- logs
        DEF.define("log.dir", LIST, "/tmp/kafka-logs", HIGH, "Log directory, used when log.dirs is unset.");
        DEF.define("log.dirs", LIST, null, HIGH, "Comma-separated log directories; defaults to log.dir.");
        DEF.define("log.segment.bytes", INT, 1073741824, atLeast(1048576), HIGH, "Default for the topic config segment.bytes.");
        DEF.define("log.roll.ms", LONG, null, HIGH, "Default for the topic config segment.ms; overrides log.roll.hours.");
        DEF.define("log.roll.hours", INT, 168, atLeast(1), HIGH, "Default for the topic config segment.ms, in hours.");
        DEF.define("log.roll.jitter.ms", LONG, null, HIGH,
                "Default for the topic config segment.jitter.ms; overrides log.roll.jitter.hours.");
        DEF.define("log.roll.jitter.hours", INT, 0, atLeast(0), HIGH, "Default for the topic config segment.jitter.ms, in hours.");
        DEF.define("log.retention.ms", LONG, null, HIGH,
                "Default for the topic config retention.ms; overrides log.retention.minutes. -1 keeps logs forever.");
        DEF.define("log.retention.minutes", INT, null, HIGH,
                "Default for the topic config retention.ms, in minutes; overrides log.retention.hours.");
        DEF.define("log.retention.hours", INT, 168, HIGH, "Default for the topic config retention.ms, in hours.");
        DEF.define("log.retention.bytes", LONG, -1L, HIGH, "Default for the topic config retention.bytes.");
        DEF.define("log.retention.check.interval.ms", LONG, 300000L, atLeast(1), MEDIUM,
                "How often logs are checked for deletable segments.");
        DEF.define("log.index.size.max.bytes", INT, 10485760, atLeast(4), MEDIUM,
                "Default for the topic config segment.index.bytes.");
        DEF.define("log.index.interval.bytes", INT, 4096, atLeast(0), MEDIUM, "Default for the topic config index.interval.bytes.");
        DEF.define("log.flush.interval.messages", LONG, Long.MAX_VALUE, atLeast(1), HIGH,
                "Default for the topic config flush.messages.");
        DEF.define("log.flush.interval.ms", LONG, null, HIGH,
                "Default for the topic config flush.ms; falls back to log.flush.scheduler.interval.ms.");
        DEF.define("log.flush.scheduler.interval.ms", LONG, Long.MAX_VALUE, HIGH,
                "How often logs are checked for a due time-based flush.");
        DEF.define("log.flush.offset.checkpoint.interval.ms", INT, 60000, atLeast(0), HIGH,
                "How often the recovery point checkpoint is written.");
        DEF.define("log.flush.start.offset.checkpoint.interval.ms", INT, 60000, atLeast(0), HIGH,
                "How often the log start offset checkpoint is written.");
        DEF.define("log.segment.delete.delay.ms", LONG, 60000L, atLeast(0), HIGH,
                "Default for the topic config file.delete.delay.ms.");
        DEF.define("log.cleanup.policy", LIST, "delete", ConfigDef.ValidList.in(CLEANUP_POLICIES), MEDIUM,
                "Default for the topic config cleanup.policy.");
        DEF.define("log.cleaner.enable", BOOLEAN, true, MEDIUM, "Run the log cleaner for compacted topics.");
        DEF.define("log.cleaner.threads", INT, 1, atLeast(0), MEDIUM, "Log cleaner threads.");
        DEF.define("log.cleaner.backoff.ms", LONG, 15000L, atLeast(0), MEDIUM, "Cleaner sleep when there is nothing to clean.");
        DEF.define("log.cleaner.dedupe.buffer.size", LONG, 134217728L, MEDIUM, "Memory for deduplication across cleaner threads.");
        DEF.define("log.cleaner.io.buffer.size", INT, 524288, atLeast(0), MEDIUM, "I/O buffer memory across cleaner threads.");
        DEF.define("log.cleaner.io.buffer.load.factor", DOUBLE, 0.9, MEDIUM, "Load factor of the cleaner's dedupe map.");
        DEF.define("log.cleaner.io.max.bytes.per.second", DOUBLE, Double.MAX_VALUE, MEDIUM, "Cleaner I/O throttle.");
        DEF.define("log.cleaner.min.cleanable.ratio", DOUBLE, 0.5, between(0, 1), MEDIUM,
                "Default for the topic config min.cleanable.dirty.ratio.");
        DEF.define("log.cleaner.delete.retention.ms", LONG, 86400000L, atLeast(0), MEDIUM,
                "Default for the topic config delete.retention.ms.");
        DEF.define("log.cleaner.min.compaction.lag.ms", LONG, 0L, atLeast(0), MEDIUM,
                "Default for the topic config min.compaction.lag.ms.");
        DEF.define("log.cleaner.max.compaction.lag.ms", LONG, Long.MAX_VALUE, atLeast(1), MEDIUM,
                "Default for the topic config max.compaction.lag.ms.");
        DEF.define("log.preallocate", BOOLEAN, false, MEDIUM, "Default for the topic config preallocate.");
        DEF.define("log.message.timestamp.type", STRING, "CreateTime", oneOf(TIMESTAMP_TYPES), MEDIUM,
                "Default for the topic config message.timestamp.type.");
        DEF.define("log.message.timestamp.before.max.ms", LONG, Long.MAX_VALUE, atLeast(0), MEDIUM,
                "Default for the topic config message.timestamp.before.max.ms.");
        DEF.define("log.message.timestamp.after.max.ms", LONG, 3600000L, atLeast(0), MEDIUM,
                "Default for the topic config message.timestamp.after.max.ms.");
        DEF.define("log.local.retention.ms", LONG, -2L, atLeast(-2), MEDIUM, "Default for the topic config local.retention.ms.");
        DEF.define("log.local.retention.bytes", LONG, -2L, atLeast(-2), MEDIUM,
                "Default for the topic config local.retention.bytes.");
        DEF.define("log.remote.copy.lag.ms", LONG, 0L, atLeast(-1), MEDIUM, "Default for the topic config remote.copy.lag.ms.");
        DEF.define("log.remote.copy.lag.bytes", LONG, -1L, atLeast(-1), MEDIUM,
                "Default for the topic config remote.copy.lag.bytes.");
        DEF.define("log.initial.task.delay.ms", LONG, 30000L, atLeast(0), LOW, "Delay before the first log maintenance tasks run.");
        DEF.define("num.recovery.threads.per.data.dir", INT, 2, atLeast(1), HIGH, "Threads per log dir for recovery and shutdown.");

        // --- consumer groups and committed offsets
        DEF.define("group.initial.rebalance.delay.ms", INT, 3000, MEDIUM,
                "How long a new classic group waits for more members before its first rebalance.");
        DEF.define("group.min.session.timeout.ms", INT, 6000, MEDIUM, "Smallest session timeout a classic member may ask for.");
        DEF.define("group.max.session.timeout.ms", INT, 1800000, MEDIUM, "Largest session timeout a classic member may ask for.");
        DEF.define("group.max.size", INT, Integer.MAX_VALUE, atLeast(1), MEDIUM, "Most members of a classic group.");
        DEF.define("group.coordinator.rebalance.protocols", LIST, "classic,consumer,streams",
                ConfigDef.ValidList.in("consumer", "classic", "share", "streams"), MEDIUM, "Enabled group protocols.");
        DEF.define("group.coordinator.threads", INT, 4, atLeast(1), HIGH, "Group coordinator threads.");
        DEF.define("group.coordinator.background.threads", INT, 2, atLeast(1), HIGH, "Group coordinator background threads.");
        DEF.define("group.coordinator.append.linger.ms", INT, -1, atLeast(-1), MEDIUM,
                "How long coordinator writes wait to be batched; -1 adapts to load.");
        DEF.define("group.consumer.session.timeout.ms", INT, 45000, atLeast(1), MEDIUM, "Session timeout of consumer-protocol members.");
        DEF.define("group.consumer.min.session.timeout.ms", INT, 45000, atLeast(1), MEDIUM, "Smallest consumer-protocol session timeout.");
        DEF.define("group.consumer.max.session.timeout.ms", INT, 60000, atLeast(1), MEDIUM, "Largest consumer-protocol session timeout.");
        DEF.define("group.consumer.heartbeat.interval.ms", INT, 5000, atLeast(1), MEDIUM, "Heartbeat interval of consumer-protocol members.");
        DEF.define("group.consumer.min.heartbeat.interval.ms", INT, 5000, atLeast(1), MEDIUM,
                "Smallest consumer-protocol heartbeat interval.");
        DEF.define("group.consumer.max.heartbeat.interval.ms", INT, 15000, atLeast(1), MEDIUM,
                "Largest consumer-protocol heartbeat interval.");
        DEF.define("group.consumer.max.size", INT, Integer.MAX_VALUE, atLeast(1), MEDIUM, "Most members of a consumer-protocol group.");
        DEF.define("group.consumer.assignors", LIST, "uniform,range", MEDIUM, "Server-side assignors, preferred first.");
        DEF.define("group.consumer.migration.policy", STRING, "bidirectional",
                ConfigDef.CaseInsensitiveValidString.in("DISABLED", "DOWNGRADE", "UPGRADE", "BIDIRECTIONAL"), MEDIUM,
                "Which conversions between classic and consumer groups are allowed.");
        DEF.define("group.consumer.regex.refresh.interval.ms", INT, 600000, atLeast(10000), MEDIUM,
                "How often regex subscriptions are re-evaluated.");
        // --- share groups (KIP-932): Kafka 4.4's keys, defaults and bounds; ShareGroupSettings checks the min/max pairs
        DEF.define("group.share.session.timeout.ms", INT, 45000, atLeast(1), MEDIUM, "Session timeout of share group members.");
        DEF.define("group.share.min.session.timeout.ms", INT, 45000, atLeast(1), MEDIUM, "Smallest share group session timeout.");
        DEF.define("group.share.max.session.timeout.ms", INT, 60000, atLeast(1), MEDIUM, "Largest share group session timeout.");
        DEF.define("group.share.heartbeat.interval.ms", INT, 5000, atLeast(1), MEDIUM, "Heartbeat interval of share group members.");
        DEF.define("group.share.min.heartbeat.interval.ms", INT, 5000, atLeast(1), MEDIUM, "Smallest share group heartbeat interval.");
        DEF.define("group.share.max.heartbeat.interval.ms", INT, 15000, atLeast(1), MEDIUM, "Largest share group heartbeat interval.");
        DEF.define("group.share.max.size", INT, 200, between(1, 1000), MEDIUM, "Most members of a share group.");
        DEF.define("group.share.record.lock.duration.ms", INT, 30000, between(1000, 3600000), MEDIUM,
                "How long a share group member holds the records it acquired.");
        DEF.define("group.share.min.record.lock.duration.ms", INT, 15000, between(1000, 30000), MEDIUM,
                "Smallest share.record.lock.duration.ms a group may set.");
        DEF.define("group.share.max.record.lock.duration.ms", INT, 60000, between(30000, 3600000), MEDIUM,
                "Largest share.record.lock.duration.ms a group may set.");
        DEF.define("group.share.delivery.count.limit", INT, 5, between(2, 10), MEDIUM,
                "Delivery attempts of a record to a share group before it is archived.");
        DEF.define("group.share.min.delivery.count.limit", INT, 2, between(2, 5), MEDIUM,
                "Smallest share.delivery.count.limit a group may set.");
        DEF.define("group.share.max.delivery.count.limit", INT, 10, between(5, 25), MEDIUM,
                "Largest share.delivery.count.limit a group may set.");
        DEF.define("group.share.partition.max.record.locks", INT, 2000, between(100, 10000), MEDIUM,
                "Most records in flight (acquired or awaiting redelivery) per share partition.");
        DEF.define("group.share.min.partition.max.record.locks", INT, 100, between(100, 2000), MEDIUM,
                "Smallest share.partition.max.record.locks a group may set.");
        DEF.define("group.share.max.partition.max.record.locks", INT, 4000, between(2000, 10000), MEDIUM,
                "Largest share.partition.max.record.locks a group may set.");
        DEF.define("group.share.max.share.sessions", INT, 2000, atLeast(1), MEDIUM, "Most share sessions per broker.");
        DEF.define("share.coordinator.state.topic.num.partitions", INT, 50, atLeast(1), HIGH, "Partitions of __share_group_state.");
        DEF.define("share.coordinator.state.topic.replication.factor", SHORT, (short) 3, atLeast(1), HIGH,
                "Replication factor of __share_group_state.");
        DEF.define("share.coordinator.state.topic.min.isr", SHORT, (short) 2, atLeast(1), HIGH,
                "min.insync.replicas of __share_group_state.");
        DEF.define("share.coordinator.state.topic.segment.bytes", INT, 104857600, atLeast(1), HIGH,
                "Segment size of __share_group_state.");
        DEF.define("share.coordinator.snapshot.update.records.per.snapshot", INT, 500, between(0, 500), MEDIUM,
                "ShareUpdate records the share coordinator writes for a share partition between two ShareSnapshots.");
        // internal in Kafka (defineInternal): settable, not documented
        DEF.define("share.coordinator.state.topic.prune.interval.ms", INT, 300000, atLeast(1), LOW,
                "How often the share coordinator deletes the records of __share_group_state that later snapshots replaced.");
        DEF.define("share.coordinator.cold.partition.snapshot.interval.ms", INT, 300000, atLeast(1), LOW,
                "How old a share partition's last snapshot may get before the share coordinator writes a new one.");
        DEF.define("offset.metadata.max.bytes", INT, 4096, HIGH, "Largest metadata string of an offset commit.");
        DEF.define("offsets.load.buffer.size", INT, 5242880, atLeast(1), HIGH, "Read buffer when loading offsets into the cache.");
        DEF.define("offsets.topic.num.partitions", INT, 50, atLeast(1), HIGH, "Partitions of __consumer_offsets.");
        DEF.define("offsets.topic.replication.factor", SHORT, (short) 3, atLeast(1), HIGH, "Replication factor of __consumer_offsets.");
        DEF.define("offsets.topic.segment.bytes", INT, 104857600, atLeast(1), HIGH, "Segment size of __consumer_offsets.");
        DEF.define("offsets.topic.compression.codec", INT, 0, HIGH, "Compression codec id for __consumer_offsets writes.");
        DEF.define("offsets.retention.minutes", INT, 10080, atLeast(1), HIGH,
                "Committed offsets of empty groups are dropped after this long.");
        DEF.define("offsets.retention.check.interval.ms", LONG, 600000L, atLeast(1), HIGH, "How often stale offsets are looked for.");
        DEF.define("offsets.commit.timeout.ms", INT, 5000, atLeast(1), HIGH, "How long an offset commit may wait to be written.");

        // --- transactions and producer ids
        DEF.define("transactional.id.expiration.ms", INT, 604800000, atLeast(1), HIGH,
                "Idle transactional ids expire after this long.");
        DEF.define("transaction.max.timeout.ms", INT, 900000, atLeast(1), HIGH, "Largest transaction timeout a producer may ask for.");
        DEF.define("transaction.partition.verification.enable", BOOLEAN, true, HIGH,
                "Partition leaders check with the transaction coordinator before a transaction's first batch (KIP-890).");
        DEF.define("transaction.state.log.num.partitions", INT, 50, atLeast(1), HIGH, "Partitions of __transaction_state.");
        DEF.define("transaction.state.log.replication.factor", SHORT, (short) 3, atLeast(1), HIGH,
                "Replication factor of __transaction_state.");
        DEF.define("transaction.state.log.segment.bytes", INT, 104857600, atLeast(1), HIGH, "Segment size of __transaction_state.");
        DEF.define("transaction.state.log.min.isr", INT, 2, atLeast(1), HIGH, "min.insync.replicas of __transaction_state.");
        DEF.define("transaction.state.log.load.buffer.size", INT, 5242880, atLeast(1), HIGH,
                "Read buffer when loading transaction state.");
        DEF.define("transaction.abort.timed.out.transaction.cleanup.interval.ms", INT, 10000, atLeast(1), LOW,
                "How often timed-out transactions are aborted.");
        DEF.define("transaction.remove.expired.transaction.cleanup.interval.ms", INT, 3600000, atLeast(1), LOW,
                "How often expired transactional ids are removed.");
        DEF.define("producer.id.expiration.ms", INT, 86400000, atLeast(1), LOW, "Idle producer ids expire after this long.");
        DEF.define("producer.id.expiration.check.interval.ms", INT, 600000, atLeast(1), LOW,
                "How often expired producer ids are removed.");

        // --- replication, controlled shutdown and leader balance (used in cluster mode)
        DEF.define("replica.lag.time.max.ms", LONG, 30000L, atLeast(1), HIGH,
                "A follower that has not caught up with the leader for this long leaves the ISR.");
        DEF.define("replica.fetch.wait.max.ms", INT, 500, atLeast(0), MEDIUM,
                "Longest wait of a follower's fetch; must not exceed replica.lag.time.max.ms.");
        DEF.define("replica.fetch.min.bytes", INT, 1, atLeast(1), MEDIUM, "Bytes a follower's fetch waits for.");
        DEF.define("replica.fetch.max.bytes", INT, 1048576, atLeast(0), MEDIUM,
                "Bytes a follower fetches per partition (a larger first batch still comes whole).");
        DEF.define("replica.fetch.response.max.bytes", INT, 10485760, atLeast(0), MEDIUM,
                "Bytes of a whole follower fetch response.");
        DEF.define("replica.fetch.backoff.ms", INT, 1000, atLeast(0), MEDIUM, "Pause of a follower after a fetch error.");
        DEF.define("replica.socket.timeout.ms", INT, 30000, HIGH, "Socket timeout of follower fetches.");
        DEF.define("replica.socket.receive.buffer.bytes", INT, 65536, HIGH, "SO_RCVBUF of follower fetch sockets.");
        DEF.define("num.replica.fetchers", INT, 1, HIGH, "Fetcher threads per source broker.");
        DEF.define("replica.high.watermark.checkpoint.interval.ms", LONG, 5000L, HIGH,
                "How often high watermarks are checkpointed.");
        DEF.define("controlled.shutdown.enable", BOOLEAN, true, MEDIUM,
                "On shutdown, move this broker's leaderships to other replicas first.");
        DEF.define("controlled.shutdown.max.retries", INT, 3, MEDIUM, "Attempts of a controlled shutdown.");
        DEF.define("controlled.shutdown.retry.backoff.ms", LONG, 5000L, MEDIUM, "Pause between controlled shutdown attempts.");
        DEF.define("auto.leader.rebalance.enable", BOOLEAN, true, HIGH,
                "The controller moves leadership back to preferred replicas when brokers are imbalanced.");
        DEF.define("leader.imbalance.per.broker.percentage", INT, 10, HIGH,
                "Share of a broker's partitions led by others before the controller rebalances them, in percent.");
        DEF.define("leader.imbalance.check.interval.seconds", LONG, 300L, atLeast(1), HIGH,
                "How often the controller checks leader imbalance.");

        // --- ZooKeeper (optional; a single broker runs without it)
        DEF.define("zookeeper.connect", STRING, null, HIGH, "ZooKeeper connection string host:port[,host:port][/chroot].");
        DEF.define("zookeeper.session.timeout.ms", INT, 18000, HIGH, "ZooKeeper session timeout.");
        DEF.define("zookeeper.connection.timeout.ms", INT, null, HIGH,
                "How long to wait for a ZooKeeper connection; defaults to zookeeper.session.timeout.ms.");

        // --- client quotas: the rates measured over quota.window.num windows of quota.window.size.seconds
        DEF.define("quota.window.num", INT, 11, atLeast(1), LOW, "The number of samples to retain in memory for client quotas.");
        DEF.define("quota.window.size.seconds", INT, 1, atLeast(1), LOW, "The time span of each sample for client quotas.");

        // --- security: listeners' protocols and Kafka's own SSL/SASL keys (each may be overridden per
        // listener as listener.name.<name>.<key>, which BrokerConfig.listenerConfigs resolves)
        DEF.define("security.inter.broker.protocol", STRING, null,
                nullOr(ConfigDef.ValidString.in("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")), MEDIUM,
                "Security protocol between brokers (PLAINTEXT when neither it nor inter.broker.listener.name is set). "
                        + "Only one of it and inter.broker.listener.name may be set.");
        DEF.define("inter.broker.listener.name", STRING, null, MEDIUM,
                "Listener other brokers connect to; must be among advertised.listeners.");
        for (ConfigKey key : org.apache.kafka.common.config.internals.BrokerSecurityConfigs.CONFIG_DEF.configKeys().values()) {
            if (!DEF.configKeys().containsKey(key.name)) {
                DEF.define(key);
            }
        }

        // --- authorization (Kafka's keys: StandardAuthorizer's super.users and allow.everyone.if.no.acl.found)
        DEF.define("authorizer.class.name", STRING, "", authorizerClass(), HIGH,
                "The authorizer: empty for none, or " + String.join(", ", AUTHORIZER_CLASSES)
                        + ", each meaning Gregor's built-in ACL authorizer.");
        DEF.define("super.users", STRING, "", MEDIUM,
                "Principals allowed everything whatever the ACLs say, separated by semicolons (User:admin;User:broker).");
        DEF.define("allow.everyone.if.no.acl.found", BOOLEAN, false, MEDIUM,
                "Whether a resource no ACL matches is open to everyone (false: only super users).");

        // --- Gregor's own test-harness settings (not Kafka's)
        DEF.define("gregor.wire.trace.enable", BOOLEAN, false, LOW,
                "Log every answer the broker sends (API, client id, correlation id, key fields, error codes) at INFO "
                        + "through the logger io.gregor.trace.");
        DEF.define("gregor.http.listener", STRING, null, LOW,
                "HOST:PORT of an HTTP endpoint that injects faults and serves the wire trace (for tests); "
                        + "unset means none. Port 0 lets the kernel pick.");
    }

    static ConfigDef.Validator authorizerClass() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                String className = value == null ? "" : value.toString().trim();
                if (!className.isEmpty() && !AUTHORIZER_CLASSES.contains(className)) {
                    throw new org.apache.kafka.common.config.ConfigException(name, value,
                            "unknown authorizer; Gregor accepts " + String.join(", ", AUTHORIZER_CLASSES));
                }
            }

            @Override
            public String toString() {
                return "empty or one of " + AUTHORIZER_CLASSES;
            }
        };
    }

    static ConfigDef.Validator gzipLevel() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                int level = (Integer) value;
                if (level != -1 && (level < 1 || level > 9)) {
                    throw new org.apache.kafka.common.config.ConfigException(name, value, "Value must be between 1 and 9, or -1");
                }
            }

            @Override
            public String toString() {
                return "[1,...,9] or -1";
            }
        };
    }
}
