package io.gregor.broker;

import io.gregor.broker.authz.AclAuthorizer;
import io.gregor.broker.authz.AclsHandler;
import io.gregor.broker.console.BrokerView;
import io.gregor.broker.dynconfig.DynamicBrokerConfig;
import io.gregor.broker.logging.BrokerLoggers;
import io.gregor.broker.console.WebConsole;
import io.gregor.broker.fetchsession.FetchSessionCache;
import io.gregor.broker.handlers.ClusterHandler;
import io.gregor.broker.handlers.ConfigsHandler;
import io.gregor.broker.handlers.DescribeProducersHandler;
import io.gregor.broker.handlers.FeaturesHandler;
import io.gregor.broker.handlers.FetchHandler;
import io.gregor.broker.handlers.FindCoordinatorHandler;
import io.gregor.broker.handlers.GroupHandler;
import io.gregor.broker.handlers.OffsetsHandler;
import io.gregor.broker.handlers.ProduceHandler;
import io.gregor.broker.handlers.ProducerIdHandler;
import io.gregor.broker.handlers.TopicAdminHandler;
import io.gregor.broker.handlers.TransactionHandler;
import io.gregor.broker.handlers.TxnMarkersHandler;
import io.gregor.broker.http.HttpListener;
import io.gregor.broker.http.HttpResponses;
import io.gregor.broker.intercept.ControlEndpoint;
import io.gregor.broker.intercept.FaultInjector;
import io.gregor.broker.intercept.RequestTrace;
import io.gregor.broker.metadata.LocalMetadataStore;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.metrics.BrokerGauges;
import io.gregor.broker.metrics.BrokerMetrics;
import io.gregor.broker.metrics.MetricsEndpoint;
import io.gregor.broker.metrics.PartitionMetrics;
import io.gregor.broker.metrics.RequestHandlerPool;
import io.gregor.broker.quota.ClientQuotas;
import io.gregor.broker.quota.ClientQuotasApi;
import io.gregor.broker.quota.QuotaEnforcer;
import io.gregor.broker.replica.FetchPurgatory;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.broker.replica.ReplicationSettings;
import io.gregor.broker.security.InterBrokerSecurity;
import io.gregor.broker.security.ListenerSecurities;
import io.gregor.broker.security.ScramCredentials;
import io.gregor.broker.telemetry.ClientTelemetryHandler;
import io.gregor.broker.interbroker.InterBrokerClient;
import io.gregor.broker.txn.TxnMarkerRouter;
import io.gregor.broker.txn.TxnPartitionVerifier;
import io.gregor.broker.zk.ZkMetadataStore;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigException;
import io.gregor.config.DynamicBrokerConfigs;
import io.gregor.config.Endpoint;
import io.gregor.coordinator.GroupConfig;
import io.gregor.coordinator.consumer.ConsumerGroupConfig;
import io.gregor.coordinator.GroupCoordinator;
import io.gregor.coordinator.txn.MarkerSender;
import io.gregor.coordinator.txn.TransactionConfig;
import io.gregor.coordinator.txn.TransactionCoordinator;
import io.gregor.storage.FileLogManager;
import io.gregor.storage.LogConfig;
import io.gregor.storage.LogManager;
import io.gregor.storage.StorageSettings;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaServer;
import io.gregor.wire.TransportPreload;
import io.gregor.wire.security.ListenerSecurity;
import io.gregor.wire.security.SaslApis;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Gregor broker running in this JVM: what {@code bin/gregor-server-start} runs and what tests and
 * embedders start on an ephemeral port and a temp dir.
 */
