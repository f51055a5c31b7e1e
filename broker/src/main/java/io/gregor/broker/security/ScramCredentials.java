package io.gregor.broker.security;

import io.gregor.broker.metadata.MetadataStore;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialDeletion;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.security.authenticator.CredentialCache;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramCredentialUtils;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * SCRAM credentials: kept in the metadata store as Kafka keeps them (user entity configs named after the
 * mechanism, in Kafka's credential text), mirrored into the {@link CredentialCache} that the SASL
 * servers read, and managed with AlterUserScramCredentials / DescribeUserScramCredentials, so
 * {@code kafka-configs --entity-type users --alter --add-config 'SCRAM-SHA-256=[password=...]'} works.
 * The store only ever holds the salted keys, never a password.
 */
public final class ScramCredentials {
    private static final Logger log = LoggerFactory.getLogger(ScramCredentials.class);
    /** Kafka's upper bound (ScramControlManager.MAX_ITERATIONS). */
    private static final int MAX_ITERATIONS = 16384;
    private static final List<String> MECHANISMS = List.of("SCRAM-SHA-256", "SCRAM-SHA-512");

    private final MetadataStore store;
    private final CredentialCache cache = new CredentialCache();

    public ScramCredentials(MetadataStore store) {
        this.store = store;
        ScramCredentialUtils.createCache(cache, MECHANISMS);
        store.listenUsers(this::reload);
        store.userConfigs().keySet().forEach(this::reload);
    }

    /** The credentials the SASL servers of every listener read. */
    public CredentialCache cache() {
        return cache;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, (short) 0, Short.MAX_VALUE, this::alter);
        registry.register(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, (short) 0, Short.MAX_VALUE, this::describe);
    }

    private void reload(String user) {
        Map<String, String> configs = store.userConfigs().getOrDefault(user, Map.of());
        for (String mechanism : MECHANISMS) {
            CredentialCache.Cache<ScramCredential> credentials = cache.cache(mechanism, ScramCredential.class);
            String text = configs.get(mechanism);
            if (text == null) {
                credentials.remove(user);
                continue;
            }
            try {
                credentials.put(user, ScramCredentialUtils.credentialFromString(text));
            } catch (RuntimeException e) {
                log.warn("Ignoring the unreadable {} credential of user {}: {}", mechanism, user, e.toString());
                credentials.remove(user);
            }
        }
    }

    private synchronized CompletionStage<AlterUserScramCredentialsResponseData> alter(KafkaRequest request) {
        AlterUserScramCredentialsRequestData data = request.body();
        request.requireCluster(org.apache.kafka.common.acl.AclOperation.ALTER);
        Map<String, Map<String, String>> current = store.userConfigs();
        Map<String, ApiError> errors = new LinkedHashMap<>();
        Map<String, List<ScramCredentialDeletion>> deletions = new LinkedHashMap<>();
        Map<String, List<ScramCredentialUpsertion>> upsertions = new LinkedHashMap<>();
        // Kafka's checks (ScramControlManager): one change per user and mechanism, known mechanism, sane iterations
        Map<String, java.util.Set<Byte>> touched = new HashMap<>();
        for (ScramCredentialDeletion deletion : data.deletions()) {
            if (errors.containsKey(deletion.name())) {
                continue;
            }
            ApiError error = validate(deletion.name(), deletion.mechanism());
            if (error == null && !touched.computeIfAbsent(deletion.name(), u -> new LinkedHashSet<>()).add(deletion.mechanism())) {
                error = new ApiError(Errors.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
            }
            if (error == null && !current.getOrDefault(deletion.name(), Map.of())
                    .containsKey(ScramMechanism.fromType(deletion.mechanism()).mechanismName())) {
                error = new ApiError(Errors.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist");
            }
            if (error != null) {
                errors.put(deletion.name(), error);
            } else {
                deletions.computeIfAbsent(deletion.name(), u -> new ArrayList<>()).add(deletion);
            }
        }
        for (ScramCredentialUpsertion upsertion : data.upsertions()) {
            if (errors.containsKey(upsertion.name())) {
                continue;
            }
            ApiError error = validate(upsertion.name(), upsertion.mechanism());
            if (error == null && !touched.computeIfAbsent(upsertion.name(), u -> new LinkedHashSet<>()).add(upsertion.mechanism())) {
                error = new ApiError(Errors.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
            }
            if (error == null) {
                org.apache.kafka.common.security.scram.internals.ScramMechanism internal =
                        org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(
                                ScramMechanism.fromType(upsertion.mechanism()).mechanismName());
                if (upsertion.iterations() < internal.minIterations()) {
                    error = new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Too few iterations");
                } else if (upsertion.iterations() > MAX_ITERATIONS) {
                    error = new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Too many iterations");
                }
            }
            if (error != null) {
                errors.put(upsertion.name(), error);
            } else {
                upsertions.computeIfAbsent(upsertion.name(), u -> new ArrayList<>()).add(upsertion);
            }
        }
        AlterUserScramCredentialsResponseData response = new AlterUserScramCredentialsResponseData();
        java.util.Set<String> users = new LinkedHashSet<>(deletions.keySet());
        users.addAll(upsertions.keySet());
        for (String user : users) {
            if (errors.containsKey(user)) {
                continue; // a user with any bad change is not changed at all
            }
            Map<String, String> configs = new TreeMap<>(current.getOrDefault(user, Map.of()));
            try {
                for (ScramCredentialDeletion d : deletions.getOrDefault(user, List.of())) {
                    configs.remove(ScramMechanism.fromType(d.mechanism()).mechanismName());
                }
                for (ScramCredentialUpsertion u : upsertions.getOrDefault(user, List.of())) {
                    String mechanism = ScramMechanism.fromType(u.mechanism()).mechanismName();
                    ScramFormatter formatter = new ScramFormatter(
                            org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(mechanism));
                    // the client salted the password; the broker keeps only what verifies a proof
                    ScramCredential credential = new ScramCredential(u.salt(),
                            formatter.storedKey(formatter.clientKey(u.saltedPassword())),
                            formatter.serverKey(u.saltedPassword()), u.iterations());
                    configs.put(mechanism, ScramCredentialUtils.credentialToString(credential));
                }
                store.setUserConfigs(user, configs);
                reload(user);
                response.results().add(new AlterUserScramCredentialsResult().setUser(user).setErrorCode(Errors.NONE.code()));
                log.info("SCRAM credentials of user {} changed ({} now)", user,
                        new TreeSet<>(configs.keySet()).stream().filter(MECHANISMS::contains).toList());
            } catch (Exception e) {
                errors.put(user, ApiError.fromThrowable(e));
            }
        }
        errors.forEach((user, error) -> response.results().add(new AlterUserScramCredentialsResult().setUser(user)
                .setErrorCode(error.error().code()).setErrorMessage(error.message())));
        return CompletableFuture.completedFuture(response);
    }

    private static ApiError validate(String user, byte mechanism) {
        if (user.isEmpty()) {
            return new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        }
        if (ScramMechanism.fromType(mechanism) == ScramMechanism.UNKNOWN) {
            return new ApiError(Errors.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        }
        return null;
    }

    private CompletionStage<DescribeUserScramCredentialsResponseData> describe(KafkaRequest request) {
        DescribeUserScramCredentialsRequestData data = request.body();
        request.requireCluster(org.apache.kafka.common.acl.AclOperation.DESCRIBE);
        Map<String, Map<String, String>> all = store.userConfigs();
        DescribeUserScramCredentialsResponseData response = new DescribeUserScramCredentialsResponseData();
        if (data.users() == null || data.users().isEmpty()) {
            for (String user : new TreeSet<>(all.keySet())) {
                DescribeUserScramCredentialsResult result = result(user, all.get(user));
                if (!result.credentialInfos().isEmpty()) {
                    response.results().add(result);
                }
            }
            return CompletableFuture.completedFuture(response);
        }
        java.util.Set<String> seen = new LinkedHashSet<>();
        for (DescribeUserScramCredentialsRequestData.UserName name : data.users()) {
            String user = name.name();
            if (!seen.add(user)) {
                continue;
            }
            DescribeUserScramCredentialsResult result = result(user, all.getOrDefault(user, Map.of()));
            if (result.credentialInfos().isEmpty()) {
                result.setErrorCode(Errors.RESOURCE_NOT_FOUND.code())
                        .setErrorMessage("Attempt to describe a user credential that does not exist: " + user);
            }
            response.results().add(result);
        }
        return CompletableFuture.completedFuture(response);
    }

    private static DescribeUserScramCredentialsResult result(String user, Map<String, String> configs) {
        DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult().setUser(user);
        for (ScramMechanism mechanism : ScramMechanism.values()) {
            String text = mechanism == ScramMechanism.UNKNOWN ? null : configs.get(mechanism.mechanismName());
            if (text != null) {
                result.credentialInfos().add(new CredentialInfo().setMechanism(mechanism.type())
                        .setIterations(ScramCredentialUtils.credentialFromString(text).iterations()));
            }
        }
        return result;
    }
}
