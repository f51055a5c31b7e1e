package io.gregor.broker.quota;

import io.gregor.broker.metadata.MetadataStore;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client quotas in force, read from the metadata store (a user's next to its SCRAM credentials in
 * {@code /config/users/<user>}, the others at {@code /config/clients/<id>} and
 * {@code /config/users/<user>/clients/<id>}) and kept current as they change on any broker, and the rates
 * they limit. Which quota applies to a client is Kafka's precedence (KIP-55), for each quota type apart:
 * <ol>
 * <li>/config/users/&lt;user&gt;/clients/&lt;client-id&gt;</li>
 * <li>/config/users/&lt;user&gt;/clients/&lt;default&gt;</li>
 * <li>/config/users/&lt;user&gt;</li>
 * <li>/config/users/&lt;default&gt;/clients/&lt;client-id&gt;</li>
 * <li>/config/users/&lt;default&gt;/clients/&lt;default&gt;</li>
 * <li>/config/users/&lt;default&gt;</li>
 * <li>/config/clients/&lt;client-id&gt;</li>
 * <li>/config/clients/&lt;default&gt;</li>
 * </ol>
 * Clients share a rate as Kafka's quota metrics group them: a user quota (levels 3 and 6) is shared by all
 * the user's client ids, a client-id quota (7, 8) by all users of the client id, the others per user and
 * client id; a default entity's value applies to each user / client id on its own.
 */
public final class ClientQuotas {
    private static final Logger log = LoggerFactory.getLogger(ClientQuotas.class);
    /** Cached resolutions and idle rates are swept beyond this many (client ids may be unique per client). */
    private static final int MAX_CACHED = 10_000;
    private static final String D = QuotaEntity.DEFAULT;

    private final MetadataStore store;
    private final Time time;
    private final int samples;
    private final long windowMs;
    private volatile Map<QuotaEntity, Map<QuotaType, Double>> quotas = Map.of();
    /** Per type, whether any entity has a quota of it. */
    private volatile boolean[] typeActive = new boolean[QuotaType.values().length];
    private volatile boolean active;
    /** (user, client id) to the limits that apply, per type; replaced whole when quotas change. */
    private volatile ConcurrentHashMap<Client, Limit[]> resolved = new ConcurrentHashMap<>();
    /** The rates, by type and the (user, client id) they are shared by. */
    private final ConcurrentHashMap<RateKey, SampledRate> rates = new ConcurrentHashMap<>();

    /** A quota that applies to a client: its bound and the rate it limits. */
    record Limit(QuotaType type, double bound, SampledRate rate) {
    }

    private record Client(String user, String clientId) {
    }

    private record RateKey(QuotaType type, String user, String clientId) {
    }

    /**
     * @param samples  quota.window.num
     * @param windowMs quota.window.size.seconds, in ms
     */
    public ClientQuotas(MetadataStore store, int samples, long windowMs, Time time) {
        this.time = time;
        this.store = store;
        this.samples = samples;
        this.windowMs = windowMs;
        store.listenUsers(user -> reload());
        store.listenClientQuotas(path -> reload());
        reload();
    }

    int samples() {
        return samples;
    }

    long windowMs() {
        return windowMs;
    }

    MetadataStore store() {
        return store;
    }

    /** Whether any quota is set: read per request. */
    boolean active() {
        return active;
    }

    boolean active(QuotaType type) {
        return typeActive[type.ordinal()];
    }

    /** Every entity with a quota, and its quotas by config key (what DescribeClientQuotas lists). */
    Map<QuotaEntity, Map<String, Double>> entities() {
        Map<QuotaEntity, Map<String, Double>> out = new HashMap<>();
        readStore().forEach((entity, values) -> {
            if (!values.isEmpty()) {
                out.put(entity, values);
            }
        });
        return out;
    }

    /** The quota configs in the store, parsed; keys that are not quotas (SCRAM credentials) left out. */
    private Map<QuotaEntity, Map<String, Double>> readStore() {
        Map<QuotaEntity, Map<String, Double>> out = new HashMap<>();
        store.userConfigs().forEach((user, configs) -> add(out, new QuotaEntity(user, null), configs));
        store.clientQuotaConfigs().forEach((path, configs) -> {
            QuotaEntity entity = QuotaEntity.fromPath(path);
            if (entity != null) {
                add(out, entity, configs);
            }
        });
        return out;
    }

