package io.gregor.broker.replica;

import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.PartitionLog.EpochEndOffset;
import io.gregor.storage.TopicPartition;
import io.gregor.broker.security.InterBrokerSecurity;
import org.apache.kafka.clients.ApiVersions;
import org.apache.kafka.clients.BootstrapConfiguration;
import org.apache.kafka.clients.ClientRequest;
import org.apache.kafka.clients.ClientResponse;
import org.apache.kafka.clients.ManualMetadataUpdater;
import org.apache.kafka.clients.MetadataRecoveryStrategy;
import org.apache.kafka.clients.NetworkClient;
import org.apache.kafka.clients.NetworkClientUtils;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.Selectable;
import org.apache.kafka.common.network.Selector;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.LogContext;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.gregor.storage.errors.KafkaStorageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;

/**
 * One thread copying the partitions this broker follows from one leader: a loop of Fetch requests (v12,
 * topic names, {@code ReplicaId} = this broker, {@code LastFetchedEpoch} for KIP-320 divergence checks)
 * over a plain blocking socket. Records are appended as they are; a diverging epoch in the answer makes
 * the follower truncate first, so replicas end identical to their leader.
 */
final class ReplicaFetcher extends Thread {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFetcher.class);
    private static final short FETCH_VERSION = 12;
    /** With the current leader epoch (v4+); the leader answers a replica's LATEST with its log end offset. */
    private static final short LIST_OFFSETS_VERSION = 8;

    private final int localBrokerId;
    private final int leaderId;
    private final IntFunction<BrokerInfo> brokers;
    private final ReplicationSettings settings;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private final Object wakeup = new Object();
    private volatile boolean running = true;
    private volatile Socket channel;
    private int correlationId;

    /** Set when the inter-broker listener is secured (TLS, SASL): fetches then go through kafka-clients' NetworkClient. */
    private final InterBrokerSecurity security;
    private final Time time;
    private volatile NetworkClient client;
    private Metrics metrics;

    private final ReplicationThrottles throttles;

    /** Held while a response is applied to the logs, so a partition handed to another fetcher has one writer. */
    private final java.util.concurrent.locks.ReentrantLock applying = new java.util.concurrent.locks.ReentrantLock();

    /** @param fetcherId which of the num.replica.fetchers threads per leader this is (Kafka's fetcher id) */
    ReplicaFetcher(int localBrokerId, int fetcherId, int leaderId, IntFunction<BrokerInfo> brokers,
                   ReplicationSettings settings, InterBrokerSecurity security, Time time, ReplicationThrottles throttles) {
        super("gregor-replica-fetcher-" + localBrokerId + "-" + fetcherId + "-from-" + leaderId);
        this.throttles = throttles;
        this.security = security == null || security.protocol() == SecurityProtocol.PLAINTEXT ? null : security;
        this.time = time;
        setDaemon(true);
        this.localBrokerId = localBrokerId;
        this.leaderId = leaderId;
        this.brokers = brokers;
        this.settings = settings;
    }

    void add(Partition p) {
        partitions.put(p.topicPartition(), p);
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
    }

    /** Stops fetching the partition, once a response being applied is done with its log (one writer at a time). */
    void remove(TopicPartition tp) {
        applying.lock();
        try {
            partitions.remove(tp);
        } finally {
            applying.unlock();
        }
    }

    /**
     * Stops fetching every partition and returns them, once a response being applied is done with them
     * (Kafka's removeAllPartitions): another fetcher may then write their logs.
     */
    List<Partition> removeAll() {
        applying.lock();
        try {
            List<Partition> removed = new ArrayList<>(partitions.values());
            partitions.clear();
            return removed;
        } finally {
            applying.unlock();
        }
    }

    boolean isIdle() {
        return partitions.isEmpty();
    }

    /**
     * Stops after the current round. Never by interrupting: an interrupt during a log write or truncation closes
     * the log's FileChannel (ClosedByInterruptException), so the broker could then not flush or close that log
     * cleanly. Closing the socket ends a blocked read; the notify ends a pause.
     */
    void shutdown() {
        running = false;
        NetworkClient c = client;
        if (c != null) {
            c.wakeup(); // the fetcher thread closes its own client as it leaves its loop
        } else {
            closeChannel();
        }
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
    }

    @Override
    public void run() {
        while (running) {
            try {
                if (partitions.isEmpty()) {
                    pause(1000);
                    continue;
                }
                if (!fetchOnce()) {
                    pause(Math.min(settings.fetchBackoffMs(), 200));
                }
            } catch (IOException e) {
                if (running) {
                    log.info("Fetch from broker {} failed: {}", leaderId, e.toString());
                }
                closeChannel();
                pause(settings.fetchBackoffMs());
            } catch (AuthenticationException e) {
                // the leader refused this broker's TLS certificate or SASL login: a configuration error, one line a try
                log.warn("Fetch from broker {} failed: cannot authenticate on the inter-broker listener {}: {}",
                        leaderId, security == null ? "" : security.listenerName(), e.getMessage());
                closeChannel();
                pause(Math.max(settings.fetchBackoffMs(), 1000));
            } catch (KafkaStorageException e) {
                // a log closed under this round: the broker is shutting down, or the partition was deleted or moved
                if (running) {
                    log.warn("Fetch from broker {}: {}", leaderId, e.getMessage());
                } else {
                    log.debug("Fetch from broker {} ended by shutdown: {}", leaderId, e.getMessage());
                }
                closeChannel();
                pause(settings.fetchBackoffMs());
            } catch (RuntimeException e) {
                log.error("Replica fetcher from broker {} failed", leaderId, e);
                closeChannel();
                pause(settings.fetchBackoffMs());
            }
        }
        closeChannel();
    }

    private void pause(long ms) {
        synchronized (wakeup) {
            try {
                wakeup.wait(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    /** One fetch round; false when nothing useful happened (errors), so the caller backs off. */
    private boolean fetchOnce() throws IOException {
        Map<TopicPartition, Partition> snapshot = new LinkedHashMap<>(partitions);
        FetchRequestData request = new FetchRequestData()
                .setReplicaId(localBrokerId).setMaxWaitMs(settings.fetchWaitMaxMs()).setMinBytes(1)
                .setMaxBytes(settings.fetchResponseMaxBytes()).setIsolationLevel((byte) 0)
                .setSessionId(0).setSessionEpoch(-1);
        Map<String, FetchRequestData.FetchTopic> byTopic = new LinkedHashMap<>();
        // follower throttle: throttled replicas sit out fetches while the broker's follower rate is exceeded
        snapshot.values().removeIf(p -> throttles.followerShouldThrottle(p, localBrokerId));
        if (snapshot.isEmpty()) {
            return false;
        }
        for (Partition p : snapshot.values()) {
            PartitionLog l = p.log();
            byTopic.computeIfAbsent(p.topicPartition().topic(), t -> {
                FetchRequestData.FetchTopic ft = new FetchRequestData.FetchTopic().setTopic(t);
                request.topics().add(ft);
                return ft;
            }).partitions().add(new FetchRequestData.FetchPartition()
                    .setPartition(p.topicPartition().partition())
                    .setCurrentLeaderEpoch(p.leaderEpoch())
                    .setFetchOffset(l.logEndOffset())
                    .setLastFetchedEpoch(l.latestEpoch())
                    .setLogStartOffset(l.logStartOffset())
                    .setPartitionMaxBytes(settings.fetchMaxBytes()));
        }
        FetchResponseData response = send(request);
        if (response.errorCode() != Errors.NONE.code()) {
            log.info("Fetch from broker {} answered {}", leaderId, Errors.forCode(response.errorCode()));
            return false;
        }
        boolean progress = false;
        applying.lock();
        try {
            for (FetchResponseData.FetchableTopicResponse t : response.responses()) {
                for (FetchResponseData.PartitionData pd : t.partitions()) {
                    TopicPartition tp = new TopicPartition(t.topic(), pd.partitionIndex());
                    Partition p = snapshot.get(tp);
                    if (p == null || partitions.get(tp) != p) {
                        continue; // no longer following it from here
                    }
                    progress |= handle(p, pd);
                }
            }
        } finally {
            applying.unlock();
        }
        return progress;
    }

    private boolean handle(Partition p, FetchResponseData.PartitionData pd) throws IOException {
        Errors error = Errors.forCode(pd.errorCode());
        PartitionLog l = p.log();
        switch (error) {
            case NONE -> {
                if (pd.divergingEpoch().epoch() >= 0 || pd.divergingEpoch().endOffset() >= 0) {
                    truncateOnDivergence(p, pd.divergingEpoch().epoch(), pd.divergingEpoch().endOffset());
                    return true;
                }
                ByteBuffer records = pd.records() instanceof MemoryRecords m ? m.buffer() : ByteBuffer.allocate(0);
                throttles.recordFollower(p, localBrokerId, records.remaining());
                p.appendAsFollower(records, pd.highWatermark(), pd.logStartOffset());
                return true;
            }
            case OFFSET_OUT_OF_RANGE -> {
                catchUpOutOfRange(p);
                return true;
            }
            default -> {
                log.debug("{}: leader {} answered {}", p.topicPartition(), leaderId, error);
                return false;
            }
        }
    }

    /**
     * Kafka's {@code fetchOffsetAndTruncate}: the fetch offset is outside the leader's log. Past the leader's
     * end, the follower truncates to it; below the leader's log start (a new replica, or one that was down
     * while the leader deleted old segments or records), it drops its whole log and restarts it empty at the
     * leader's log start, then fetches from there.
     */
    private void catchUpOutOfRange(Partition p) throws IOException {
        PartitionLog l = p.log();
        long ourEnd = l.logEndOffset();
        long leaderEnd = listOffset(p, ListOffsetsRequest.LATEST_TIMESTAMP);
        if (leaderEnd < 0) {
            return; // the leader could not answer (moved, not leader yet): the next round asks again
        }
        if (leaderEnd < ourEnd) {
            log.warn("{}: fetch offset {} is past the end {} of leader {}; truncating to it",
                    p.topicPartition(), ourEnd, leaderEnd, leaderId);
            l.truncateTo(leaderEnd);
            return;
        }
        long leaderStart = listOffset(p, ListOffsetsRequest.EARLIEST_TIMESTAMP);
        if (leaderStart > ourEnd) {
            log.info("{}: log end offset {} is below the log start offset {} of leader {}; restarting the log there",
                    p.topicPartition(), ourEnd, leaderStart, leaderId);
            l.truncateFullyAndStartAt(leaderStart);
        }
    }

    /** The leader's offset for a special timestamp (earliest: its log start; latest: its log end), or -1. */
    private long listOffset(Partition p, long timestamp) throws IOException {
        ListOffsetsRequestData.ListOffsetsTopic topic = new ListOffsetsRequestData.ListOffsetsTopic()
                .setName(p.topicPartition().topic());
        topic.partitions().add(new ListOffsetsRequestData.ListOffsetsPartition()
                .setPartitionIndex(p.topicPartition().partition())
                .setCurrentLeaderEpoch(p.leaderEpoch())
                .setTimestamp(timestamp));
        ListOffsetsResponseData response = (ListOffsetsResponseData) exchange(
                ListOffsetsRequest.Builder.forReplica(LIST_OFFSETS_VERSION, localBrokerId)
                        .setTargetTimes(List.of(topic)), LIST_OFFSETS_VERSION);
        for (ListOffsetsResponseData.ListOffsetsTopicResponse t : response.topics()) {
            for (ListOffsetsResponseData.ListOffsetsPartitionResponse r : t.partitions()) {
                if (r.partitionIndex() != p.topicPartition().partition()) {
                    continue;
                }
                if (r.errorCode() != Errors.NONE.code()) {
                    log.info("{}: leader {} answered {} to ListOffsets", p.topicPartition(), leaderId,
                            Errors.forCode(r.errorCode()));
                    return -1;
                }
                return r.offset();
            }
        }
        return -1;
    }

    /** Kafka's follower truncation rule for a diverging epoch sent by the leader. */
    private void truncateOnDivergence(Partition p, int leaderEpoch, long leaderEndOffset) {
        PartitionLog l = p.log();
        long target;
        if (leaderEpoch < 0) {
            target = Math.min(leaderEndOffset, l.logEndOffset());
        } else {
            EpochEndOffset ours = l.endOffsetForEpoch(leaderEpoch);
            if (ours.endOffset() < 0) {
                target = Math.min(leaderEndOffset, l.logEndOffset());
            } else if (ours.epoch() != leaderEpoch) {
                target = ours.endOffset(); // the next fetch compares the epoch before this one
            } else {
                target = Math.min(leaderEndOffset, ours.endOffset());
            }
        }
        log.info("{}: diverging from leader {} at epoch {} (leader's end {}); truncating to {}", p.topicPartition(),
                leaderId, leaderEpoch, leaderEndOffset, target);
        l.truncateTo(target);
    }

    private FetchResponseData send(FetchRequestData request) throws IOException {
        return (FetchResponseData) exchange(new FetchV12Builder(request), FETCH_VERSION);
    }

    /** One request to the leader and its answer, over the plain socket or the secured NetworkClient. */
    private ApiMessage exchange(AbstractRequest.Builder<?> builder, short version) throws IOException {
        if (security != null) {
            return sendThroughNetworkClient(builder).data();
        }
        ApiKeys api = builder.apiKey();
        ApiMessage request = builder.build(version).data();
        Socket ch = connect();
        ObjectSerializationCache cache = new ObjectSerializationCache();
        short headerVersion = api.requestHeaderVersion(version);
        int id = ++correlationId;
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id)
                .setRequestApiVersion(version).setCorrelationId(id)
                .setClientId("gregor-replica-fetcher-" + localBrokerId);
        int size = header.size(cache, headerVersion) + request.size(cache, version);
        ByteBuffer out = ByteBuffer.allocate(4 + size);
        out.putInt(size);
        ByteBufferAccessor writer = new ByteBufferAccessor(out);
        header.write(writer, cache, headerVersion);
        request.write(writer, cache, version);
        ch.getOutputStream().write(out.array(), 0, out.position());
        ByteBuffer sizeBuf = ByteBuffer.allocate(4);
        readFully(ch, sizeBuf);
        int responseSize = sizeBuf.flip().getInt();
        if (responseSize < 0 || responseSize > settings.fetchResponseMaxBytes() + (16 << 20)) {
            throw new IOException("Implausible response size " + responseSize);
        }
        ByteBuffer in = ByteBuffer.allocate(responseSize);
        readFully(ch, in);
        in.flip();
        ByteBufferAccessor reader = new ByteBufferAccessor(in);
        ResponseHeaderData rh = new ResponseHeaderData(reader, api.responseHeaderVersion(version));
        if (rh.correlationId() != id) {
            throw new IOException("Correlation id " + rh.correlationId() + " does not match " + id);
        }
        return AbstractResponse.parseResponse(api, reader, version).data();
    }

    /** A request over the secured inter-broker listener, with kafka-clients doing TLS and the SASL login. */
    private AbstractResponse sendThroughNetworkClient(AbstractRequest.Builder<?> builder) throws IOException {
        BrokerInfo leader = brokers.apply(leaderId);
        if (leader == null) {
            throw new IOException("Broker " + leaderId + " is not registered on listener " + security.listenerName());
        }
        if (client == null) {
            metrics = new Metrics(time);
            LogContext logContext = new LogContext("[replica fetcher " + localBrokerId + " from " + leaderId + "] ");
            Selector selector = new Selector(600_000L, metrics, time, "replica-fetcher",
                    security.channelBuilder(time, logContext), logContext);
            int timeout = settings.socketTimeoutMs() + settings.fetchWaitMaxMs();
            client = new NetworkClient(selector, new ManualMetadataUpdater(), "gregor-replica-fetcher-" + localBrokerId,
                    1, 100L, 1000L, Selectable.USE_DEFAULT_BUFFER_SIZE, Selectable.USE_DEFAULT_BUFFER_SIZE, timeout,
                    10_000L, 30_000L, time, false, new ApiVersions(), logContext, MetadataRecoveryStrategy.NONE,
                    BootstrapConfiguration.DISABLED, false);
        }
        Node node = new Node(leader.id(), leader.host(), leader.port(), leader.rack());
        if (!NetworkClientUtils.awaitReady(client, node, time, settings.socketTimeoutMs())) {
            throw new IOException("Cannot connect to broker " + leaderId + " at " + leader.host() + ":" + leader.port());
        }
        ClientRequest clientRequest = client.newClientRequest(Integer.toString(leaderId),
                builder, time.milliseconds(), true,
                settings.socketTimeoutMs() + settings.fetchWaitMaxMs(), null);
        ClientResponse response = NetworkClientUtils.sendAndReceive(client, clientRequest, time);
        return response.responseBody();
    }

    /** The fetch exactly as built above, at the version the plain-socket path uses. */
    private static final class FetchV12Builder extends AbstractRequest.Builder<FetchRequest> {
        private final FetchRequestData data;

        FetchV12Builder(FetchRequestData data) {
            super(ApiKeys.FETCH, FETCH_VERSION, FETCH_VERSION);
            this.data = data;
        }

        @Override
        public FetchRequest build(short version) {
            return new FetchRequest(data, version);
        }
    }

    private Socket connect() throws IOException {
        if (channel != null && !channel.isClosed()) {
            return channel;
        }
        BrokerInfo leader = brokers.apply(leaderId);
        if (leader == null) {
            throw new IOException("Broker " + leaderId + " is not registered");
        }
        Socket ch = new Socket();
        try {
            ch.setTcpNoDelay(true);
            ch.connect(new InetSocketAddress(leader.host(), leader.port()), settings.socketTimeoutMs());
            // a fetch waits up to replica.fetch.wait.max.ms on the leader before it answers
            ch.setSoTimeout(settings.socketTimeoutMs() + settings.fetchWaitMaxMs());
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        channel = ch;
        return ch;
    }

    private static void readFully(Socket ch, ByteBuffer buf) throws IOException {
        java.io.InputStream in = ch.getInputStream();
        while (buf.hasRemaining()) {
            int n = in.read(buf.array(), buf.arrayOffset() + buf.position(), buf.remaining());
            if (n < 0) {
                throw new IOException("Connection to broker closed");
            }
            buf.position(buf.position() + n);
        }
    }

    private void closeChannel() {
        NetworkClient c = client;
        client = null;
        if (c != null) {
            c.close();
            metrics.close();
        }
        Socket ch = channel;
        channel = null;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    List<TopicPartition> partitions() {
        return new ArrayList<>(partitions.keySet());
    }
}
