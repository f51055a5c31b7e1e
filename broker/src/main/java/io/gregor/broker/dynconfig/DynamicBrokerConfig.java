package io.gregor.broker.dynconfig;

import io.gregor.broker.metadata.MetadataStore;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigException;
import io.gregor.config.DynamicBrokerConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * This broker's configuration with its dynamic broker configs (KIP-226) layered over server.properties:
 * the per-broker ones ({@code /config/brokers/<id>}) over the cluster defaults ({@code /config/brokers/<default>}),
 * kept in the {@link MetadataStore} (a file for a single broker, ZooKeeper in a cluster). A change, made
 * here or on another broker, is applied at once: each registered {@link Reconfigurable} is handed the old
 * and the new configuration.
 */
public final class DynamicBrokerConfig {
    private static final Logger log = LoggerFactory.getLogger(DynamicBrokerConfig.class);
    /** How long an alter waits for its change to come back from ZooKeeper and be applied here. */
    private static final long APPLY_TIMEOUT_MS = 30_000;

    /** Told of each applied change, on the thread that applies it; must not block for long. */
    public interface Reconfigurable {
        /**
         * Checks a change against the running parts before it is stored (Kafka's validateReconfiguration),
         * e.g. a new keystore against the listener's current one.
         *
         * @throws RuntimeException (Kafka's ConfigException) saying why the change cannot be applied
         */
        default void validate(BrokerConfig current, BrokerConfig next) {
        }

        void reconfigure(BrokerConfig old, BrokerConfig next);

        /**
         * A per-broker alter that leaves this part's configs as they are: files it reads may have changed in
         * place (a keystore renewed under the same name), so it reloads them now, as Kafka's
         * reloadUpdatedFilesWithoutConfigChange does.
         *
         * @throws RuntimeException (Kafka's ConfigException) when the changed files cannot be used
         */
        default void reloadUnchangedFiles(BrokerConfig current, BrokerConfig next) {
        }
    }

    private final BrokerConfig staticConfig;
    private final String brokerEntity;
    private final MetadataStore store;
    private final List<Reconfigurable> reconfigurables = new CopyOnWriteArrayList<>();
    /** Serialises alters (read, change, write); apply() and its waiters use this object's own monitor. */
    private final Object alterLock = new Object();
    private volatile BrokerConfig current;

    /** Loads the stored dynamic configs; ones that no longer validate are logged and left out, as Kafka does. */
    public DynamicBrokerConfig(BrokerConfig staticConfig, int brokerId, MetadataStore store) {
        this.staticConfig = staticConfig;
        this.brokerEntity = Integer.toString(brokerId);
        this.store = store;
        this.current = load();
        store.listenBrokerConfigs(this::onChange);
    }

    public BrokerConfig current() {
        return current;
    }

    public void addReconfigurable(Reconfigurable reconfigurable) {
        reconfigurables.add(reconfigurable);
    }

    /**
     * Replaces the dynamic configs of this broker ({@code perBroker}) or of the cluster default with what
     * {@code change} makes of the stored ones, after Kafka's checks; with {@code validateOnly} only checks.
     * Returns once the change is durable and applied on this broker. Alters are serialised here.
     *
     * @throws ConfigException with Kafka's message when the change is not allowed
     */
    public void alter(boolean perBroker, UnaryOperator<Map<String, String>> change, boolean validateOnly) {
        synchronized (alterLock) {
            alter(perBroker, change.apply(new TreeMap<>(stored(perBroker))), validateOnly);
        }
    }

    private void alter(boolean perBroker, Map<String, String> configs, boolean validateOnly) {
        DynamicBrokerConfigs.validateKeysAndValues(configs, perBroker);
        BrokerConfig now = current;
        BrokerConfig next = perBroker ? staticConfig.withDynamic(configs, now.dynamicDefaultConfigs())
                : staticConfig.withDynamic(now.dynamicBrokerConfigs(), configs);
        String problem = DynamicBrokerConfigs.reconfigurationProblem(now, next);
        if (problem == null) {
            for (Reconfigurable reconfigurable : reconfigurables) {
                try {
                    reconfigurable.validate(now, next);
                } catch (RuntimeException e) {
                    problem = e.getMessage();
                    break;
                }
            }
        }
        if (problem != null) {
            // Kafka wraps the reason: new ConfigException("Invalid dynamic configuration", cause)
            log.info("Refused dynamic broker config change {}: {}", redacted(configs), problem);
            throw new ConfigException(null, "Invalid value org.apache.kafka.common.config.ConfigException: " + problem
                    + " for configuration Invalid dynamic configuration");
        }
        if (validateOnly) {
            return;
        }
        if (perBroker) {
            for (Reconfigurable reconfigurable : reconfigurables) {
                try {
                    reconfigurable.reloadUnchangedFiles(now, next);
                } catch (RuntimeException e) {
                    log.info("Refused dynamic broker config change {}: {}", redacted(configs), e.getMessage());
                    throw new ConfigException(null, e.getMessage());
                }
            }
        }
        Map<String, String> wanted = new TreeMap<>(configs);
        store.setBrokerConfigs(perBroker ? brokerEntity : DynamicBrokerConfigs.DEFAULT_ENTITY, wanted);
        awaitApplied(perBroker, wanted);
    }

    private static Map<String, String> redacted(Map<String, String> configs) {
        Map<String, String> out = new TreeMap<>(configs);
        out.replaceAll((k, v) -> DynamicBrokerConfigs.isSensitive(k) ? "[hidden]" : v);
        return out;
    }

    /** The stored dynamic configs of an entity (this broker's id, or {@code <default>}). */
    public Map<String, String> stored(boolean perBroker) {
        return store.brokerConfigs(perBroker ? brokerEntity : DynamicBrokerConfigs.DEFAULT_ENTITY);
    }

    private synchronized void awaitApplied(boolean perBroker, Map<String, String> wanted) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(APPLY_TIMEOUT_MS);
        while (!wanted.equals(perBroker ? current.dynamicBrokerConfigs() : current.dynamicDefaultConfigs())) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new IllegalStateException("The dynamic config change was stored but not applied within "
                        + APPLY_TIMEOUT_MS + " ms");
            }
            try {
                wait(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted waiting for a dynamic config change", e);
            }
        }
    }

    private void onChange(String entity) {
        if (entity.equals(brokerEntity) || entity.equals(DynamicBrokerConfigs.DEFAULT_ENTITY)) {
            apply();
        }
    }

    private synchronized void apply() {
        BrokerConfig old = current;
        BrokerConfig next = load();
        current = next;
        for (Reconfigurable reconfigurable : reconfigurables) {
            try {
                reconfigurable.reconfigure(old, next);
            } catch (RuntimeException e) {
                log.error("Applying dynamic broker configs failed in {}", reconfigurable, e);
            }
        }
        log.info("Dynamic broker configs now: this broker {}, cluster default {}", redacted(next.dynamicBrokerConfigs()),
                redacted(next.dynamicDefaultConfigs()));
        notifyAll();
    }

    private BrokerConfig load() {
        Map<String, String> perBroker = store.brokerConfigs(brokerEntity);
        Map<String, String> defaults = store.brokerConfigs(DynamicBrokerConfigs.DEFAULT_ENTITY);
        try {
            return staticConfig.withDynamic(perBroker, defaults);
        } catch (ConfigException e) {
            log.warn("Ignoring invalid dynamic broker configs (broker {}, default {}): {}", redacted(perBroker),
                    redacted(defaults), e.getMessage());
        }
        try {
            return staticConfig.withDynamic(Map.of(), defaults);
        } catch (ConfigException e) {
            return staticConfig;
        }
    }
}
