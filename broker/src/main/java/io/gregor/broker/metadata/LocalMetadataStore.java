package io.gregor.broker.metadata;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.internals.Sanitizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Metadata of a broker without ZooKeeper: one small properties file per topic under
 * {@code <log dir>/gregor-metadata/topics}, the producer id high-water mark, the users' and the dynamic
 * broker configs ({@code broker-configs.properties}), each written to a
 * temp file, fsynced and renamed, so a crash leaves either the old or the new version.
 */
public final class LocalMetadataStore implements MetadataStore {
    private static final Logger log = LoggerFactory.getLogger(LocalMetadataStore.class);
    private static final String CONFIG_PREFIX = "config.";

    private final Path topicsDir;
    private final Path producerIdFile;
    private final Path usersFile;
    /** {@code <PATTERN>/<Type>/<name>=<Kafka's ACL JSON>}: few ACLs, rarely changed. */
    private final Path aclsFile;
    private final Map<org.apache.kafka.common.resource.ResourcePattern, java.util.Set<org.apache.kafka.common.acl.AccessControlEntry>>
            acls = new ConcurrentHashMap<>();
    private volatile java.util.function.Consumer<org.apache.kafka.common.resource.ResourcePattern> aclListener;
    /** Sanitized user name, as in Kafka's znode names, to that user's configs. */
    private final Map<String, Map<String, String>> users = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<String>> userListeners = new CopyOnWriteArrayList<>();
    private final Path clientQuotasFile;
    /** Entity path ({@code clients/<id>}, {@code users/<user>/clients/<id>}) to its quota configs. */
    private final Map<String, Map<String, String>> clientQuotas = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<String>> clientQuotaListeners = new CopyOnWriteArrayList<>();
    private final Path brokerConfigsFile;
    /** Entity (a broker id or {@code <default>}) to its dynamic broker configs. */
    private final Map<String, Map<String, String>> brokerConfigs = new ConcurrentHashMap<>();
    private volatile java.util.function.Consumer<String> brokerConfigListener;
    private final Path groupConfigsFile;
    /** Group id to its configs (the GROUP config resource). */
    private final Map<String, Map<String, String>> groupConfigs = new ConcurrentHashMap<>();
    private final Map<String, TopicMetadata> byName = new ConcurrentHashMap<>();
    private final Map<Uuid, TopicMetadata> byId = new ConcurrentHashMap<>();
    private long nextProducerId;

