package io.gregor.broker.zk;

import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.MetadataListener;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.broker.metadata.TopicMetadata;
import io.gregor.broker.replica.IsrWriter;
import io.gregor.config.Endpoint;
import io.gregor.storage.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import io.gregor.broker.authz.AclJson;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Cluster metadata in ZooKeeper, in Kafka's ZooKeeper-mode layout and JSON. Every broker keeps a cache of
 * brokers, topics, configs and partition states, kept current by persistent recursive watches; changes are
 * handled one at a time on one thread, which also runs the {@link ZkController} when this broker is it.
 * Topic changes are written the way Kafka's AdminZkClient did (any broker writes the znodes, the
 * controller acts on them); calls wait until the change is visible in the cache, so a client that asks
 * for metadata next sees it.
 */
public final class ZkMetadataStore implements MetadataStore, IsrWriter {
    private static final Logger log = LoggerFactory.getLogger(ZkMetadataStore.class);
    private static final List<org.apache.zookeeper.data.ACL> ACL = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    /** How long a topic change waits to become visible (the controller must act on it). */
    private static final long VISIBLE_TIMEOUT_MS = 15_000;

    private final String hosts;
    private final String chroot;
    private final int sessionTimeoutMs;
    private final int connectionTimeoutMs;
    final int brokerId;
    final ExecutorService events;
    volatile ZooKeeper zk;

    final Map<Integer, BrokerInfo> brokers = new ConcurrentHashMap<>();
    private final Map<String, TopicMetadata> topics = new ConcurrentHashMap<>();
    private final Map<Uuid, TopicMetadata> topicsById = new ConcurrentHashMap<>();
    final Map<String, Map<Integer, List<Integer>>> assignments = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> configs = new ConcurrentHashMap<>();
    /** User name (desanitized) to its /config/users entity configs, kept current by a watch. */
    private final Map<String, Map<String, String>> userConfigs = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<String>> userListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Entity path below /config (clients/<id>, users/<user>/clients/<id>) to its quota configs, kept current by watches. */
    private final Map<String, Map<String, String>> clientQuotaConfigs = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<String>> clientQuotaListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** ACLs by resource pattern, from /kafka-acl and /kafka-acl-extended, kept current by watches. */
    private final Map<ResourcePattern, Set<AccessControlEntry>> acls = new ConcurrentHashMap<>();
    private volatile java.util.function.Consumer<ResourcePattern> aclListener;
    /** Entity (a broker id or {@code <default>}) to its /config/brokers dynamic configs, kept current by a watch. */
    private final Map<String, Map<String, String>> brokerConfigs = new ConcurrentHashMap<>();
    private volatile java.util.function.Consumer<String> brokerConfigListener;
    /** Group id (desanitized) to its /config/groups configs, kept current by a watch. */
    private final Map<String, Map<String, String>> groupConfigs = new ConcurrentHashMap<>();
    final Map<TopicPartition, PartitionState> states = new ConcurrentHashMap<>();
    /** Partitions being reassigned, from the adding_replicas/removing_replicas of their topic znodes. */
    final Map<TopicPartition, io.gregor.broker.metadata.ReplicaAssignment> reassigning = new ConcurrentHashMap<>();
    private volatile int controllerId = -1;
    private volatile MetadataListener listener;
    private final Object changed = new Object();
    private final ZkController controller;
    private volatile byte[] registration;
    private volatile boolean closed;
    final Time time;

    private ZkMetadataStore(String connect, int sessionTimeoutMs, int connectionTimeoutMs, int brokerId, Time time) {
        this.time = time;
        int slash = connect.indexOf('/');
        this.hosts = slash < 0 ? connect : connect.substring(0, slash);
        String root = slash < 0 ? "" : connect.substring(slash);
        this.chroot = root.equals("/") ? "" : root;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.connectionTimeoutMs = connectionTimeoutMs;
        this.brokerId = brokerId;
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gregor-zk-events-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        this.controller = new ZkController(this);
    }

    /**
     * Connects (creating the chroot if there is one), creates Kafka's top-level paths and loads the cache.
     *
     * @param connect Kafka's {@code zookeeper.connect}: {@code host:port[,host:port...][/chroot]}
     */
    public static ZkMetadataStore open(String connect, int sessionTimeoutMs, int connectionTimeoutMs, int brokerId,
                                       Time time) {
        ZkMetadataStore store = new ZkMetadataStore(connect, sessionTimeoutMs, connectionTimeoutMs, brokerId, time);
        try {
            store.start();
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private void start() {
        if (!chroot.isEmpty()) {
            ZooKeeper root = connect(hosts, false);
            try {
                createRecursive(root, chroot);
            } finally {
                closeQuietly(root);
            }
        }
        zk = connect(hosts + chroot, true);
        List<String> persistent = new ArrayList<>(ZkPaths.PERSISTENT);
        // what Kafka's ACL authorizer creates at start
        persistent.addAll(List.of(AclJson.LITERAL_ACLS, AclJson.PREFIXED_ACLS, AclJson.LITERAL_CHANGES,
                AclJson.EXTENDED_CHANGES));
        createAllRecursive(zk, persistent);
        addWatches();
        call(() -> {
            loadAll();
            return null;
        });
        log.info("Connected to ZooKeeper {}{} (session timeout {} ms): {} broker(s), {} topic(s)", hosts, chroot,
                sessionTimeoutMs, brokers.size(), topics.size());
    }

    private ZooKeeper connect(String connectString, boolean watch) {
        CountDownLatch connected = new CountDownLatch(1);
        Watcher watcher = event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
            if (!watch || closed) {
                // a closing store's last watch events have nobody left to handle them
                return;
            }
            if (event.getState() == Watcher.Event.KeeperState.Expired) {
                events.execute(this::onSessionExpired);
            } else if (event.getType() != Watcher.Event.EventType.None && event.getPath() != null) {
                events.execute(() -> onEvent(event));
            }
        };
        try {
            ZooKeeper z = new ZooKeeper(connectString, sessionTimeoutMs, watcher);
            if (!connected.await(connectionTimeoutMs, TimeUnit.MILLISECONDS)) {
                closeQuietly(z);
                throw new IllegalStateException("Timed out after " + connectionTimeoutMs
                        + " ms connecting to ZooKeeper at " + connectString);
            }
            return z;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Cannot connect to ZooKeeper at " + connectString + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted connecting to ZooKeeper", e);
        }
    }

    private void addWatches() {
        Map<String, AddWatchMode> watches = new LinkedHashMap<>();
        for (String path : List.of(ZkPaths.BROKERS, ZkPaths.CONFIG_TOPICS, ZkPaths.CONFIG_USERS, AclJson.LITERAL_ACLS,
                AclJson.EXTENDED_ACLS, ZkPaths.CONFIG_BROKERS, ZkPaths.CONFIG_CLIENTS, ZkPaths.CONFIG_GROUPS,
                ZkPaths.DELETE_TOPICS, ZkPaths.ISR_CHANGES)) {
            watches.put(path, AddWatchMode.PERSISTENT_RECURSIVE);
        }
        for (String path : List.of(ZkPaths.CONTROLLER, ZkPaths.PREFERRED_ELECTION, ZkPaths.UNCLEAN_ELECTION,
                ZkPaths.REASSIGN_PARTITIONS)) {
            watches.put(path, AddWatchMode.PERSISTENT);
        }
        // pipelined, as createAllRecursive: one round trip, not one per watch
        Pipeline pipeline = new Pipeline(watches.size(), KeeperException.Code.OK);
        watches.forEach((path, mode) -> zk.addWatch(path, mode, (rc, p, ctx) -> pipeline.done(rc, p), null));
        pipeline.await(connectionTimeoutMs, "watch");
    }