    private static void add(Map<QuotaEntity, Map<String, Double>> out, QuotaEntity entity, Map<String, String> configs) {
        Map<String, Double> values = new HashMap<>();
        configs.forEach((key, value) -> {
            if (ClientQuotasApi.QUOTA_KEYS.containsKey(key)) {
                try {
                    values.put(key, Double.parseDouble(value.trim()));
                } catch (NumberFormatException e) {
                    log.warn("Ignoring the quota {}={} of {}: not a number", key, value, entity);
                }
            }
        });
        if (!values.isEmpty()) {
            out.put(entity, values);
        }
    }

    /** Re-reads the quotas (any change anywhere: they are few); limits are resolved afresh from now on. */
    synchronized void reload() {
        Map<QuotaEntity, Map<QuotaType, Double>> next = new HashMap<>();
        boolean[] types = new boolean[QuotaType.values().length];
        readStore().forEach((entity, values) -> {
            Map<QuotaType, Double> byType = new EnumMap<>(QuotaType.class);
            for (QuotaType type : QuotaType.values()) {
                Double v = values.get(type.key);
                if (v != null) {
                    byType.put(type, v);
                    types[type.ordinal()] = true;
                }
            }
            if (!byType.isEmpty()) {
                next.put(entity, byType);
            }
        });
        quotas = next;
        typeActive = types;
        resolved = new ConcurrentHashMap<>();
        boolean wasActive = active;
        active = !next.isEmpty();
        if (active != wasActive) {
            log.info("Client quotas {}", active ? "in force (" + next.size() + " entities)" : "no longer set");
        }
    }

    /**
     * The limits of a request whose byte-rate quota is {@code byteRate} (null for APIs without one), or null when
     * neither that quota nor request_percentage is set for anyone: such a request needs no lookup at all.
     */
    Limit[] limitsFor(QuotaType byteRate, String user, String clientId) {
        boolean[] types = typeActive;
        if (!types[QuotaType.REQUEST.ordinal()] && (byteRate == null || !types[byteRate.ordinal()])) {
            return null;
        }
        return limits(user, clientId);
    }

    /** How many (user, client id) pairs have their limits resolved and cached (for tests). */
    int resolvedClients() {
        return resolved.size();
    }

    /** The limits that apply to a client, by {@link QuotaType} ordinal (null where unlimited). */
    Limit[] limits(String user, String clientId) {
        if (clientId == null) {
            clientId = "";
        }
        ConcurrentHashMap<Client, Limit[]> cache = resolved;
        Client client = new Client(user, clientId);
        Limit[] limits = cache.get(client);
        if (limits == null) {
            if (cache.size() >= MAX_CACHED) {
                cache.clear();
            }
            limits = resolve(user, clientId);
            cache.put(client, limits);
        }
        return limits;
    }

    private Limit[] resolve(String user, String clientId) {
        Map<QuotaEntity, Map<QuotaType, Double>> q = quotas;
        Limit[] out = new Limit[QuotaType.values().length];
        for (QuotaType type : QuotaType.values()) {
            if (!typeActive[type.ordinal()]) {
                continue;
            }
            // the eight levels, each with the (user, client id) its rate is shared by
            Object[][] levels = {
                    {new QuotaEntity(user, clientId), user, clientId},
                    {new QuotaEntity(user, D), user, clientId},
                    {new QuotaEntity(user, null), user, ""},
                    {new QuotaEntity(D, clientId), user, clientId},
                    {new QuotaEntity(D, D), user, clientId},
                    {new QuotaEntity(D, null), user, ""},
                    {new QuotaEntity(null, clientId), "", clientId},
                    {new QuotaEntity(null, D), "", clientId}};
            for (Object[] level : levels) {
                Map<QuotaType, Double> values = q.get((QuotaEntity) level[0]);
                Double bound = values == null ? null : values.get(type);
                if (bound != null) {
                    out[type.ordinal()] = new Limit(type, bound, rate(new RateKey(type, (String) level[1], (String) level[2])));
                    break;
                }
            }
        }
        return out;
    }

    private SampledRate rate(RateKey key) {
        SampledRate rate = rates.get(key);
        if (rate == null) {
            if (rates.size() >= MAX_CACHED) {
                sweepIdleRates();
            }
            rate = rates.computeIfAbsent(key, k -> new SampledRate(samples, windowMs, nowMs()));
        }
        return rate;
    }

    /** A rate whose samples all expired is the same as a new one: dropping it loses nothing. */
    private void sweepIdleRates() {
        long now = nowMs();
        rates.values().removeIf(r -> r.idleSince(now, samples * windowMs));
    }

    private long nowMs() {
        return time.milliseconds();
    }
}