    public LocalMetadataStore(Path metadataDir) {
        this.topicsDir = metadataDir.resolve("topics");
        this.producerIdFile = metadataDir.resolve("next-producer-id");
        this.usersFile = metadataDir.resolve("users.properties");
        this.aclsFile = metadataDir.resolve("acls.properties");
        this.brokerConfigsFile = metadataDir.resolve("broker-configs.properties");
        this.clientQuotasFile = metadataDir.resolve("client-quotas.properties");
        this.groupConfigsFile = metadataDir.resolve("group-configs.properties");
        try {
            Files.createDirectories(topicsDir);
            try (DirectoryStream<Path> files = Files.newDirectoryStream(topicsDir, "*.properties")) {
                for (Path file : files) {
                    TopicMetadata topic = read(file);
                    byName.put(topic.name(), topic);
                    byId.put(topic.topicId(), topic);
                }
            }
            if (Files.exists(usersFile)) {
                Properties props = readProperties(usersFile);
                for (String key : props.stringPropertyNames()) {
                    int slash = key.indexOf('/');
                    users.computeIfAbsent(Sanitizer.desanitize(key.substring(0, slash)), u -> new TreeMap<>())
                            .put(key.substring(slash + 1), props.getProperty(key));
                }
            }
            if (Files.exists(aclsFile)) {
                Properties props = readProperties(aclsFile);
                for (String key : props.stringPropertyNames()) {
                    String[] parts = key.split("/", 3);
                    acls.put(new org.apache.kafka.common.resource.ResourcePattern(
                                    org.apache.kafka.common.utils.internals.SecurityUtils.resourceType(parts[1]), parts[2],
                                    org.apache.kafka.common.resource.PatternType.fromString(parts[0])),
                            io.gregor.broker.authz.AclJson.decode(props.getProperty(key)));
                }
            }
            if (Files.exists(brokerConfigsFile)) {
                Properties props = readProperties(brokerConfigsFile);
                for (String key : props.stringPropertyNames()) {
                    int slash = key.indexOf('/');
                    brokerConfigs.computeIfAbsent(key.substring(0, slash), e -> new TreeMap<>())
                            .put(key.substring(slash + 1), props.getProperty(key));
                }
            }
            if (Files.exists(clientQuotasFile)) {
                Properties props = readProperties(clientQuotasFile);
                for (String key : props.stringPropertyNames()) {
                    int slash = key.lastIndexOf('/');
                    clientQuotas.computeIfAbsent(key.substring(0, slash), e -> new TreeMap<>())
                            .put(key.substring(slash + 1), props.getProperty(key));
                }
            }
            if (Files.exists(groupConfigsFile)) {
                Properties props = readProperties(groupConfigsFile);
                for (String key : props.stringPropertyNames()) {
                    int slash = key.lastIndexOf('/');
                    groupConfigs.computeIfAbsent(Sanitizer.desanitize(key.substring(0, slash)), g -> new TreeMap<>())
                            .put(key.substring(slash + 1), props.getProperty(key));
                }
            }
            nextProducerId = Files.exists(producerIdFile)
                    ? Long.parseLong(Files.readString(producerIdFile).trim()) : 0L;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot load topic metadata from " + metadataDir, e);
        }
        log.info("Loaded metadata of {} topics from {}", byName.size(), metadataDir);
    }

    @Override
    public Collection<TopicMetadata> topics() {
        return List.copyOf(byName.values());
    }