    /** The session is gone (its ephemeral nodes too): start a new one and register again, as Kafka does. */
    private void onSessionExpired() {
        if (closed) {
            return;
        }
        log.warn("ZooKeeper session expired; reconnecting");
        closeQuietly(zk);
        controller.resign();
        try {
            zk = connect(hosts + chroot, true);
            addWatches();
            loadAll();
            replay();
            java.util.function.Consumer<ResourcePattern> acl = aclListener;
            if (acl != null) {
                acl.accept(null); // ACL changes during the gap were not watched: everything may have changed
            }
            if (registration != null) {
                zk.create(ZkPaths.broker(brokerId), registration, ACL, CreateMode.EPHEMERAL);
            }
            controller.elect();
        } catch (RuntimeException | KeeperException e) {
            log.error("Could not re-establish the ZooKeeper session", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ cluster id and registration

    /** The cluster id in {@code /cluster/id}, created by the first broker ever to start. */
    public String clusterId() {
        try {
            try {
                return (String) Json.object(zk.getData(ZkPaths.CLUSTER_ID, false, null)).get("id");
            } catch (KeeperException.NoNodeException e) {
                String id = Uuid.randomUuid().toString();
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("version", "1");
                json.put("id", id);
                createRecursive(zk, "/cluster");
                try {
                    zk.create(ZkPaths.CLUSTER_ID, Json.bytes(json), ACL, CreateMode.PERSISTENT);
                    return id;
                } catch (KeeperException.NodeExistsException raced) {
                    return (String) Json.object(zk.getData(ZkPaths.CLUSTER_ID, false, null)).get("id");
                }
            }
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot read " + ZkPaths.CLUSTER_ID + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes this broker's ephemeral {@code /brokers/ids/N} (JSON version 5) and joins the controller
     * election. {@code endpoints} are the advertised listeners with their bound ports.
     */
    public void register(List<Endpoint> endpoints, String rack) {
        Map<String, Object> json = new LinkedHashMap<>();
        Endpoint plaintext = endpoints.stream().filter(e -> e.securityProtocol().equals("PLAINTEXT")).findFirst()
                .orElse(null);
        List<String> eps = new ArrayList<>();
        Map<String, Object> protocols = new LinkedHashMap<>();
        for (Endpoint e : endpoints) {
            eps.add(e.connectionString());
            protocols.put(e.listenerName(), e.securityProtocol());
        }
        json.put("features", new LinkedHashMap<>());
        json.put("listener_security_protocol_map", protocols);
        json.put("endpoints", eps);
        json.put("jmx_port", -1);
        json.put("port", plaintext == null ? -1 : plaintext.port());
        json.put("host", plaintext == null ? null : plaintext.host());
        json.put("version", 5);
        json.put("timestamp", Long.toString(time.milliseconds()));
        if (rack != null) {
            json.put("rack", rack);
        }
        byte[] data = Json.bytes(json);
        try {
            try {
                zk.create(ZkPaths.broker(brokerId), data, ACL, CreateMode.EPHEMERAL);
            } catch (KeeperException.NodeExistsException e) {
                // This id killed moments ago (kill -9, then a quick restart) is still registered by its old session
                // until ZooKeeper expires it, within the session timeout: wait for that instead of failing, as a
                // live broker with this id would keep its node and still fail the start below.
                if (!awaitRegistrationGone(sessionTimeoutMs + 2_000L)) {
                    throw new IllegalStateException("Broker id " + brokerId + " is already registered in ZooKeeper ("
                            + ZkPaths.broker(brokerId) + "); another broker uses this broker.id", e);
                }
                zk.create(ZkPaths.broker(brokerId), data, ACL, CreateMode.EPHEMERAL);
            }
        } catch (KeeperException.NodeExistsException e) {
            throw new IllegalStateException("Broker id " + brokerId + " is already registered in ZooKeeper ("
                    + ZkPaths.broker(brokerId) + "); another broker uses this broker.id", e);
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot register broker " + brokerId + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        registration = data;
        awaitVisible(() -> brokers.containsKey(brokerId), VISIBLE_TIMEOUT_MS);
        events.execute(controller::elect);
        log.info("Registered broker {} in ZooKeeper at {}", brokerId, ZkPaths.broker(brokerId));
    }

    /** Whether this broker id's registration by another session went away (its session expired) within {@code timeoutMs}. */
    private boolean awaitRegistrationGone(long timeoutMs) throws KeeperException, InterruptedException {
        java.util.concurrent.CountDownLatch gone = new java.util.concurrent.CountDownLatch(1);
        Stat stat = zk.exists(ZkPaths.broker(brokerId), event -> {
            if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                gone.countDown();
            }
        });
        if (stat == null) {
            return true;
        }
        log.info("Broker id {} is still registered in ZooKeeper by session 0x{}; waiting up to {} ms for it to expire",
                brokerId, Long.toHexString(stat.getEphemeralOwner()), timeoutMs);
        return gone.await(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * Controlled shutdown: removes this broker's registration so the controller moves its leaderships to
     * other in-sync replicas, then waits (up to {@code timeoutMs}) until it leads nothing and is in no ISR that
     * a live broker shares.
     */
    public boolean unregisterAndAwaitLeadershipsMoved(long timeoutMs) {
        // Kafka's controlled shutdown ends once the controller has moved this broker's leaderships and taken it
        // out of every ISR it shared with others, each a state znode write with a new leader epoch
        registration = null;
        try {
            zk.delete(ZkPaths.broker(brokerId), -1);
        } catch (KeeperException.NoNodeException ignored) {
            // already gone
        } catch (KeeperException e) {
            log.warn("Could not remove the registration of broker {}: {}", brokerId, e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return awaitVisible(() -> states.values().stream().noneMatch(s -> s.isr().contains(brokerId)
                && s.isr().stream().anyMatch(r -> r != brokerId && brokers.containsKey(r))), timeoutMs);
    }

    // ------------------------------------------------------------------ cache, fed by watches

    private void onEvent(WatchedEvent event) {
        if (closed) {
            return;
        }
        String path = event.getPath();
        String[] parts = path.split("/");
        try {
            if (path.startsWith(ZkPaths.BROKER_IDS + "/") && parts.length == 4) {
                loadBroker(Integer.parseInt(parts[3]));
                MetadataListener l = listener;
                if (l != null) {
                    l.brokersChanged();
                }
                controller.onBrokersChanged();
            } else if (path.startsWith(ZkPaths.BROKER_TOPICS + "/") && parts.length == 4) {
                loadTopic(parts[3], true);
                controller.onTopicChanged(parts[3]);
            } else if (path.startsWith(ZkPaths.BROKER_TOPICS + "/") && parts.length == 7 && parts[6].equals("state")) {
                loadState(parts[3], Integer.parseInt(parts[5]), true);
                controller.onPartitionStateChanged(new TopicPartition(parts[3], Integer.parseInt(parts[5])));
            } else if (path.startsWith(ZkPaths.CONFIG_TOPICS + "/") && parts.length == 4) {
                loadConfig(parts[3]);
                TopicMetadata t = topics.get(parts[3]);
                if (t != null) {
                    TopicMetadata updated = new TopicMetadata(t.name(), t.topicId(), t.partitionCount(),
                            configs.getOrDefault(t.name(), Map.of()));
                    putTopic(updated);
                    notifyTopic(updated);
                }
            } else if (path.startsWith(ZkPaths.CONFIG_USERS + "/") && parts.length == 4) {
                String user = org.apache.kafka.common.utils.internals.Sanitizer.desanitize(parts[3]);
                loadUserConfig(user);
                userListeners.forEach(l -> l.accept(user));
            } else if (path.startsWith(AclJson.LITERAL_ACLS + "/") || path.startsWith(AclJson.EXTENDED_ACLS + "/")) {
                ResourcePattern resource = AclJson.resourceOf(path);
                if (resource != null) {
                    loadAcls(resource);
                    java.util.function.Consumer<ResourcePattern> l = aclListener;
                    if (l != null) {
                        l.accept(resource);
                    }
                }
            } else if (path.startsWith(ZkPaths.CONFIG_BROKERS + "/") && parts.length == 4) {
                loadBrokerConfig(parts[3]);
                java.util.function.Consumer<String> l = brokerConfigListener;
                if (l != null) {
                    l.accept(parts[3]);
                }
            } else if (path.startsWith(ZkPaths.CONFIG_GROUPS + "/") && parts.length == 4) {
                loadGroupConfig(org.apache.kafka.common.utils.internals.Sanitizer.desanitize(parts[3]));
            } else if ((path.startsWith(ZkPaths.CONFIG_USERS + "/") && parts.length == 6 && parts[4].equals("clients"))
                    || (path.startsWith(ZkPaths.CONFIG_CLIENTS + "/") && parts.length == 4)) {
                String entityPath = path.substring("/config/".length());
                loadClientQuotaConfig(entityPath);
                clientQuotaListeners.forEach(l -> l.accept(entityPath));
            } else if (path.equals(ZkPaths.CONTROLLER)) {
                loadController();
                if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                    controller.elect();
                } else {
                    controller.onControllerChanged(controllerId);
                }
            } else if (path.startsWith(ZkPaths.DELETE_TOPICS + "/")
                    && event.getType() == Watcher.Event.EventType.NodeCreated) {
                controller.onDeleteRequested(parts[3]);
            } else if (path.startsWith(ZkPaths.ISR_CHANGES + "/")
                    && event.getType() == Watcher.Event.EventType.NodeCreated) {
                controller.onIsrChangeNotification(path);
            } else if (path.equals(ZkPaths.REASSIGN_PARTITIONS)
                    && event.getType() != Watcher.Event.EventType.NodeDeleted) {
                controller.onZkReassignmentRequested();
            } else if ((path.equals(ZkPaths.PREFERRED_ELECTION) || path.equals(ZkPaths.UNCLEAN_ELECTION))
                    && event.getType() != Watcher.Event.EventType.NodeDeleted) {
                controller.onElectionRequested(path, path.equals(ZkPaths.UNCLEAN_ELECTION));
            }
        } catch (KeeperException e) {
            log.warn("Could not follow the change of {}: {}", path, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("Failed handling the change of {}", path, e);
        }
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    void loadAll() throws KeeperException, InterruptedException {
        brokers.clear();
        for (String id : zk.getChildren(ZkPaths.BROKER_IDS, false)) {
            loadBroker(Integer.parseInt(id));
        }
        for (String topic : zk.getChildren(ZkPaths.BROKER_TOPICS, false)) {
            loadConfig(topic);
            loadTopic(topic, false);
        }
        userConfigs.clear();
        clientQuotaConfigs.clear();
        for (String user : zk.getChildren(ZkPaths.CONFIG_USERS, false)) {
            loadUserConfig(org.apache.kafka.common.utils.internals.Sanitizer.desanitize(user));
            try {
                for (String client : zk.getChildren(ZkPaths.CONFIG_USERS + "/" + user + "/clients", false)) {
                    loadClientQuotaConfig("users/" + user + "/clients/" + client);
                }
            } catch (KeeperException.NoNodeException e) {
                // no client quotas below this user
            }
        }
        for (String client : zk.getChildren(ZkPaths.CONFIG_CLIENTS, false)) {
            loadClientQuotaConfig("clients/" + client);
        }
        acls.clear();
        for (String base : List.of(AclJson.LITERAL_ACLS, AclJson.PREFIXED_ACLS)) {
            for (String type : zk.getChildren(base, false)) {
                for (String name : zk.getChildren(base + "/" + type, false)) {
                    ResourcePattern resource = AclJson.resourceOf(base + "/" + type + "/" + name);
                    if (resource != null) {
                        loadAcls(resource);
                    }
                }
            }
        }
        brokerConfigs.clear();
        for (String entity : zk.getChildren(ZkPaths.CONFIG_BROKERS, false)) {
            loadBrokerConfig(entity);
        }
        groupConfigs.clear();
        for (String group : zk.getChildren(ZkPaths.CONFIG_GROUPS, false)) {
            loadGroupConfig(org.apache.kafka.common.utils.internals.Sanitizer.desanitize(group));
        }
        loadController();
    }

    private void loadAcls(ResourcePattern resource) throws KeeperException, InterruptedException {
        try {
            Set<AccessControlEntry> entries = AclJson.decode(new String(zk.getData(AclJson.path(resource), false, null),
                    java.nio.charset.StandardCharsets.UTF_8));
            if (entries.isEmpty()) {
                acls.remove(resource);
            } else {
                acls.put(resource, Set.copyOf(entries));
            }
        } catch (KeeperException.NoNodeException e) {
            acls.remove(resource);
        }
    }

    /** Kafka's brokers drop ACL change notifications after 15 minutes; Gregor's writers do it for them. */
    private static final long ACL_CHANGE_EXPIRATION_MS = 15 * 60 * 1000L;

    private void purgeAclChanges(String changes) throws KeeperException, InterruptedException {
        long now = time.milliseconds();
        for (String child : zk.getChildren(changes, false)) {
            org.apache.zookeeper.data.Stat stat = zk.exists(changes + "/" + child, false);
            if (stat != null && now - stat.getCtime() > ACL_CHANGE_EXPIRATION_MS) {
                try {
                    zk.delete(changes + "/" + child, -1);
                } catch (KeeperException.NoNodeException raced) {
                    // another broker purged it
                }
            }
        }
    }

    @Override
    public Map<ResourcePattern, Set<AccessControlEntry>> acls() {
        return Map.copyOf(acls);
    }

    @Override
    public void listenAcls(java.util.function.Consumer<ResourcePattern> changed) {
        aclListener = changed;
    }

    /**
     * Writes the resource pattern's znode in Kafka's JSON (a conditional update on its version, retried when another
     * broker wrote in between; deleted when no ACL is left) and Kafka's change notification; every broker's watch
     * (this one's too) then reloads the pattern.
     */
    @Override
    public void updateAcls(ResourcePattern resource, java.util.function.UnaryOperator<Set<AccessControlEntry>> change) {
        String path = AclJson.path(resource);
        Set<AccessControlEntry> next;
        try {
            while (true) {
                org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
                Set<AccessControlEntry> current;
                boolean exists;
                try {
                    current = AclJson.decode(new String(zk.getData(path, false, stat), java.nio.charset.StandardCharsets.UTF_8));
                    exists = true;
                } catch (KeeperException.NoNodeException e) {
                    current = Set.of();
                    exists = false;
                }
                next = Set.copyOf(change.apply(current));
                if (next.equals(current)) {
                    return;
                }
                try {
                    byte[] data = AclJson.encode(next).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    if (next.isEmpty()) {
                        zk.delete(path, stat.getVersion());
                    } else if (exists) {
                        zk.setData(path, data, stat.getVersion());
                    } else {
                        createRecursive(zk, path.substring(0, path.lastIndexOf('/')));
                        zk.create(path, data, ACL, CreateMode.PERSISTENT);
                    }
                    break;
                } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException
                         | KeeperException.NoNodeException raced) {
                    // another broker changed the pattern's ACLs meanwhile: apply the change to what it wrote
                }
            }
            String changes = resource.patternType() == org.apache.kafka.common.resource.PatternType.LITERAL
                    ? AclJson.LITERAL_CHANGES : AclJson.EXTENDED_CHANGES;
            zk.create(changes + "/" + AclJson.CHANGE_PREFIX,
                    AclJson.changeNotification(resource).getBytes(java.nio.charset.StandardCharsets.UTF_8), ACL,
                    CreateMode.PERSISTENT_SEQUENTIAL);
            purgeAclChanges(changes);
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot write the ACLs of " + resource + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Set<AccessControlEntry> expected = next;
        awaitVisible(() -> expected.equals(acls.getOrDefault(resource, Set.of())), VISIBLE_TIMEOUT_MS);
    }

    private void replay() {
        MetadataListener l = listener;
        if (l == null) {
            return;
        }
        for (TopicMetadata t : topics.values()) {
            l.topicChanged(t);
            for (int p = 0; p < t.partitionCount(); p++) {
                PartitionState s = states.get(new TopicPartition(t.name(), p));
                if (s != null) {
                    l.partitionChanged(t.name(), p, s);
                }
            }
        }
        l.brokersChanged();
    }

    private void loadBroker(int id) throws KeeperException, InterruptedException {
        byte[] data;
        try {
            data = zk.getData(ZkPaths.broker(id), false, null);
        } catch (KeeperException.NoNodeException e) {
            if (brokers.remove(id) != null) {
                log.info("Broker {} is gone", id);
            }
            return;
        }
        Map<String, Object> json = Json.object(data);
        String host = (String) json.get("host");
        int port = Json.intField(json, "port", -1);
        Object eps = json.get("endpoints");
        Map<String, java.net.InetSocketAddress> endpoints = new LinkedHashMap<>();
        if (eps instanceof List<?> l && !l.isEmpty()) {
            for (Object o : l) {
                String ep = o.toString();
                String hostPort = ep.substring(ep.indexOf("://") + 3);
                int colon = hostPort.lastIndexOf(':');
                endpoints.put(ep.substring(0, ep.indexOf("://")), java.net.InetSocketAddress.createUnresolved(
                        hostPort.substring(0, colon).replace("[", "").replace("]", ""),
                        Integer.parseInt(hostPort.substring(colon + 1))));
            }
            java.net.InetSocketAddress first = endpoints.values().iterator().next();
            host = first.getHostString();
            port = first.getPort();
        }
        BrokerInfo info = new BrokerInfo(id, host, port, (String) json.get("rack"), Map.copyOf(endpoints));
        if (!info.equals(brokers.put(id, info))) {
            log.info("Broker {} registered at {}:{}", id, host, port);
        }
    }

    private void loadTopic(String name, boolean notify) throws KeeperException, InterruptedException {
        byte[] data;
        try {
            data = zk.getData(ZkPaths.topic(name), false, null);
        } catch (KeeperException.NoNodeException e) {
            TopicMetadata removed = topics.remove(name);
            assignments.remove(name);
            configs.remove(name);
            states.keySet().removeIf(tp -> tp.topic().equals(name));
            reassigning.keySet().removeIf(tp -> tp.topic().equals(name));
            if (removed != null) {
                topicsById.remove(removed.topicId());
                log.info("Topic {} is gone", name);
                if (notify && listener != null) {
                    listener.topicDeleted(removed);
                }
            }
            return;
        }
        Map<String, Object> json = Json.object(data);
        Map<Integer, List<Integer>> assignment = new TreeMap<>();
        Object parts = json.get("partitions");
        if (parts instanceof Map<?, ?> m) {
            m.forEach((k, v) -> assignment.put(Integer.parseInt(k.toString()), Json.intList(v)));
        }
        Object id = json.get("topic_id");
        Uuid topicId = id == null ? Uuid.ZERO_UUID : Uuid.fromString(id.toString());
        Map<Integer, List<Integer>> adding = intListMap(json.get("adding_replicas"));
        Map<Integer, List<Integer>> removing = intListMap(json.get("removing_replicas"));
        assignments.put(name, assignment);
        for (Map.Entry<Integer, List<Integer>> e : assignment.entrySet()) {
            io.gregor.broker.metadata.ReplicaAssignment full = new io.gregor.broker.metadata.ReplicaAssignment(
                    e.getValue(), adding.getOrDefault(e.getKey(), List.of()), removing.getOrDefault(e.getKey(), List.of()));
            TopicPartition tp = new TopicPartition(name, e.getKey());
            if (full.isBeingReassigned()) {
                reassigning.put(tp, full);
            } else {
                reassigning.remove(tp);
            }
        }
        TopicMetadata t = new TopicMetadata(name, topicId, assignment.size(), configs.getOrDefault(name, Map.of()));
        putTopic(t);
        for (int p : assignment.keySet()) {
            loadState(name, p, false);
        }
        if (notify) {
            notifyTopic(t);
            for (int p : assignment.keySet()) {
                PartitionState s = states.get(new TopicPartition(name, p));
                if (s != null && listener != null) {
                    listener.partitionChanged(name, p, s);
                }
            }
        }
    }

    /** A znode's {"0":[1,2],...} map of partition to broker ids (empty when absent). */
    static Map<Integer, List<Integer>> intListMap(Object value) {
        Map<Integer, List<Integer>> out = new TreeMap<>();
        if (value instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(Integer.parseInt(k.toString()), Json.intList(v)));
        }
        return out;
    }

    private void putTopic(TopicMetadata t) {
        TopicMetadata old = topics.put(t.name(), t);
        if (old != null && !old.topicId().equals(t.topicId())) {
            topicsById.remove(old.topicId());
        }
        topicsById.put(t.topicId(), t);
    }

    private void notifyTopic(TopicMetadata t) {
        MetadataListener l = listener;
        if (l != null) {
            l.topicChanged(t);
        }
    }

    private void loadUserConfig(String user) throws KeeperException, InterruptedException {
        loadEntityConfig(ZkPaths.userConfig(user), userConfigs, user);
    }

    @Override
    public Map<String, Map<String, String>> userConfigs() {
        return Map.copyOf(userConfigs);
    }

    @Override
    public void listenUsers(java.util.function.Consumer<String> changed) {
        userListeners.add(changed);
    }

    private void loadClientQuotaConfig(String entityPath) throws KeeperException, InterruptedException {
        loadEntityConfig("/config/" + entityPath, clientQuotaConfigs, entityPath);
    }

    @Override
    public Map<String, Map<String, String>> clientQuotaConfigs() {
        Map<String, Map<String, String>> out = new TreeMap<>();
        clientQuotaConfigs.forEach((path, c) -> {
            if (!c.isEmpty()) {
                out.put(path, c);
            }
        });
        return out;
    }

    @Override
    public void listenClientQuotas(java.util.function.Consumer<String> changed) {
        clientQuotaListeners.add(changed);
    }

    /**
     * Writes {@code /config/<entity path>} in Kafka's JSON (with the parents Kafka's admin created, a user's with
     * empty configs) and a config change notification naming the entity path, as Kafka's ZooKeeper-mode admin did.
     */
    @Override
    public void setClientQuotaConfigs(String entityPath, Map<String, String> newConfigs) {
        String[] parts = entityPath.split("/");
        writeEntityConfigs(entityPath, newConfigs, "the configs of " + entityPath, () -> {
            if (parts.length == 4) {
                // users/<user>/clients/<id>: the user's znode and its clients folder first, as Kafka wrote them
                createIfAbsent("/config/users/" + parts[1], entityConfigJson(Map.of()));
                createIfAbsent("/config/users/" + parts[1] + "/clients", new byte[0]);
            }
        });
        Map<String, String> copy = new TreeMap<>(newConfigs);
        awaitVisible(() -> copy.equals(clientQuotaConfigs.getOrDefault(entityPath, Map.of())), VISIBLE_TIMEOUT_MS);
    }

    /** Reads an entity's {@code config} object of Kafka's JSON into {@code into}, or removes the entity when the znode is gone. */
    private <K> void loadEntityConfig(String path, Map<K, Map<String, String>> into, K key)
            throws KeeperException, InterruptedException {
        try {
            Map<String, Object> json = Json.object(zk.getData(path, false, null));
            Map<String, String> c = new TreeMap<>();
            if (json.get("config") instanceof Map<?, ?> m) {
                m.forEach((k, v) -> c.put(k.toString(), String.valueOf(v)));
            }
            into.put(key, c);
        } catch (KeeperException.NoNodeException e) {
            into.remove(key);
        }
    }

    /** Kafka's entity config JSON: {"version":1,"config":{...}}. */
    private static byte[] entityConfigJson(Map<String, String> configs) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("config", new TreeMap<>(configs));
        return Json.bytes(json);
    }

    private interface ZkAction {
        void run() throws KeeperException, InterruptedException;
    }

    /**
     * Writes {@code /config/<entityPath>} in Kafka's JSON and a config change notification naming it, as Kafka's
     * ZooKeeper-mode admin did; every broker's watch (this one's too) then reloads the entity.
     */
    private void writeEntityConfigs(String entityPath, Map<String, String> configs, String what, ZkAction before) {
        byte[] data = entityConfigJson(configs);
        String path = "/config/" + entityPath;
        try {
            before.run();
            try {
                zk.create(path, data, ACL, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException e) {
                zk.setData(path, data, -1);
            }
            Map<String, Object> change = new LinkedHashMap<>();
            change.put("version", 2);
            change.put("entity_path", entityPath);
            zk.create(ZkPaths.CONFIG_CHANGES + "/config_change_", Json.bytes(change), ACL,
                    CreateMode.PERSISTENT_SEQUENTIAL);
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot write " + what + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void createIfAbsent(String path, byte[] data) throws KeeperException, InterruptedException {
        try {
            zk.create(path, data, ACL, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            // already there
        }
    }

    /**
     * Writes {@code /config/users/<user>} in Kafka's JSON and a config change notification, as Kafka's
     * ZooKeeper-mode admin did; every broker's watch (this one's too) then reloads the user.
     */
    @Override
    public void setUserConfigs(String user, Map<String, String> newConfigs) {
        writeEntityConfigs(ZkPaths.userConfig(user).substring("/config/".length()), newConfigs,
                "the configs of user " + user, () -> { });
        Map<String, String> copy = new TreeMap<>(newConfigs);
        awaitVisible(() -> copy.equals(userConfigs.getOrDefault(user, Map.of())), VISIBLE_TIMEOUT_MS);
    }

    private void loadBrokerConfig(String entity) throws KeeperException, InterruptedException {
        loadEntityConfig(ZkPaths.brokerConfig(entity), brokerConfigs, entity);
    }

    @Override
    public Map<String, String> brokerConfigs(String entity) {
        return brokerConfigs.getOrDefault(entity, Map.of());
    }

    @Override
    public void listenBrokerConfigs(java.util.function.Consumer<String> changed) {
        brokerConfigListener = changed;
    }

    /**
     * Writes {@code /config/brokers/<entity>} in Kafka's JSON and a config change notification (entity path
     * {@code brokers/<entity>}), as Kafka's ZooKeeper-mode admin did; every broker's watch (this one's too)
     * then reloads the entity and applies it.
     */
    @Override
    public void setBrokerConfigs(String entity, Map<String, String> newConfigs) {
        writeEntityConfigs("brokers/" + entity, newConfigs, "the dynamic configs of broker entity " + entity, () -> { });
        Map<String, String> copy = new TreeMap<>(newConfigs);
        awaitVisible(() -> copy.equals(brokerConfigs.getOrDefault(entity, Map.of())), VISIBLE_TIMEOUT_MS);
    }

    private void loadGroupConfig(String group) throws KeeperException, InterruptedException {
        loadEntityConfig(ZkPaths.groupConfig(group), groupConfigs, group);
    }

    @Override
    public Map<String, String> groupConfigs(String group) {
        return groupConfigs.getOrDefault(group, Map.of());
    }

    @Override
    public java.util.Collection<String> groupsWithConfigs() {
        return groupConfigs.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey).toList();
    }

    /**
     * Writes {@code /config/groups/<group>} in Kafka's entity JSON and a config change notification (entity path
     * {@code groups/<group>}); every broker's watch (this one's too) then reloads the group's configs.
     */
    @Override
    public void setGroupConfigs(String group, Map<String, String> newConfigs) {
        writeEntityConfigs(ZkPaths.groupConfig(group).substring("/config/".length()), newConfigs,
                "the configs of group " + group, () -> { });
        Map<String, String> copy = new TreeMap<>(newConfigs);
        awaitVisible(() -> copy.equals(groupConfigs.getOrDefault(group, Map.of())), VISIBLE_TIMEOUT_MS);
    }

    private void loadConfig(String name) throws KeeperException, InterruptedException {
        loadEntityConfig(ZkPaths.topicConfig(name), configs, name);
    }

    private void loadState(String topic, int partition, boolean notify) throws KeeperException, InterruptedException {
        TopicPartition tp = new TopicPartition(topic, partition);
        Stat stat = new Stat();
        byte[] data;
        try {
            data = zk.getData(ZkPaths.state(topic, partition), false, stat);
        } catch (KeeperException.NoNodeException e) {
            states.remove(tp);
            return;
        }
        PartitionState s = parseState(data, stat.getVersion());
        PartitionState old = states.put(tp, s);
        if (notify && !s.equals(old) && listener != null && topics.containsKey(topic)) {
            listener.partitionChanged(topic, partition, s);
        }
    }

    static PartitionState parseState(byte[] data, int version) {
        Map<String, Object> json = Json.object(data);
        return new PartitionState(Json.intField(json, "leader", -1), Json.intField(json, "leader_epoch", 0),
                Json.intList(json.get("isr")), Json.intField(json, "controller_epoch", 0), version);
    }

    static byte[] stateJson(int leader, int leaderEpoch, List<Integer> isr, int controllerEpoch) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("controller_epoch", controllerEpoch);
        json.put("leader", leader);
        json.put("version", 1);
        json.put("leader_epoch", leaderEpoch);
        json.put("isr", isr);
        return Json.bytes(json);
    }

    private void loadController() throws KeeperException, InterruptedException {
        try {
            controllerId = Json.intField(Json.object(zk.getData(ZkPaths.CONTROLLER, false, null)), "brokerid", -1);
        } catch (KeeperException.NoNodeException e) {
            controllerId = -1;
        }
    }

    // ------------------------------------------------------------------ MetadataStore

    @Override
    public boolean clustered() {
        return true;
    }

    @Override
    public Collection<TopicMetadata> topics() {
        return List.copyOf(topics.values());
    }

    @Override
    public Optional<TopicMetadata> topic(String name) {
        return Optional.ofNullable(topics.get(name));
    }

    @Override
    public Optional<TopicMetadata> topic(Uuid topicId) {
        return Optional.ofNullable(topicsById.get(topicId));
    }

    @Override
    public Collection<BrokerInfo> liveBrokers() {
        List<BrokerInfo> out = new ArrayList<>(brokers.values());
        out.sort(Comparator.comparingInt(BrokerInfo::id));
        return out;
    }

    /** A live broker by id, or null. */
    public BrokerInfo broker(int id) {
        return brokers.get(id);
    }

    @Override
    public int controllerId() {
        return controllerId;
    }

    @Override
    public List<Integer> replicas(String topic, int partition) {
        Map<Integer, List<Integer>> a = assignments.get(topic);
        List<Integer> r = a == null ? null : a.get(partition);
        return r == null ? List.of() : r;
    }

    @Override
    public io.gregor.broker.metadata.ReplicaAssignment fullAssignment(String topic, int partition) {
        TopicPartition tp = new TopicPartition(topic, partition);
        io.gregor.broker.metadata.ReplicaAssignment r = reassigning.get(tp);
        if (r != null) {
            return r;
        }
        List<Integer> replicas = replicas(topic, partition);
        return replicas.isEmpty() ? null : io.gregor.broker.metadata.ReplicaAssignment.of(replicas);
    }

    @Override
    public Map<TopicPartition, io.gregor.broker.metadata.ReplicaAssignment> reassignments(Collection<TopicPartition> partitions) {
        Map<TopicPartition, io.gregor.broker.metadata.ReplicaAssignment> out = new TreeMap<>(
                Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        if (partitions == null) {
            out.putAll(reassigning);
        } else {
            for (TopicPartition tp : partitions) {
                io.gregor.broker.metadata.ReplicaAssignment r = reassigning.get(tp);
                if (r != null) {
                    out.put(tp, r);
                }
            }
        }
        return out;
    }

    /** Runs on the event thread, where the controller lives; answers once this broker's cache shows the writes. */
    @Override
    public Map<TopicPartition, org.apache.kafka.common.requests.ApiError> alterReassignments(
            Map<TopicPartition, Optional<List<Integer>>> targets, boolean allowReplicationFactorChange) {
        try {
            return events.submit(() -> controller.alterReassignments(targets, allowReplicationFactorChange)).get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.ApiException api) {
                throw api;
            }
            throw new IllegalStateException("Reassignment failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Re-reads a topic on the event thread right after the controller wrote it (its watch event follows later). */
    void reloadTopic(String name) throws KeeperException, InterruptedException {
        loadTopic(name, true);
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    @Override
    public Optional<PartitionState> partitionState(String topic, int partition) {
        return Optional.ofNullable(states.get(new TopicPartition(topic, partition)));
    }

    @Override
    public void listen(MetadataListener l) {
        events.execute(() -> {
            listener = l;
            replay();
        });
    }

    @Override
    public TopicMetadata createTopic(String name, int partitions, Map<String, String> configs) {
        return createTopic(name, partitions, (short) 1, configs);
    }

    @Override
    public TopicMetadata createTopic(String name, int partitions, short replicationFactor, Map<String, String> configs) {
        List<Integer> live = liveBrokers().stream().map(BrokerInfo::id).toList();
        if (replicationFactor > live.size()) {
            throw new InvalidReplicationFactorException("Replication factor: " + replicationFactor
                    + " larger than available brokers: " + live.size() + ".");
        }
        return createTopic(name, assignReplicas(liveBrokers(), 0, partitions, replicationFactor, -1), configs);
    }

    @Override
    public TopicMetadata createTopic(String name, Map<Integer, List<Integer>> assignment, Map<String, String> configs) {
        int partitions = assignment.size();
        Uuid id = Uuid.randomUuid();
        try {
            if (zk.exists(ZkPaths.topic(name), false) != null) {
                throw new TopicExistsException("Topic '" + name + "' already exists.");
            }
            if (zk.exists(ZkPaths.deleteTopic(name), false) != null) {
                throw new TopicExistsException("Topic '" + name + "' is marked for deletion.");
            }
            writeConfig(name, configs);
            zk.create(ZkPaths.topic(name), topicJson(assignment, id), ACL, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            throw new TopicExistsException("Topic '" + name + "' already exists.");
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot create topic " + name + " in ZooKeeper: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        awaitVisible(() -> allStatesKnown(name, partitions), VISIBLE_TIMEOUT_MS);
        TopicMetadata t = topics.get(name);
        return t != null ? t : new TopicMetadata(name, id, partitions, configs);
    }

    private boolean allStatesKnown(String name, int partitions) {
        TopicMetadata t = topics.get(name);
        if (t == null || t.partitionCount() < partitions) {
            return false;
        }
        for (int p = 0; p < partitions; p++) {
            if (!states.containsKey(new TopicPartition(name, p))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Optional<TopicMetadata> deleteTopic(String name) {
        TopicMetadata t = topics.get(name);
        if (t == null) {
            return Optional.empty();
        }
        try {
            zk.create(ZkPaths.deleteTopic(name), new byte[0], ACL, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException ignored) {
            // already marked
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot mark topic " + name + " for deletion: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        awaitVisible(() -> !topics.containsKey(name), VISIBLE_TIMEOUT_MS);
        return Optional.of(t);
    }

    @Override
    public TopicMetadata setPartitionCount(String name, int partitions) {
        try {
            Stat stat = new Stat();
            Map<String, Object> json;
            try {
                json = Json.object(zk.getData(ZkPaths.topic(name), false, stat));
            } catch (KeeperException.NoNodeException e) {
                throw new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist.");
            }
            Map<Integer, List<Integer>> assignment = new TreeMap<>();
            if (json.get("partitions") instanceof Map<?, ?> m) {
                m.forEach((k, v) -> assignment.put(Integer.parseInt(k.toString()), Json.intList(v)));
            }
            int rf = assignment.isEmpty() ? 1 : assignment.get(0).size();
            List<Integer> live = liveBrokers().stream().map(BrokerInfo::id).toList();
            if (rf > live.size()) {
                throw new InvalidReplicationFactorException("Replication factor: " + rf
                        + " larger than available brokers: " + live.size() + ".");
            }
            int firstLeader = assignment.isEmpty() ? -1 : live.indexOf(assignment.get(0).get(0));
            assignment.putAll(assignReplicas(liveBrokers(), assignment.size(), partitions - assignment.size(), rf,
                    firstLeader));
            Uuid id = json.get("topic_id") == null ? Uuid.randomUuid() : Uuid.fromString(json.get("topic_id").toString());
            zk.setData(ZkPaths.topic(name), topicJson(assignment, intListMap(json.get("adding_replicas")),
                    intListMap(json.get("removing_replicas")), id), stat.getVersion());
        } catch (KeeperException.BadVersionException e) {
            throw new org.apache.kafka.common.errors.ConcurrentTransactionsException(
                    "Topic " + name + " changed meanwhile; retry");
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot add partitions to " + name + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        awaitVisible(() -> allStatesKnown(name, partitions), VISIBLE_TIMEOUT_MS);
        return topics.get(name);
    }

    @Override
    public TopicMetadata setConfigs(String name, Map<String, String> newConfigs) {
        TopicMetadata t = topics.get(name);
        if (t == null) {
            throw new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist.");
        }
        try {
            writeConfig(name, newConfigs);
            Map<String, Object> change = new LinkedHashMap<>();
            change.put("version", 2);
            change.put("entity_path", "topics/" + name);
            zk.create(ZkPaths.CONFIG_CHANGES + "/config_change_", Json.bytes(change), ACL,
                    CreateMode.PERSISTENT_SEQUENTIAL);
        } catch (KeeperException e) {
            throw new IllegalStateException("Cannot write the configs of " + name + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Map<String, String> copy = new TreeMap<>(newConfigs);
        awaitVisible(() -> topics.containsKey(name) && topics.get(name).configs().equals(copy), VISIBLE_TIMEOUT_MS);
        return new TopicMetadata(name, t.topicId(), t.partitionCount(), newConfigs);
    }

    private void writeConfig(String name, Map<String, String> c) throws KeeperException, InterruptedException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("config", new TreeMap<>(c));
        byte[] data = Json.bytes(json);
        try {
            zk.create(ZkPaths.topicConfig(name), data, ACL, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            zk.setData(ZkPaths.topicConfig(name), data, -1);
        }
    }

    private static byte[] topicJson(Map<Integer, List<Integer>> assignment, Uuid id) {
        return topicJson(assignment, Map.of(), Map.of(), id);
    }

    /** Kafka's topic znode (version 3): the replica sets, the replicas being added and removed, the topic id. */
    static byte[] topicJson(Map<Integer, List<Integer>> assignment, Map<Integer, List<Integer>> adding,
                            Map<Integer, List<Integer>> removing, Uuid id) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("partitions", byPartition(assignment));
        json.put("topic_id", id.toString());
        json.put("adding_replicas", byPartition(adding));
        json.put("removing_replicas", byPartition(removing));
        json.put("version", 3);
        return Json.bytes(json);
    }

    private static Map<String, Object> byPartition(Map<Integer, List<Integer>> lists) {
        Map<String, Object> out = new LinkedHashMap<>();
        new TreeMap<>(lists).forEach((p, r) -> {
            if (!r.isEmpty()) {
                out.put(Integer.toString(p), r);
            }
        });
        return out;
    }

    /**
     * Kafka's replica assignment over the live brokers: rack-aware when they have racks ({@code broker.rack}),
     * which then all must have.
     */
    static Map<Integer, List<Integer>> assignReplicas(Collection<BrokerInfo> brokers, int firstPartition, int count,
                                                      int rf, int fixedStart) {
        List<Integer> ids = brokers.stream().map(BrokerInfo::id).sorted().toList();
        if (brokers.stream().allMatch(b -> b.rack() == null)) {
            return assignReplicas(ids, firstPartition, count, rf, fixedStart);
        }
        Map<Integer, String> rackOf = new TreeMap<>();
        for (BrokerInfo b : brokers) {
            if (b.rack() == null) {
                throw new org.apache.kafka.common.errors.InvalidReplicationFactorException(
                        "Not all brokers have rack information for replica rack aware assignment.");
            }
            rackOf.put(b.id(), b.rack());
        }
        return assignReplicasRackAware(rackOf, firstPartition, count, rf, fixedStart);
    }

    /**
     * Kafka's rack-aware assignment: brokers are listed alternating between racks (each rack's brokers in id
     * order, racks in name order); partition p's first replica is that list's (p + start) mod n, and each further
     * replica is the next one at the growing shift that lies in a rack without a replica yet (while such racks
     * remain) and is not yet a replica (while such brokers remain).
     */
    static Map<Integer, List<Integer>> assignReplicasRackAware(Map<Integer, String> rackOf, int firstPartition,
                                                               int count, int rf, int fixedStart) {
        Map<String, java.util.Iterator<Integer>> byRack = new TreeMap<>();
        Map<String, List<Integer>> lists = new TreeMap<>();
        rackOf.forEach((id, rack) -> lists.computeIfAbsent(rack, r -> new ArrayList<>()).add(id));
        lists.forEach((rack, ids) -> byRack.put(rack, ids.stream().sorted().iterator()));
        List<String> racks = new ArrayList<>(byRack.keySet());
        List<Integer> arranged = new ArrayList<>();
        for (int r = 0; arranged.size() < rackOf.size(); r = (r + 1) % racks.size()) {
            java.util.Iterator<Integer> it = byRack.get(racks.get(r));
            if (it.hasNext()) {
                arranged.add(it.next());
            }
        }
        int n = arranged.size();
        int numRacks = racks.size();
        Map<Integer, List<Integer>> out = new TreeMap<>();
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int start = fixedStart >= 0 ? fixedStart : rnd.nextInt(n);
        int shift = fixedStart >= 0 ? fixedStart : rnd.nextInt(n);
        int p = Math.max(0, firstPartition);
        for (int i = 0; i < count; i++, p++) {
            if (p > 0 && p % n == 0) {
                shift++;
            }
            int first = (p + start) % n;
            int leader = arranged.get(first);
            List<Integer> replicas = new ArrayList<>(List.of(leader));
            java.util.Set<String> racksWithReplicas = new java.util.HashSet<>(List.of(rackOf.get(leader)));
            java.util.Set<Integer> brokersWithReplicas = new java.util.HashSet<>(List.of(leader));
            int k = 0;
            for (int j = 0; j < rf - 1; j++) {
                while (true) {
                    int broker = arranged.get((first + 1 + (shift * numRacks + k) % (n - 1)) % n);
                    String rack = rackOf.get(broker);
                    k++;
                    if ((!racksWithReplicas.contains(rack) || racksWithReplicas.size() == numRacks)
                            && (!brokersWithReplicas.contains(broker) || brokersWithReplicas.size() == n)) {
                        replicas.add(broker);
                        racksWithReplicas.add(rack);
                        brokersWithReplicas.add(broker);
                        break;
                    }
                }
            }
            out.put(p, replicas);
        }
        return out;
    }

    /**
     * Kafka's rack-unaware assignment: partition p's first replica is broker (p + start) mod n, the
     * others follow at a shift that grows every n partitions, so leaders and followers spread evenly.
     */
    static Map<Integer, List<Integer>> assignReplicas(List<Integer> brokers, int firstPartition, int count, int rf,
                                                      int fixedStart) {
        List<Integer> ids = new ArrayList<>(brokers);
        ids.sort(Integer::compare);
        int n = ids.size();
        Map<Integer, List<Integer>> out = new TreeMap<>();
        if (n == 0) {
            return out;
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int start = fixedStart >= 0 ? fixedStart : rnd.nextInt(n);
        int shift = fixedStart >= 0 ? start : rnd.nextInt(n);
        int p = firstPartition;
        for (int i = 0; i < count; i++, p++) {
            if (p > 0 && p % n == 0) {
                shift++;
            }
            int first = (p + start) % n;
            List<Integer> replicas = new ArrayList<>();
            replicas.add(ids.get(first));
            for (int j = 0; j < rf - 1; j++) {
                replicas.add(ids.get((first + 1 + (shift + j) % (n - 1)) % n));
            }
            out.put(p, replicas);
        }
        return out;
    }

    @Override
    public long allocateProducerIds(int size) {
        while (true) {
            try {
                Stat stat = new Stat();
                byte[] data = zk.getData(ZkPaths.PRODUCER_ID_BLOCK, false, stat);
                long start = 0;
                if (data != null && data.length > 0) {
                    start = Long.parseLong(Json.object(data).get("block_end").toString()) + 1;
                }
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("version", 1);
                json.put("broker", brokerId);
                json.put("block_start", Long.toString(start));
                json.put("block_end", Long.toString(start + size - 1));
                zk.setData(ZkPaths.PRODUCER_ID_BLOCK, Json.bytes(json), stat.getVersion());
                return start;
            } catch (KeeperException.BadVersionException raced) {
                // another broker took a block meanwhile: read again
            } catch (KeeperException e) {
                throw new IllegalStateException("Cannot allocate producer ids: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** auto.leader.rebalance.enable: the controller (whichever broker it is) checks every {@code intervalMs}. */
    public void enableAutoLeaderRebalance(long intervalMs, int imbalancePercentage) {
        events.execute(() -> controller.enableAutoRebalance(intervalMs, imbalancePercentage));
    }

    @Override
    public Map<TopicPartition, org.apache.kafka.common.protocol.Errors> electLeaders(
            boolean unclean, Collection<TopicPartition> partitions, long timeoutMs) {
        Map<TopicPartition, org.apache.kafka.common.protocol.Errors> out = new LinkedHashMap<>();
        List<TopicPartition> needed = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            PartitionState s = states.get(tp);
            List<Integer> replicas = replicas(tp.topic(), tp.partition());
            org.apache.kafka.common.protocol.Errors error;
            if (s == null || replicas.isEmpty()) {
                error = org.apache.kafka.common.protocol.Errors.UNKNOWN_TOPIC_OR_PARTITION;
            } else if (unclean) {
                boolean led = s.leader() != PartitionState.NO_LEADER && brokers.containsKey(s.leader());
                error = led ? org.apache.kafka.common.protocol.Errors.ELECTION_NOT_NEEDED
                        : replicas.stream().anyMatch(brokers::containsKey) ? null
                        : org.apache.kafka.common.protocol.Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE;
            } else {
                int preferred = replicas.get(0);
                error = s.leader() == preferred ? org.apache.kafka.common.protocol.Errors.ELECTION_NOT_NEEDED
                        : brokers.containsKey(preferred) && s.isr().contains(preferred) ? null
                        : org.apache.kafka.common.protocol.Errors.PREFERRED_LEADER_NOT_AVAILABLE;
            }
            out.put(tp, error);
            if (error == null) {
                needed.add(tp);
            }
        }
        if (needed.isEmpty()) {
            return out;
        }
        String path = unclean ? ZkPaths.UNCLEAN_ELECTION : ZkPaths.PREFERRED_ELECTION;
        List<Object> entries = new ArrayList<>();
        for (TopicPartition tp : needed) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("topic", tp.topic());
            e.put("partition", tp.partition());
            entries.add(e);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("partitions", entries);
        long deadline = time.milliseconds() + timeoutMs;
        boolean written = false;
        while (!written && time.milliseconds() < deadline) {
            try {
                zk.create(path, Json.bytes(json), ACL, CreateMode.PERSISTENT);
                written = true;
            } catch (KeeperException.NodeExistsException busy) {
                // another election is being handled: the controller deletes its request when done
                awaitVisible(() -> {
                    try {
                        return zk.exists(path, false) == null;
                    } catch (KeeperException e) {
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return true;
                    }
                }, Math.max(1, deadline - time.milliseconds()));
            } catch (KeeperException e) {
                throw new IllegalStateException("Cannot request a leader election: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        awaitVisible(() -> needed.stream().allMatch(tp -> elected(tp, unclean)),
                Math.max(0, deadline - time.milliseconds()));
        for (TopicPartition tp : needed) {
            out.put(tp, elected(tp, unclean) ? org.apache.kafka.common.protocol.Errors.NONE
                    : org.apache.kafka.common.protocol.Errors.REQUEST_TIMED_OUT);
        }
        return out;
    }

    private boolean elected(TopicPartition tp, boolean unclean) {
        PartitionState s = states.get(tp);
        if (s == null) {
            return false;
        }
        List<Integer> replicas = replicas(tp.topic(), tp.partition());
        return unclean ? s.leader() != PartitionState.NO_LEADER : !replicas.isEmpty() && s.leader() == replicas.get(0);
    }

    // ------------------------------------------------------------------ IsrWriter

    @Override
    public PartitionState writeIsr(TopicPartition tp, PartitionState current, List<Integer> newIsr) {
        for (int replica : newIsr) {
            if (!current.isr().contains(replica) && !brokers.containsKey(replica)) {
                // KIP-841: a broker that is not registered (gone, or in controlled shutdown) cannot join an ISR,
                // or a shutting-down follower still fetching would be added back and acks=all would wait for it
                return null;
            }
        }
        try {
            Stat stat = zk.setData(ZkPaths.state(tp.topic(), tp.partition()),
                    stateJson(current.leader(), current.leaderEpoch(), newIsr, current.controllerEpoch()),
                    current.zkVersion());
            PartitionState written = new PartitionState(current.leader(), current.leaderEpoch(), newIsr,
                    current.controllerEpoch(), stat.getVersion());
            states.merge(tp, written, (old, w) -> old.zkVersion() > w.zkVersion() ? old : w);
            Map<String, Object> change = new LinkedHashMap<>();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("topic", tp.topic());
            entry.put("partition", tp.partition());
            change.put("version", 1);
            change.put("partitions", List.of(entry));
            zk.create(ZkPaths.ISR_CHANGES + "/isr_change_", Json.bytes(change), ACL, CreateMode.PERSISTENT_SEQUENTIAL);
            return written;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            return null;
        } catch (KeeperException e) {
            log.warn("Could not write the ISR of {}: {}", tp, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Waits until the cache shows a condition (cache changes notify); false on timeout. */
    boolean awaitVisible(BooleanSupplier condition, long timeoutMs) {
        long deadline = time.milliseconds() + timeoutMs;
        synchronized (changed) {
            while (!condition.getAsBoolean()) {
                long left = deadline - time.milliseconds();
                if (left <= 0) {
                    return false;
                }
                try {
                    changed.wait(Math.min(left, 100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private <T> T call(java.util.concurrent.Callable<T> task) {
        try {
            return events.submit(task).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("ZooKeeper metadata load failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Creates each of {@code paths} and its parents that do not exist yet, as {@link #createRecursive}, but
     * with the creates pipelined: ZooKeeper answers a session's requests in order, so a parent's create is
     * done before its child's, and the whole set costs one round trip and one log sync instead of one each
     * (a broker's start creates some forty nodes, most already there).
     */
    void createAllRecursive(ZooKeeper z, List<String> paths) {
        java.util.LinkedHashSet<String> nodes = new java.util.LinkedHashSet<>();
        for (String path : paths) {
            StringBuilder prefix = new StringBuilder();
            for (String part : path.split("/")) {
                if (!part.isEmpty()) {
                    nodes.add(prefix.append('/').append(part).toString());
                }
            }
        }
        Pipeline pipeline = new Pipeline(nodes.size(), KeeperException.Code.OK, KeeperException.Code.NODEEXISTS);
        for (String node : nodes) {
            z.create(node, new byte[0], ACL, CreateMode.PERSISTENT, (rc, p, ctx, name) -> pipeline.done(rc, p), null);
        }
        pipeline.await(connectionTimeoutMs, "create");
    }

    /** Waits for the answers of asynchronous ZooKeeper requests sent in a row; the first unexpected one fails. */
    private static final class Pipeline {
        private final CountDownLatch answered;
        private final Set<KeeperException.Code> accepted;
        private volatile KeeperException failure;

        Pipeline(int requests, KeeperException.Code... accepted) {
            this.answered = new CountDownLatch(requests);
            this.accepted = Set.of(accepted);
        }

        void done(int rc, String path) {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (!accepted.contains(code) && failure == null) {
                failure = KeeperException.create(code, path);
            }
            answered.countDown();
        }

        void await(long timeoutMs, String what) {
            try {
                if (!answered.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("ZooKeeper did not answer every " + what + " within " + timeoutMs
                            + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            KeeperException e = failure;
            if (e != null) {
                throw new IllegalStateException("Cannot " + what + " " + e.getPath() + " in ZooKeeper: " + e, e);
            }
        }
    }

    static void createRecursive(ZooKeeper z, String path) {
        StringBuilder prefix = new StringBuilder();
        for (String part : path.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            prefix.append('/').append(part);
            try {
                z.create(prefix.toString(), new byte[0], ACL, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException ignored) {
                // fine
            } catch (KeeperException e) {
                throw new IllegalStateException("Cannot create " + prefix + " in ZooKeeper: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static void closeQuietly(ZooKeeper z) {
        if (z == null) {
            return;
        }
        try {
            z.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        events.shutdownNow();
        try {
            events.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(zk);
    }
}
