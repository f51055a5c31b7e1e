package io.gregor.wire;

import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.message.ApiVersionsResponseData.FinalizedFeatureKey;
import org.apache.kafka.common.message.ApiVersionsResponseData.FinalizedFeatureKeyCollection;
import org.apache.kafka.common.message.ApiVersionsResponseData.SupportedFeatureKey;
import org.apache.kafka.common.message.ApiVersionsResponseData.SupportedFeatureKeyCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Which APIs and versions this broker serves, and who serves them. ApiVersions answers from here, so
 * clients are offered exactly what is registered.
 */
public final class ApiRegistry {
    /** Kafka's finalized-features epoch: clients re-read the features when it grows; these are fixed at startup. */
    private static final long FINALIZED_FEATURES_EPOCH = 1;
    private final Map<ApiKeys, Entry> entries = new EnumMap<>(ApiKeys.class);
    private final Map<String, Feature> features = new TreeMap<>();
    private volatile RequestAuthorizer authorizer = RequestAuthorizer.ALLOW_ALL;

    public ApiRegistry() {
        // Versions newer than kafka-clients knows get Kafka's KIP-511 answer (v0 with UNSUPPORTED_VERSION).
        register(ApiKeys.API_VERSIONS, (short) 0, Short.MAX_VALUE,
                request -> CompletableFuture.completedFuture(apiVersionsResponse(Errors.NONE, request.apiVersion())));
    }

    /** Registers a handler for {@code api} versions {@code min..max}, clamped to the stable versions kafka-clients parses. */
    public ApiRegistry register(ApiKeys api, short min, short max, ApiHandler handler) {
        short lo = (short) Math.max(min, api.oldestVersion());
        short hi = (short) Math.min(max, api.latestVersion());
        if (lo > hi) {
            throw new IllegalArgumentException(api + " has no versions in " + min + ".." + max);
        }
        entries.put(api, new Entry(api, lo, hi, handler));
        return this;
    }

    /**
     * A feature this broker supports ({@code minVersion..maxVersion}) with its finalized level, which ApiVersions
     * v3+ reports (e.g. {@code transaction.version}, on which clients gate protocol behaviour).
     */
    public ApiRegistry feature(String name, short minVersion, short maxVersion, short finalizedLevel) {
        features.put(name, new Feature(minVersion, maxVersion, finalizedLevel));
        return this;
    }

    /** The authorizer every request's {@link KafkaRequest#authorize} asks (set once at startup). */
    public ApiRegistry authorizer(RequestAuthorizer authorizer) {
        this.authorizer = authorizer;
        return this;
    }

    public RequestAuthorizer authorizer() {
        return authorizer;
    }

    public Entry lookup(ApiKeys api) {
        return entries.get(api);
    }

    public boolean supports(ApiKeys api, short version) {
        Entry e = entries.get(api);
        return e != null && version >= e.minVersion && version <= e.maxVersion;
    }

    public ApiVersionsResponseData apiVersionsResponse(Errors error) {
        ApiVersionCollection versions = new ApiVersionCollection();
        for (Entry e : entries.values()) {
            // librdkafka probes Produce from v0 (KAFKA-18659): advertise Kafka's min, reject below it on use.
            short min = e.api == ApiKeys.PRODUCE ? ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION : e.minVersion;
            versions.add(new ApiVersion().setApiKey(e.api.id).setMinVersion(min).setMaxVersion(e.maxVersion));
        }
        return new ApiVersionsResponseData().setErrorCode(error.code()).setApiKeys(versions);
    }

    /** The answer to ApiVersions {@code version}: from v3 with the supported and finalized features. */
    public ApiVersionsResponseData apiVersionsResponse(Errors error, short version) {
        ApiVersionsResponseData response = apiVersionsResponse(error);
        if (version < 3 || features.isEmpty()) {
            return response;
        }
        SupportedFeatureKeyCollection supported = new SupportedFeatureKeyCollection();
        FinalizedFeatureKeyCollection finalized = new FinalizedFeatureKeyCollection();
        features.forEach((name, f) -> {
            // clients before ApiVersions v4 refuse a supported minimum of 0 (KAFKA-17011): Kafka tells them 1
            short min = version < 4 && f.minVersion == 0 ? 1 : f.minVersion;
            supported.add(new SupportedFeatureKey().setName(name).setMinVersion(min).setMaxVersion(f.maxVersion));
            finalized.add(new FinalizedFeatureKey().setName(name).setMinVersionLevel(f.finalizedLevel)
                    .setMaxVersionLevel(f.finalizedLevel));
        });
        return response.setSupportedFeatures(supported).setFinalizedFeatures(finalized)
                .setFinalizedFeaturesEpoch(FINALIZED_FEATURES_EPOCH);
    }

    private record Feature(short minVersion, short maxVersion, short finalizedLevel) {
    }

    public record Entry(ApiKeys api, short minVersion, short maxVersion, ApiHandler handler) {
    }
}
