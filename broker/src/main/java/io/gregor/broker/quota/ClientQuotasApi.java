package io.gregor.broker.quota;

import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.ApiError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * DescribeClientQuotas and AlterClientQuotas with Kafka's validation and error codes, which
 * {@code kafka-configs --entity-type users|clients --describe / --alter --add-config producer_byte_rate=...}
 * and the Admin API use. Quotas are kept where Kafka's ZooKeeper mode kept them (see {@link ClientQuotas}).
 */
public final class ClientQuotasApi {
    private static final Logger log = LoggerFactory.getLogger(ClientQuotasApi.class);

    /** Kafka's quota keys of user and client-id entities, with whether their value is a whole number. */
    static final Map<String, Boolean> QUOTA_KEYS = Map.of(
            "producer_byte_rate", true,
            "consumer_byte_rate", true,
            "request_percentage", false,
            "controller_mutation_rate", false);

    private final ClientQuotas quotas;

    public ClientQuotasApi(ClientQuotas quotas) {
        this.quotas = quotas;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.DESCRIBE_CLIENT_QUOTAS, (short) 0, Short.MAX_VALUE, this::describe);
        registry.register(ApiKeys.ALTER_CLIENT_QUOTAS, (short) 0, Short.MAX_VALUE, this::alter);
    }

    private CompletionStage<DescribeClientQuotasResponseData> describe(KafkaRequest request) {
        request.requireCluster(AclOperation.DESCRIBE_CONFIGS); // Kafka's check: CLUSTER_AUTHORIZATION_FAILED otherwise
        DescribeClientQuotasRequestData data = request.body();
        Map<String, String> exact = new HashMap<>();
        Set<String> specified = new HashSet<>();
        for (DescribeClientQuotasRequestData.ComponentData component : data.components()) {
            String type = component.entityType();
            if (type.isEmpty()) {
                throw new InvalidRequestException("Invalid empty entity type.");
            }
            if (exact.containsKey(type) || specified.contains(type)) {
                throw new InvalidRequestException("Entity type " + type + " cannot appear more than once in the filter.");
            }
            if (!type.equals(ClientQuotaEntity.USER) && !type.equals(ClientQuotaEntity.CLIENT_ID)
                    && !type.equals(ClientQuotaEntity.IP)) {
                throw new UnsupportedVersionException("Unsupported entity type " + type);
            }
            switch (component.matchType()) {
                case 0 -> {
                    if (component.match() == null) {
                        throw new InvalidRequestException("Request specified MATCH_TYPE_EXACT, but set match string to null.");
                    }
                    exact.put(type, component.match());
                }
                case 1 -> {
                    if (component.match() != null) {
                        throw new InvalidRequestException("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
                    }
                    exact.put(type, null);
                }
                case 2 -> {
                    if (component.match() != null) {
                        throw new InvalidRequestException("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
                    }
                    specified.add(type);
                }
                default -> throw new InvalidRequestException("Unknown match type " + component.matchType());
            }
        }
        boolean ip = exact.containsKey(ClientQuotaEntity.IP) || specified.contains(ClientQuotaEntity.IP);
        if (ip && (exact.containsKey(ClientQuotaEntity.USER) || specified.contains(ClientQuotaEntity.USER)
                || exact.containsKey(ClientQuotaEntity.CLIENT_ID) || specified.contains(ClientQuotaEntity.CLIENT_ID))) {
            throw new InvalidRequestException("Invalid entity filter component combination. IP filter component should not "
                    + "be used with user or clientId filter component.");
        }
        DescribeClientQuotasResponseData response = new DescribeClientQuotasResponseData().setErrorCode(Errors.NONE.code());
        new TreeMap<>(byPath(quotas.entities())).forEach((path, entry) -> {
            Map<String, String> entity = kafkaEntity(entry.getKey());
            if (!matches(entity, exact, specified, data.strict())) {
                return;
            }
            DescribeClientQuotasResponseData.EntryData out = new DescribeClientQuotasResponseData.EntryData();
            entity.forEach((type, name) -> out.entity().add(
                    new DescribeClientQuotasResponseData.EntityData().setEntityType(type).setEntityName(name)));
            new TreeMap<>(entry.getValue()).forEach((key, value) -> out.values().add(
                    new DescribeClientQuotasResponseData.ValueData().setKey(key).setValue(value)));
            response.entries().add(out);
        });
        return CompletableFuture.completedFuture(response);
    }

    private static Map<String, Map.Entry<QuotaEntity, Map<String, Double>>> byPath(Map<QuotaEntity, Map<String, Double>> all) {
        Map<String, Map.Entry<QuotaEntity, Map<String, Double>>> out = new HashMap<>();
        all.forEach((entity, values) -> out.put(entity.path(), Map.entry(entity, values)));
        return out;
    }

    /** Kafka's entity map: type to name, null naming the default entity. */
    private static Map<String, String> kafkaEntity(QuotaEntity entity) {
        Map<String, String> out = new LinkedHashMap<>();
        if (entity.hasUser()) {
            out.put(ClientQuotaEntity.USER, QuotaEntity.DEFAULT.equals(entity.user()) ? null : entity.user());
        }
        if (entity.hasClientId()) {
            out.put(ClientQuotaEntity.CLIENT_ID, QuotaEntity.DEFAULT.equals(entity.clientId()) ? null : entity.clientId());
        }
        return out;
    }

    private static boolean matches(Map<String, String> entity, Map<String, String> exact, Set<String> specified,
                                   boolean strict) {
        if (strict && entity.size() != exact.size() + specified.size()) {
            return false;
        }
        for (Map.Entry<String, String> e : exact.entrySet()) {
            if (!entity.containsKey(e.getKey()) || !Objects.equals(entity.get(e.getKey()), e.getValue())) {
                return false;
            }
        }
        for (String type : specified) {
            if (!entity.containsKey(type)) {
                return false;
            }
        }
        return true;
    }

    private synchronized CompletionStage<AlterClientQuotasResponseData> alter(KafkaRequest request) {
        request.requireCluster(AclOperation.ALTER_CONFIGS);
        AlterClientQuotasRequestData data = request.body();
        AlterClientQuotasResponseData response = new AlterClientQuotasResponseData();
        Set<QuotaEntity> seen = new HashSet<>();
        for (AlterClientQuotasRequestData.EntryData entry : data.entries()) {
            ApiError result;
            try {
                QuotaEntity entity = entity(entry.entity());
                Map<String, Double> changes = changes(entry.ops());
                if (!seen.add(entity)) {
                    throw new InvalidRequestException("Ignoring duplicate entity " + entity);
                }
                if (!data.validateOnly()) {
                    apply(entity, changes);
                }
                result = ApiError.NONE;
            } catch (InvalidRequestException e) {
                result = new ApiError(Errors.INVALID_REQUEST, e.getMessage());
                log.info("AlterClientQuotas from {}: {}", request.connection().clientAddress(), e.getMessage());
            } catch (RuntimeException e) {
                result = ApiError.fromThrowable(e);
                log.warn("AlterClientQuotas from {} failed: {}", request.connection().clientAddress(), e.toString());
            }
            AlterClientQuotasResponseData.EntryData out = new AlterClientQuotasResponseData.EntryData()
                    .setErrorCode(result.error().code()).setErrorMessage(result.error() == Errors.NONE ? null : result.message());
            for (AlterClientQuotasRequestData.EntityData e : entry.entity()) {
                out.entity().add(new AlterClientQuotasResponseData.EntityData().setEntityType(e.entityType())
                        .setEntityName(e.entityName()));
            }
            response.entries().add(out);
        }
        return CompletableFuture.completedFuture(response);
    }

    /** Kafka's entity checks (ClientQuotaControlManager): user and/or client-id, each once, names not empty. */
    private static QuotaEntity entity(List<AlterClientQuotasRequestData.EntityData> components) {
        if (components.isEmpty()) {
            throw new InvalidRequestException("Invalid empty client quota entity");
        }
        Map<String, String> names = new HashMap<>();
        for (AlterClientQuotasRequestData.EntityData component : components) {
            String type = component.entityType();
            if (names.containsKey(type)) {
                throw new InvalidRequestException("Invalid client quota entity, duplicate entity entry " + type);
            }
            if (!type.equals(ClientQuotaEntity.USER) && !type.equals(ClientQuotaEntity.CLIENT_ID)
                    && !type.equals(ClientQuotaEntity.IP)) {
                throw new InvalidRequestException("Unhandled client quota entity type: " + type);
            }
            if (component.entityName() != null && component.entityName().isEmpty()) {
                throw new InvalidRequestException("Empty " + type + " not supported");
            }
            names.put(type, component.entityName() == null ? QuotaEntity.DEFAULT : component.entityName());
        }
        if (names.containsKey(ClientQuotaEntity.IP)) {
            if (names.size() > 1) {
                throw new InvalidRequestException("Invalid quota entity combination, IP entity should not be combined "
                        + "with User or ClientId");
            }
            throw new InvalidRequestException("IP quotas (connection_creation_rate) are not supported by Gregor");
        }
        return new QuotaEntity(names.get(ClientQuotaEntity.USER), names.get(ClientQuotaEntity.CLIENT_ID));
    }

    /** The ops as key to new value (null: remove), with Kafka's checks of keys and values. */
    private static Map<String, Double> changes(List<AlterClientQuotasRequestData.OpData> ops) {
        Map<String, Double> changes = new HashMap<>();
        for (AlterClientQuotasRequestData.OpData op : ops) {
            if (changes.containsKey(op.key())) {
                throw new InvalidRequestException("Duplicate quota key " + op.key() + " not updating quota for this entity");
            }
            changes.put(op.key(), op.remove() ? null : op.value());
        }
        for (Map.Entry<String, Double> change : changes.entrySet()) {
            String key = change.getKey();
            Double value = change.getValue();
            if (value == null) {
                continue;
            }
            Boolean whole = QUOTA_KEYS.get(key);
            if (whole == null) {
                throw new InvalidRequestException("Invalid configuration key " + key);
            }
            if (value <= 0.0 || value.isNaN()) {
                throw new InvalidRequestException("Quota " + key + " must be greater than 0");
            }
            if (whole && value > Long.MAX_VALUE) {
                throw new InvalidRequestException("Proposed value for " + key + " is too large for a LONG.");
            }
            if (whole && Math.abs(value % 1.0) > 1e-6) {
                throw new InvalidRequestException(key + " cannot be a fractional value.");
            }
        }
        return changes;
    }

    private void apply(QuotaEntity entity, Map<String, Double> changes) {
        boolean userOnly = !entity.hasClientId();
        Map<String, String> current = userOnly
                ? quotas.store().userConfigs().getOrDefault(entity.user(), Map.of())
                : quotas.store().clientQuotaConfigs().getOrDefault(entity.path(), Map.of());
        Map<String, String> next = new TreeMap<>(current);
        changes.forEach((key, value) -> {
            if (value == null) {
                next.remove(key);
            } else {
                next.put(key, QUOTA_KEYS.get(key) ? Long.toString(value.longValue()) : Double.toString(value));
            }
        });
        if (next.equals(current)) {
            return;
        }
        if (userOnly) {
            quotas.store().setUserConfigs(entity.user(), next);
        } else {
            quotas.store().setClientQuotaConfigs(entity.path(), next);
        }
        quotas.reload(); // this broker at once; others (and this one again) through the store's notification
        if (changes.containsKey("controller_mutation_rate") && changes.get("controller_mutation_rate") != null) {
            log.warn("controller_mutation_rate of {} is stored but Gregor does not enforce it", entity);
        }
        log.info("Client quotas of {} changed: {}", entity, changes);
    }
}