public final class Broker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    /** Per connection: unanswered requests and bytes before the broker stops reading from it. */
    private static final int MAX_IN_FLIGHT_REQUESTS = 100;
    private static final long MAX_IN_FLIGHT_BYTES = 64L * 1024 * 1024;
    /** How soon transaction markers are sent again to a partition whose leader did not take them. */
    private static final long MARKER_RETRY_BACKOFF_MS = 100;
    /** Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS: how long a fetch session is safe from eviction. */
    private static final long FETCH_SESSION_EVICTION_MS = 120_000;
    /** How soon per-partition and per-group metrics (Log, consumer lag) of new partitions and groups appear. */
    private static final long PARTITION_METRICS_REFRESH_MS = 10_000;
    /** How long after its start a broker registers its metrics' MBeans. */
    private static final long JMX_REGISTRATION_DELAY_MS = 2_000;

    /** server.properties until the metadata store is open, then with the stored dynamic broker configs over it. */
    private BrokerConfig config;
    private DynamicBrokerConfig dynamicConfig;
    private final Time time;
    private final int brokerId;
    private final RequestHandlerPool requestPool;
    private final ScheduledThreadPoolExecutor scheduler;
    /** For admin requests that wait on the controller (leader elections), off the request threads. */
    private final ExecutorService adminWaits;
    /** Copy-on-write: the network idle metric reads it from the HTTP listener's threads. */
    private final List<KafkaServer> servers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, InetSocketAddress> advertised = new ConcurrentHashMap<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final FaultInjector faultInjector;
    private final RequestTrace requestTrace;
    /** gregor.http.listener: /faults, /trace, /health, /metrics and whatever else registers a route. */
    private HttpListener httpListener;
    /** Logs loaded and the Kafka listeners bound: what /health reports. */
    private volatile boolean ready;
    /** Kafka's metrics (JMX MBeans and /metrics). */
    private BrokerMetrics metrics;
    private MetadataStore store;
    private ZkMetadataStore zkStore;
    private ReplicaManager replicaManager;
    private LogManager logs;
    private GroupCoordinator groupCoordinator;
    /** The leader side of WriteTxnMarkers, which the transaction coordinator calls in-process. */
    private TxnMarkersHandler txnMarkers;
    private TransactionCoordinator transactionCoordinator;
    private io.gregor.broker.share.ShareGroups shareGroups;
    private InterBrokerClient interBrokerClient;
    private LogDirLocks logDirLocks;
    private volatile boolean closed;

    private Broker(BrokerConfig config, Time time) {
        this.config = config;
        this.time = time;
        this.brokerId = config.brokerId() == -1 ? 0 : config.brokerId();
        this.requestPool = new RequestHandlerPool(config.numIoThreads(), new LinkedBlockingQueue<>(),
                threads("gregor-request-"), time);
        this.scheduler = new ScheduledThreadPoolExecutor(1, threads("gregor-scheduler-"));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.adminWaits = java.util.concurrent.Executors.newCachedThreadPool(threads("gregor-admin-wait-"));
        this.faultInjector = new FaultInjector(brokerId);
        this.requestTrace = new RequestTrace(brokerId, time, config.wireTraceEnable());
    }

    /**
     * Starts a broker from server.properties-style settings (Kafka key names); {@code listeners} may
     * use port 0. Returns once the listener is bound and the logs are loaded.
     */
    public static Broker start(Map<String, String> props) {
        return start(BrokerConfig.of(props));
    }

    public static Broker start(BrokerConfig config) {
        return start(config, Time.SYSTEM);
    }

    /** As {@link #start(BrokerConfig)}, with every component of this broker reading {@code time}. */
    public static Broker start(BrokerConfig config, Time time) {
        Broker broker = new Broker(config, time);
        try {
            broker.startup();
            return broker;
        } catch (Exception e) {
            broker.close();
            throw e instanceof RuntimeException r ? r : new IllegalStateException("Broker failed to start", e);
        }
    }

    private void startup() throws InterruptedException {
        long began = time.nanoseconds();
        TransportPreload.startAsync();
        metrics = BrokerMetrics.create(brokerId, time);
        // first: a bad gregor.http.listener fails the start at once, and an orchestrator's readiness probe gets
        // 503 from /health while the logs load (which can take long after an unclean shutdown)
        if (config.httpListener().isPresent()) {
            httpListener = HttpListener.start(config.httpListener().get(), brokerId);
            httpListener.route("/health", java.util.Set.of("GET"), exchange -> HttpResponses.json(exchange,
                    ready ? 200 : 503, Map.of("status", ready ? "ready" : closed ? "stopping" : "starting", "brokerId", brokerId)));
            MetricsEndpoint.register(httpListener, metrics);
            log.info("Broker {}: HTTP listener on http://{}:{} (/health answers 503 until the broker serves)", brokerId,
                    httpListener.address().getHostString(), httpListener.address().getPort());
        }
        List<Path> logDirs = config.logDirs();
        for (Path dir : logDirs) {
            ensureWritableDir(dir);
        }
        logDirLocks = LogDirLocks.acquire(logDirs);
        // checked before anything else starts: a bad inter-broker setting fails the start naming its key
        InterBrokerSecurity interBroker = InterBrokerSecurity.from(config);
        String zkClusterId = null;
        if (config.zookeeperConnect().isPresent()) {
            zkStore = ZkMetadataStore.open(config.zookeeperConnect().get(), config.zookeeperSessionTimeoutMs(),
                    config.zookeeperConnectionTimeoutMs(), brokerId, time);
            store = zkStore;
            zkClusterId = zkStore.clusterId();
            writeZkModeMetaProperties(logDirs, zkClusterId);
        } else {
            store = new LocalMetadataStore(logDirs.get(0).resolve("gregor-metadata"));
        }
        // everything from here starts with the dynamic configs kept from earlier runs (kafka-configs --alter)
        dynamicConfig = new DynamicBrokerConfig(config, brokerId, store);
        config = dynamicConfig.current();
        if (config.numIoThreads() != requestPool.getCorePoolSize()) {
            requestPool.resize(config.numIoThreads());
        }
        logs = FileLogManager.open(new StorageSettings(logDirs, brokerId, config.logRetentionCheckIntervalMs(),
                        config.logFlushSchedulerIntervalMs(), config.logFlushOffsetCheckpointIntervalMs(),
                        config.logFlushStartOffsetCheckpointIntervalMs(), config.logCleanerEnable(),
                        config.logCleanerThreads(), config.logCleanerBackoffMs(), config.logCleanerDedupeBufferSize(),
                        config.logCleanerIoBufferSize(), config.replicaHighWatermarkCheckpointIntervalMs()),
                topic -> ReplicaManager.logConfig(config, store.topic(topic).map(TopicMetadata::configs).orElse(Map.of())),
                time);
        ((FileLogManager) logs).startProducerIdExpiration(time, () -> dynamicConfig.current().producerIdExpirationMs(),
                config.producerIdExpirationCheckIntervalMs());
        String clusterId = ((FileLogManager) logs).clusterId();
        if (zkClusterId != null && !zkClusterId.equals(clusterId)) {
            throw new IllegalStateException("The cluster id " + zkClusterId + " in ZooKeeper does not match the cluster.id "
                    + clusterId + " in meta.properties: these log dirs belong to another cluster");
        }
        FetchPurgatory purgatory = new FetchPurgatory(scheduler, requestPool);
        ReplicaManager replicas = new ReplicaManager(config, logs, purgatory, time);
        replicaManager = replicas;
        if (zkStore != null) {
            String interBrokerListener = interBroker.listenerName();
            // followers fetch from each leader's inter-broker listener, with that listener's security
            replicas.enableReplication(brokerId, zkStore, id -> {
                io.gregor.broker.metadata.BrokerInfo b = zkStore.broker(id);
                return b == null ? null : b.on(interBrokerListener);
            }, scheduler, ReplicationSettings.from(config), interBroker);
            if (config.autoLeaderRebalanceEnable()) {
                zkStore.enableAutoLeaderRebalance(TimeUnit.SECONDS.toMillis(config.leaderImbalanceCheckIntervalSeconds()),
                        config.leaderImbalancePerBrokerPercentage());
            }
        }
        Topics topics = new Topics(config, store, replicas);
        registerReconfigurables(topics, replicas);
        // before partitions are hosted: they take the ISR change meters as they are created
        BrokerGauges.replicaManager(metrics, replicas, topics::minInsyncReplicas);
        topics.startup();

        ApiRegistry registry = new ApiRegistry().identity(clusterId, brokerId);
        // authorizer.class.name: every handler's KafkaRequest.authorize asks it; without one, everything is allowed
        AclAuthorizer authorizer = config.authorizerEnabled()
                ? new AclAuthorizer(store, config.superUsers(), config.allowEveryoneIfNoAclFound()).start() : null;
        if (authorizer != null) {
            registry.authorizer(authorizer);
        }
        new AclsHandler(authorizer).register(registry);
        ScramCredentials scramCredentials = new ScramCredentials(store);
        scramCredentials.register(registry);
        SaslApis.register(registry);
        ClientQuotas clientQuotas = new ClientQuotas(store, config.quotaWindowNum(),
                TimeUnit.SECONDS.toMillis(config.quotaWindowSizeSeconds()), time);
        new ClientQuotasApi(clientQuotas).register(registry);
        QuotaEnforcer quotaEnforcer = new QuotaEnforcer(clientQuotas, time);
        // every listener's TLS and SASL settings are checked before anything binds
        Map<String, ListenerSecurity> securities = new java.util.LinkedHashMap<>();
        try {
            for (Endpoint listener : config.listeners()) {
                securities.put(listener.listenerName(),
                        ListenerSecurities.forListener(config, listener, scramCredentials.cache()));
            }
        } catch (RuntimeException e) {
            securities.values().forEach(ListenerSecurity::close);
            throw e;
        }
        securities.forEach((name, security) -> BrokerGauges.reauthentication(metrics, name, security.reauthStats()));
        new FetchHandler(topics, purgatory, fetchSessions(), time, metrics.topics()).register(registry);
        new OffsetsHandler(topics).register(registry);
        new ClusterHandler(config, topics, logs, brokerId, clusterId, advertised).register(registry);
        new TopicAdminHandler(topics, config).register(registry);
        // group configs live in the metadata store; coordinators read them per group at each use
        io.gregor.broker.groupconfig.GroupConfigManager groupConfigs =
                new io.gregor.broker.groupconfig.GroupConfigManager(store, dynamicConfig::current);
        new ConfigsHandler(topics, dynamicConfig, BrokerLoggers.ofThisJvm(), groupConfigs).register(registry);
        new io.gregor.broker.handlers.LeaderElectionHandler(topics, adminWaits).register(registry);
        new io.gregor.broker.reassign.ReassignmentHandler(topics, brokerId, adminWaits).register(registry);
        new io.gregor.broker.handlers.AlterReplicaLogDirsHandler(topics, logs, adminWaits).register(registry);
        new DescribeProducersHandler(topics).register(registry);
        InternalTopic offsetsTopic = new InternalTopic(InternalTopic.consumerOffsets(config), topics, replicas, time);
        groupCoordinator = new GroupCoordinator(new GroupConfig(config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.groupMaxSize(),
                config.offsetMetadataMaxBytes(), config.offsetsRetentionMs(), config.offsetsRetentionCheckIntervalMs()),
                new ConsumerGroupConfig(config.groupConsumerSessionTimeoutMs(), config.groupConsumerHeartbeatIntervalMs(),
                        config.groupConsumerMaxSize(), config.groupConsumerAssignors(),
                        io.gregor.coordinator.consumer.MigrationPolicy.parse(config.groupConsumerMigrationPolicy()),
                        config.groupMaxSize(), groupConfigs),
                offsetsTopic, (topic, partition) -> topics.partition(topic, partition).isPresent(),
                new ConsumerGroupTopics(topics), scheduler, time);
        // groups move with the leadership of their __consumer_offsets partition; events before startup()
        // are covered by its scan of the partitions led then (loading twice is a no-op)
        offsetsTopic.followLeadership(groupCoordinator);
        groupCoordinator.startup();

        ProducerIdAllocator producerIds = new ProducerIdAllocator(store);
        InternalTopic transactionTopic = new InternalTopic(InternalTopic.transactionState(config), topics, replicas, time);
        // a broker without ZooKeeper leads every partition (markers, share-group state are all in-process), so
        // it needs no network client (nor its thread and the client classes' load time)
        interBrokerClient = zkStore == null ? null
                : new InterBrokerClient(brokerId, "inter-broker", config.requestTimeoutMs(), time,
                        interBroker.listenerName(), logContext -> interBroker.channelBuilder(time, logContext));
        // markers for partitions led here are written in-process; one landing on __consumer_offsets completes
        // the producer's transactional offset commits there
        GroupCoordinator groups = groupCoordinator;
        txnMarkers = new TxnMarkersHandler(topics, time, config.requestTimeoutMs(),
                (topic, partition, producerId, producerEpoch, committed) -> {
                    if (topic.equals(offsetsTopic.name())) {
                        groups.completeTransaction(partition, producerId, committed);
                    }
                });
        txnMarkers.register(registry);
        MarkerSender localMarkers = txnMarkers::writeMarkers;
        transactionCoordinator = new TransactionCoordinator(new TransactionConfig(config.transactionMaxTimeoutMs(),
                config.transactionAbortTimedOutTransactionCleanupIntervalMs(), config.transactionalIdExpirationMs(),
                config.transactionRemoveExpiredTransactionCleanupIntervalMs(), MARKER_RETRY_BACKOFF_MS),
                transactionTopic, producerIds, new TxnMarkerRouter(brokerId, store, localMarkers, interBrokerClient),
                (topic, partition) -> topics.topic(topic).map(t -> partition >= 0 && partition < t.partitionCount()).orElse(false),
                groupId -> new TopicPartition(offsetsTopic.name(),
                        FindCoordinatorHandler.partitionFor(groupId, offsetsTopic.partitionCount())),
                scheduler, time);
        transactionTopic.followLeadership(transactionCoordinator);
        transactionCoordinator.startup();
        new ProducerIdHandler(producerIds, transactionCoordinator).register(registry);
        new TransactionHandler(transactionCoordinator).register(registry);
        // Kafka 4.4's default: transactions v2 (KIP-890), which 4.x Java clients then use; v1 clients keep working
        registry.features().register("transaction.version", (short) 0, (short) 2, (short) 2);
        // the KIP-848 consumer group protocol (ConsumerGroupHeartbeat), served by GroupHandler
        registry.features().register("group.version", (short) 0, (short) 1, (short) 1);
        new FeaturesHandler(registry.features(), brokerId).register(registry);
        new ClientTelemetryHandler().register(registry);
        TxnPartitionVerifier verifier = new TxnPartitionVerifier(brokerId, store, transactionTopic.name(),
                transactionCoordinator, interBrokerClient, scheduler, time);
        new ProduceHandler(topics, time, verifier, config.transactionPartitionVerificationEnable(),
                metrics.topics()).register(registry);
        new GroupHandler(groupCoordinator, verifier, config.transactionPartitionVerificationEnable(),
                offsetsTopic.name(),
                BrokerGauges.groupCoordinator(metrics, groupCoordinator), topics).register(registry);
        shareGroups = new io.gregor.broker.share.ShareGroups(config, brokerId, topics, replicas, groupCoordinator,
                offsetsTopic, purgatory, interBrokerClient, groupConfigs, scheduler, time);
        shareGroups.register(registry); // after GroupHandler: it extends ListGroups and DeleteGroups with share groups
        // share groups (KIP-932) as Kafka 4.2+ finalizes them: share.version 1 (level 2, KIP-1191's dead-letter
        // queues, is not implemented)
        registry.features().register("share.version", (short) 0, (short) 1, (short) 1);
        BrokerGauges.controller(metrics, store, this::controllerId, brokerId);
        BrokerGauges.socketServer(metrics, () -> servers.stream().flatMap(s -> s.networkThreads().stream()).toList(), time);
        requestPool.register(metrics);
        scheduler.scheduleAtFixedRate(requestPool::sample, 1, 1, TimeUnit.SECONDS);
        PartitionMetrics partitionMetrics = new PartitionMetrics(metrics, replicas, groupCoordinator);
        metrics.beforeScrape(partitionMetrics::refresh);
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                partitionMetrics.refresh();
            } catch (RuntimeException e) {
                log.warn("Cannot bring the partition metrics up to date: {}", e.toString());
            }
        }, 0, PARTITION_METRICS_REFRESH_MS, TimeUnit.MILLISECONDS); // the first refresh too: off the start path
        new FindCoordinatorHandler(Map.of(CoordinatorType.GROUP, offsetsTopic, CoordinatorType.TRANSACTION, transactionTopic,
                CoordinatorType.SHARE, shareGroups.stateTopic()),
                brokerId, advertised).register(registry);
        faultInjector.bind(api -> registry.lookup(api) != null, name -> topics.topic(name).map(TopicMetadata::topicId));
        requestTrace.bind(id -> topics.topic(id).map(TopicMetadata::name));

        if (httpListener != null) {
            ControlEndpoint.register(httpListener, faultInjector, requestTrace);
            WebConsole.register((path, handler) -> httpListener.routeTree(path,
                            java.util.Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"), handler),
                    new BrokerView(brokerId, clusterId, config, topics, groupCoordinator, advertised, time));
        }
        Map<String, KafkaServer> serversByListener = new java.util.LinkedHashMap<>();
        for (Endpoint listener : config.listeners()) {
            KafkaServer server = new KafkaServer(new KafkaServer.Settings(listener.listenerName(), listener.host(),
                    listener.port(), config.networkThreads(listener.listenerName()), config.socketRequestMaxBytes(),
                    MAX_IN_FLIGHT_REQUESTS, MAX_IN_FLIGHT_BYTES, config.connectionsMaxIdleMs(),
                    config.socketSendBufferBytes(), config.socketReceiveBufferBytes()),
                    securities.get(listener.listenerName()), registry,
                    // the trace first: it notes the request as sent, before a fault takes a topic out of it
                    List.of(requestTrace.interceptor(), faultInjector.interceptor()), metrics.requests(), quotaEnforcer,
                    requestPool, time);
            servers.add(server);
            serversByListener.put(listener.listenerName(), server);
            InetSocketAddress bound;
            try {
                bound = server.start();
            } catch (Exception e) {
                throw new ConfigException("listeners", listener.connectionString(), "cannot listen there: " + e);
            }
            advertised.put(listener.listenerName(), advertisedAddress(listener, bound));
        }
        registerListenerReconfigurables(serversByListener, securities);
        if (zkStore != null) {
            List<Endpoint> endpoints = new ArrayList<>();
            for (Endpoint listener : config.listeners()) {
                InetSocketAddress a = advertised.get(listener.listenerName());
                endpoints.add(new Endpoint(listener.listenerName(), listener.securityProtocol(), a.getHostString(),
                        a.getPort()));
            }
            zkStore.register(endpoints, config.rack().orElse(null));
        }
        ready = true;
        // later, not right away: the platform MBean server's creation and an MBean per metric would take CPU
        // from the first clients' requests, which in a fresh test JVM come at once
        scheduler.schedule(() -> {
            try {
                metrics.registerInJmx();
            } catch (RuntimeException e) {
                log.warn("Broker {}: cannot register the metrics' MBeans ({}); they are on /metrics only", brokerId, e.toString());
            }
        }, JMX_REGISTRATION_DELAY_MS, TimeUnit.MILLISECONDS);
        log.info("Gregor broker {} started in {} ms (cluster {}, {} topics); listening on {}{}", brokerId,
                TimeUnit.NANOSECONDS.toMillis(time.nanoseconds() - began), clusterId, topics.all().size(),
                String.join(", ", listenerDescriptions()), httpListener == null ? ""
                        : "; HTTP listener http://" + httpListener.address().getHostString() + ":"
                        + httpListener.address().getPort());
    }

    /** What applies a dynamic broker config change without a restart. */
    private void registerReconfigurables(Topics topics, ReplicaManager replicas) {
        dynamicConfig.addReconfigurable((old, next) -> replicas.resizeFetchers(next.numReplicaFetchers()));
        // topic defaults: log.retention.ms, message.max.bytes, ... for every topic without its own override
        dynamicConfig.addReconfigurable((old, next) -> topics.reconfigure(next));
        // replication throttles, which kafka-reassign-partitions --throttle sets and clears
        topics.replicationThrottles().rates(config.replicationThrottledRate(true), config.replicationThrottledRate(false));
        dynamicConfig.addReconfigurable((old, next) -> topics.replicationThrottles()
                .rates(next.replicationThrottledRate(true), next.replicationThrottledRate(false)));
        dynamicConfig.addReconfigurable((old, next) -> {
            boolean cleanerChanged = DynamicBrokerConfigs.CLEANER_KEYS.stream()
                    .anyMatch(key -> !java.util.Objects.equals(old.get(key), next.get(key)));
            if (cleanerChanged && logs instanceof FileLogManager files) {
                files.reconfigureCleaner(next.logCleanerThreads(), next.logCleanerBackoffMs(),
                        next.logCleanerDedupeBufferSize(), next.logCleanerIoBufferSize());
            }
        });
        dynamicConfig.addReconfigurable((old, next) -> {
            if (old.numIoThreads() != next.numIoThreads()) {
                requestPool.resize(next.numIoThreads());
                log.info("Broker {}: {} request threads (num.io.threads)", brokerId, next.numIoThreads());
            }
        });
    }

    /**
     * What applies a listener's dynamic configs: its TLS stores (listener.name.x.ssl.keystore.location and the
     * like), checked and applied by Kafka's SslFactory, and its network threads (num.network.threads).
     */
    private void registerListenerReconfigurables(Map<String, KafkaServer> serversByListener,
                                                 Map<String, ListenerSecurity> securities) {
        dynamicConfig.addReconfigurable(new DynamicBrokerConfig.Reconfigurable() {
            @Override
            public void validate(BrokerConfig current, BrokerConfig next) {
                securities.forEach((name, security) -> {
                    if (tlsStoresChanged(current, next, name)) {
                        security.validateReconfiguration(next.listenerConfigs(name));
                    }
                });
            }

            @Override
            public void reconfigure(BrokerConfig old, BrokerConfig next) {
                securities.forEach((name, security) -> {
                    if (tlsStoresChanged(old, next, name)) {
                        security.reconfigure(next.listenerConfigs(name));
                        log.info("Broker {}: listener {} serves new connections with its new TLS stores", brokerId, name);
                    }
                });
            }

            @Override
            public void reloadUnchangedFiles(BrokerConfig current, BrokerConfig next) {
                // Kafka's SslFactory rebuilds only when a store file was modified since it was loaded
                securities.forEach((name, security) -> {
                    if (!tlsStoresChanged(current, next, name)) {
                        Map<String, String> settings = next.listenerConfigs(name);
                        security.validateReconfiguration(settings);
                        security.reconfigure(settings);
                    }
                });
            }
        });
        dynamicConfig.addReconfigurable((old, next) -> serversByListener.forEach((name, server) ->
                server.resizeNetworkThreads(next.networkThreads(name))));
    }

    private static boolean tlsStoresChanged(BrokerConfig old, BrokerConfig next, String listenerName) {
        Map<String, String> before = old.listenerConfigs(listenerName);
        Map<String, String> after = next.listenerConfigs(listenerName);
        return DynamicBrokerConfigs.LISTENER_SECURITY_KEYS.stream()
                .anyMatch(key -> !java.util.Objects.equals(before.get(key), after.get(key)));
    }

    /** Live log cleaner threads: log.cleaner.threads, also after a dynamic change. */
    public int logCleanerThreads() {
        return logs instanceof FileLogManager files ? files.cleanerThreadCount() : 0;
    }

    /** Every listener's running network threads (num.network.threads), old ones still serving connections included. */
    public List<Thread> networkThreads() {
        return servers.stream().flatMap(s -> s.networkThreads().stream()).toList();
    }

    /** The running replica fetcher threads (num.replica.fetchers per leader). */
    public List<Thread> replicaFetcherThreads() {
        ReplicaManager replicas = replicaManager;
        return replicas == null ? List.of() : replicas.fetcherThreads();
    }

    /** The request threads: num.io.threads, also after a dynamic change. */
    public int requestThreads() {
        return requestPool.getCorePoolSize();
    }

    /** The incremental fetch sessions, with Kafka's FetchSessionCache metrics. */
    private FetchSessionCache fetchSessions() {
        String d = "kafka.server";
        String t = "FetchSessionCache";
        com.yammer.metrics.core.Meter evictions = metrics.meter(d, t, "IncrementalFetchSessionEvictionsPerSec",
                "evictions", Map.of());
        FetchSessionCache cache = new FetchSessionCache(config.maxIncrementalFetchSessionCacheSlots(),
                FETCH_SESSION_EVICTION_MS, time, evictions::mark);
        metrics.gauge(d, t, "NumIncrementalFetchSessions", Map.of(), cache::size);
        metrics.gauge(d, t, "NumIncrementalFetchPartitionsCached", Map.of(), cache::partitionsCached);
        return cache;
    }

    /**
     * A ZooKeeper-mode broker takes the cluster id from ZooKeeper; fresh log dirs get Kafka's v0
     * meta.properties with it, so the log manager finds the same id.
     */
    private void writeZkModeMetaProperties(List<Path> logDirs, String clusterId) {
        for (Path dir : logDirs) {
            Path f = dir.resolve("meta.properties");
            if (!Files.exists(f)) {
                try {
                    Files.writeString(f, "#\n#Written by Gregor\nversion=0\nbroker.id=" + brokerId
                            + "\ncluster.id=" + clusterId + "\n");
                } catch (IOException e) {
                    throw new ConfigException("log.dirs", dir, "cannot write meta.properties: " + e);
                }
            }
        }
    }

    private static void ensureWritableDir(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ConfigException("log.dirs", dir, "cannot create the directory: " + e);
        }
        if (!Files.isWritable(dir)) {
            throw new ConfigException("log.dirs", dir, "the directory is not writable");
        }
    }

    /** The address clients are told: advertised.listeners, with the bound port where 0 was asked for. */
    private InetSocketAddress advertisedAddress(Endpoint listener, InetSocketAddress bound) {
        Optional<Endpoint> configured = config.advertisedListeners().stream()
                .filter(e -> e.listenerName().equals(listener.listenerName())).findFirst();
        String host = configured.map(Endpoint::host).filter(h -> !h.isEmpty()).orElse(listener.host());
        int port = configured.map(Endpoint::port).filter(p -> p != 0).orElse(bound.getPort());
        if (host == null || host.isEmpty()) {
            try {
                host = InetAddress.getLocalHost().getCanonicalHostName();
            } catch (UnknownHostException e) {
                host = "localhost";
            }
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    private List<String> listenerDescriptions() {
        List<String> out = new ArrayList<>();
        advertised.forEach((name, addr) -> out.add(name + "://" + addr.getHostString() + ":" + addr.getPort()));
        return out;
    }

    public int brokerId() {
        return brokerId;
    }

    /** Faults injected into this broker's answers (tests). */
    public FaultInjector faultInjector() {
        return faultInjector;
    }

    /** The answers this broker sent, as clients received them, while the trace is enabled. */
    public RequestTrace requestTrace() {
        return requestTrace;
    }

    /** The HTTP listener's address, when gregor.http.listener is set. */
    public Optional<InetSocketAddress> controlEndpointAddress() {
        return Optional.ofNullable(httpListener).map(HttpListener::address);
    }

    /** host:port of the first listener, as clients should use it. */
    public String bootstrapServers() {
        InetSocketAddress a = advertised.get(config.listeners().get(0).listenerName());
        return a.getHostString() + ":" + a.getPort();
    }

    /** host:port of the named listener as clients should use it (the bound port where 0 was asked for). */
    public String bootstrapServers(String listenerName) {
        InetSocketAddress a = advertised.get(listenerName.toUpperCase(java.util.Locale.ROOT));
        if (a == null) {
            throw new IllegalArgumentException("No listener " + listenerName + "; listeners are " + advertised.keySet());
        }
        return a.getHostString() + ":" + a.getPort();
    }

    public int port() {
        return advertised.get(config.listeners().get(0).listenerName()).getPort();
    }

    /** Ids of the brokers this one sees alive (itself alone without ZooKeeper). */
    public java.util.Set<Integer> liveBrokerIds() {
        if (!store.clustered()) {
            return java.util.Set.of(brokerId);
        }
        java.util.Set<Integer> ids = new java.util.TreeSet<>();
        store.liveBrokers().forEach(b -> ids.add(b.id()));
        return ids;
    }

    /** The controller this broker knows of, -1 while there is none (always this broker without ZooKeeper). */
    public int controllerId() {
        return store.clustered() ? store.controllerId() : brokerId;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /** Clean shutdown: stops accepting, finishes in-flight requests, flushes, writes the clean-shutdown marker. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        log.info("Gregor broker {} shutting down", brokerId);
        if (zkStore != null && ReplicationSettings.from(config).controlledShutdownEnable()) {
            long timeout = ReplicationSettings.from(config).controlledShutdownTimeoutMs();
            // controlled shutdown: leaderships move to other in-sync replicas while we still serve
            boolean moved = zkStore.unregisterAndAwaitLeadershipsMoved(timeout);
            log.info("Controlled shutdown of broker {}: {}", brokerId,
                    moved ? "leaderships moved, out of every ISR" : "gave up waiting after " + timeout + " ms");
        }
        if (httpListener != null) {
            httpListener.close();
        }
        for (KafkaServer server : servers) {
            server.close();
        }
        requestPool.shutdown();
        try {
            if (!requestPool.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("Requests still running after 30 s; stopping them");
                requestPool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopCoordinatorsAndReplication();
        try {
            if (logs != null) {
                logs.close();
            }
            if (store != null) {
                store.close();
            }
        } finally {
            // even when the logs cannot be closed cleanly (a full disk): the next start recovers them
            releaseLogDirLocks();
            closeMetrics();
        }
        log.info("Gregor broker {} shut down cleanly", brokerId);
        stopped.countDown();
    }

    /**
     * Stops as a crash would look to clients and to the controller: connections are dropped with requests
     * unanswered, there is no controlled shutdown, nothing is flushed or checkpointed, no clean-shutdown
     * marker is written (the next start recovers the logs), and the ZooKeeper session is closed so the
     * controller sees the broker gone at once. For embedded tests; a no-op once closed or killed.
     */
    public synchronized void kill() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        log.info("Gregor broker {} killed", brokerId);
        for (KafkaServer server : servers) {
            server.close();
        }
        if (httpListener != null) {
            httpListener.close();
        }
        requestPool.shutdownNow();
        stopCoordinatorsAndReplication();
        try {
            if (logs instanceof FileLogManager files) {
                files.halt();
            }
            if (store != null) {
                store.close();
            }
        } finally {
            // a crashed process loses its locks with it; a killed broker in this JVM must let a restart take them
            releaseLogDirLocks();
            closeMetrics();
        }
        stopped.countDown();
    }

    /** What close() and kill() stop alike, after the listeners and the request threads. */
    private void stopCoordinatorsAndReplication() {
        if (groupCoordinator != null) {
            groupCoordinator.close();
        }
        if (transactionCoordinator != null) {
            transactionCoordinator.close();
        }
        if (shareGroups != null) {
            shareGroups.close();
        }
        if (interBrokerClient != null) {
            interBrokerClient.close();
        }
        scheduler.shutdownNow();
        adminWaits.shutdownNow();
        if (replicaManager != null) {
            replicaManager.shutdown();
        }
    }

    /** Unregisters the MBeans, so a broker started next in this JVM can take the names. */
    private void closeMetrics() {
        if (metrics != null) {
            metrics.close();
        }
    }

    private void releaseLogDirLocks() {
        if (logDirLocks != null) {
            logDirLocks.close();
        }
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
    }
}