    @Override
    public Optional<TopicMetadata> topic(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    @Override
    public Optional<TopicMetadata> topic(Uuid topicId) {
        return Optional.ofNullable(byId.get(topicId));
    }

    @Override
    public synchronized TopicMetadata createTopic(String name, int partitions, Map<String, String> configs) {
        if (byName.containsKey(name)) {
            throw new TopicExistsException("Topic '" + name + "' already exists.");
        }
        Uuid id = Uuid.randomUuid();
        while (byId.containsKey(id)) {
            id = Uuid.randomUuid();
        }
        return put(new TopicMetadata(name, id, partitions, configs));
    }

    @Override
    public synchronized Optional<TopicMetadata> deleteTopic(String name) {
        TopicMetadata removed = byName.remove(name);
        if (removed != null) {
            byId.remove(removed.topicId());
            try {
                Files.deleteIfExists(fileOf(name));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Optional.ofNullable(removed);
    }

    @Override
    public synchronized TopicMetadata setPartitionCount(String name, int partitions) {
        TopicMetadata t = existing(name);
        return put(new TopicMetadata(name, t.topicId(), partitions, t.configs()));
    }

    @Override
    public synchronized TopicMetadata setConfigs(String name, Map<String, String> configs) {
        TopicMetadata t = existing(name);
        return put(new TopicMetadata(name, t.topicId(), t.partitionCount(), configs));
    }

    @Override
    public synchronized long allocateProducerIds(int size) {
        long first = nextProducerId;
        writeAtomically(producerIdFile, Long.toString(first + size));
        nextProducerId = first + size;
        return first;
    }

    @Override
    public Map<String, Map<String, String>> userConfigs() {
        return Map.copyOf(users);
    }

    /** All users in one file, {@code <sanitized user>/<key>=value}: few users, rarely changed. */
    @Override
    public synchronized void setUserConfigs(String user, Map<String, String> configs) {
        Map<String, Map<String, String>> next = new TreeMap<>(users);
        if (configs.isEmpty()) {
            next.remove(user);
        } else {
            next.put(user, Map.copyOf(configs));
        }
        Properties props = new Properties();
        next.forEach((u, c) -> c.forEach((k, v) -> props.setProperty(Sanitizer.sanitize(u) + "/" + k, v)));
        writeProperties(usersFile, "Gregor user configs (SCRAM credentials)", props);
        if (configs.isEmpty()) {
            users.remove(user);
        } else {
            users.put(user, Map.copyOf(configs));
        }
        userListeners.forEach(l -> l.accept(user));
    }

    @Override
    public void listenUsers(java.util.function.Consumer<String> changed) {
        userListeners.add(changed);
    }

    @Override
    public Map<String, Map<String, String>> clientQuotaConfigs() {
        return Map.copyOf(clientQuotas);
    }

    /** All entities in one file, {@code <entity path>/<key>=value} (keys have no slash): few, rarely changed. */
    @Override
    public synchronized void setClientQuotaConfigs(String entityPath, Map<String, String> configs) {
        Map<String, Map<String, String>> next = new TreeMap<>(clientQuotas);
        if (configs.isEmpty()) {
            next.remove(entityPath);
        } else {
            next.put(entityPath, Map.copyOf(configs));
        }
        Properties props = new Properties();
        next.forEach((e, c) -> c.forEach((k, v) -> props.setProperty(e + "/" + k, v)));
        writeProperties(clientQuotasFile, "Gregor client quota configs", props);
        if (configs.isEmpty()) {
            clientQuotas.remove(entityPath);
        } else {
            clientQuotas.put(entityPath, Map.copyOf(configs));
        }
        clientQuotaListeners.forEach(l -> l.accept(entityPath));
    }

    @Override
    public void listenClientQuotas(java.util.function.Consumer<String> changed) {
        clientQuotaListeners.add(changed);
    }

    @Override
    public Map<org.apache.kafka.common.resource.ResourcePattern, java.util.Set<org.apache.kafka.common.acl.AccessControlEntry>> acls() {
        return Map.copyOf(acls);
    }

    @Override
    public synchronized void updateAcls(org.apache.kafka.common.resource.ResourcePattern resource,
            java.util.function.UnaryOperator<java.util.Set<org.apache.kafka.common.acl.AccessControlEntry>> change) {
        java.util.Set<org.apache.kafka.common.acl.AccessControlEntry> next =
                java.util.Set.copyOf(change.apply(acls.getOrDefault(resource, java.util.Set.of())));
        Map<org.apache.kafka.common.resource.ResourcePattern, java.util.Set<org.apache.kafka.common.acl.AccessControlEntry>>
                all = new java.util.HashMap<>(acls);
        if (next.isEmpty()) {
            all.remove(resource);
        } else {
            all.put(resource, next);
        }
        Properties props = new Properties();
        all.forEach((pattern, entries) -> props.setProperty(pattern.patternType().name() + "/"
                        + org.apache.kafka.common.utils.internals.SecurityUtils.resourceTypeName(pattern.resourceType())
                        + "/" + pattern.name(), io.gregor.broker.authz.AclJson.encode(entries)));
        writeProperties(aclsFile, "Gregor ACLs (Kafka's ZooKeeper JSON per resource pattern)", props);
        if (next.isEmpty()) {
            acls.remove(resource);
        } else {
            acls.put(resource, next);
        }
        java.util.function.Consumer<org.apache.kafka.common.resource.ResourcePattern> l = aclListener;
        if (l != null) {
            l.accept(resource);
        }
    }

    @Override
    public Map<String, String> brokerConfigs(String entity) {
        return brokerConfigs.getOrDefault(entity, Map.of());
    }

    /** All entities in one file, {@code <entity>/<key>=value}. */
    @Override
    public synchronized void setBrokerConfigs(String entity, Map<String, String> configs) {
        Map<String, Map<String, String>> next = new TreeMap<>(brokerConfigs);
        if (configs.isEmpty()) {
            next.remove(entity);
        } else {
            next.put(entity, Map.copyOf(configs));
        }
        Properties props = new Properties();
        next.forEach((e, c) -> c.forEach((k, v) -> props.setProperty(e + "/" + k, v)));
        writeProperties(brokerConfigsFile, "Gregor dynamic broker configs (kafka-configs --entity-type brokers)", props);
        if (configs.isEmpty()) {
            brokerConfigs.remove(entity);
        } else {
            brokerConfigs.put(entity, Map.copyOf(configs));
        }
        java.util.function.Consumer<String> l = brokerConfigListener;
        if (l != null) {
            l.accept(entity);
        }
    }

    @Override
    public Map<String, String> groupConfigs(String group) {
        return groupConfigs.getOrDefault(group, Map.of());
    }

    @Override
    public Collection<String> groupsWithConfigs() {
        return List.copyOf(groupConfigs.keySet());
    }

    /** All groups in one file, {@code <sanitized group>/<key>=value} (group ids may hold a slash, keys do not). */
    @Override
    public synchronized void setGroupConfigs(String group, Map<String, String> configs) {
        Map<String, Map<String, String>> next = new TreeMap<>(groupConfigs);
        if (configs.isEmpty()) {
            next.remove(group);
        } else {
            next.put(group, Map.copyOf(configs));
        }
        Properties props = new Properties();
        next.forEach((g, c) -> c.forEach((k, v) -> props.setProperty(Sanitizer.sanitize(g) + "/" + k, v)));
        writeProperties(groupConfigsFile, "Gregor group configs (kafka-configs --entity-type groups)", props);
        if (configs.isEmpty()) {
            groupConfigs.remove(group);
        } else {
            groupConfigs.put(group, Map.copyOf(configs));
        }
    }

    @Override
    public void listenAcls(java.util.function.Consumer<org.apache.kafka.common.resource.ResourcePattern> changed) {
        aclListener = changed;
    }

    @Override
    public void listenBrokerConfigs(java.util.function.Consumer<String> changed) {
        brokerConfigListener = changed;
    }

    @Override
    public void close() {
        // Every write is already durable.
    }

    private TopicMetadata existing(String name) {
        TopicMetadata t = byName.get(name);
        if (t == null) {
            throw new UnknownTopicOrPartitionException("Topic '" + name + "' does not exist.");
        }
        return t;
    }

    private TopicMetadata put(TopicMetadata topic) {
        Properties props = new Properties();
        props.setProperty("name", topic.name());
        props.setProperty("topic.id", topic.topicId().toString());
        props.setProperty("partitions", Integer.toString(topic.partitionCount()));
        topic.configs().forEach((k, v) -> props.setProperty(CONFIG_PREFIX + k, v));
        writeProperties(fileOf(topic.name()), "Gregor topic metadata", props);
        byName.put(topic.name(), topic);
        byId.put(topic.topicId(), topic);
        return topic;
    }

    private static Properties readProperties(Path file) throws IOException {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        }
        return props;
    }

    /** Every file here is a properties file replaced whole, atomically: few entries, rarely changed. */
    private static void writeProperties(Path file, String comment, Properties props) {
        StringWriter text = new StringWriter();
        try {
            props.store(text, comment);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        writeAtomically(file, text.toString());
    }

    private static TopicMetadata read(Path file) throws IOException {
        Properties props = readProperties(file);
        Map<String, String> configs = new TreeMap<>();
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith(CONFIG_PREFIX)) {
                configs.put(key.substring(CONFIG_PREFIX.length()), props.getProperty(key));
            }
        }
        return new TopicMetadata(props.getProperty("name"), Uuid.fromString(props.getProperty("topic.id")),
                Integer.parseInt(props.getProperty("partitions")), configs);
    }

    private Path fileOf(String topic) {
        return topicsDir.resolve(topic + ".properties");
    }

    static void writeAtomically(Path target, String content) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
                 Writer w = java.nio.channels.Channels.newWriter(ch, StandardCharsets.UTF_8)) {
                w.write(content);
                w.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + target, e);
        }
    }
}
