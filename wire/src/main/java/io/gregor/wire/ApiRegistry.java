package io.gregor.wire;

import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.message.ApiVersionsResponseData.FinalizedFeatureKey;
import org.apache.kafka.common.message.ApiVersionsResponseData.FinalizedFeatureKeyCollection;
import org.apache.kafka.common.message.ApiVersionsResponseData.SupportedFeatureKey;
import org.apache.kafka.common.message.ApiVersionsResponseData.SupportedFeatureKeyCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Which APIs and versions this broker serves, and who serves them. ApiVersions answers from here, so
 * clients are offered exactly what is registered.
 */
public final class ApiRegistry {
    private final Map<ApiKeys, Entry> entries = new EnumMap<>(ApiKeys.class);
    private final Features features = new Features();

    /** This broker's cluster id and node id, which ApiVersions v5+ requests may name (KIP-1102); null until known. */
    private volatile String clusterId;
    private volatile int nodeId = -1;
    private volatile RequestAuthorizer authorizer = RequestAuthorizer.ALLOW_ALL;

    public ApiRegistry() {
        // Versions newer than kafka-clients knows get Kafka's KIP-511 answer (v0 with UNSUPPORTED_VERSION).
        register(ApiKeys.API_VERSIONS, (short) 0, Short.MAX_VALUE,
                request -> CompletableFuture.completedFuture(apiVersions(request)));
    }

    /** Which cluster and node this is: an ApiVersions v5+ naming another one is answered REBOOTSTRAP_REQUIRED. */
    public ApiRegistry identity(String clusterId, int nodeId) {
        this.nodeId = nodeId;
        this.clusterId = clusterId;
        return this;
    }

    /** Kafka's checks, in its order: client software names (v3+), then the cluster and node the client expects. */
    private ApiVersionsResponseData apiVersions(KafkaRequest request) {
        ApiVersionsRequestData data = request.body();
        short version = request.apiVersion();
        if (!new ApiVersionsRequest(data, version).isValid()) {
            return new ApiVersionsResponseData().setErrorCode(Errors.INVALID_REQUEST.code());
        }
        String expectedCluster = clusterId;
        if (version >= 5 && data.clusterId() != null && expectedCluster != null
                && (!data.clusterId().equals(expectedCluster) || data.nodeId() != nodeId)) {
            // the client reached another cluster or node at this address (a replaced broker): it bootstraps anew
            return new ApiVersionsResponseData().setErrorCode(Errors.REBOOTSTRAP_REQUIRED.code());
        }
        return apiVersionsResponse(Errors.NONE, version);
    }

    /**
     * Registers a handler for {@code api} versions {@code min..max}, clamped to the stable versions kafka-clients
     * parses: as a Kafka broker without unstable.api.versions.enable, no version kafka-clients marks unstable.
     */
    public ApiRegistry register(ApiKeys api, short min, short max, ApiHandler handler) {
        short lo = (short) Math.max(min, api.oldestVersion());
        short hi = (short) Math.min(max, api.latestVersion(false));
        if (lo > hi) {
            throw new IllegalArgumentException(api + " has no versions in " + min + ".." + max);
        }
        entries.put(api, new Entry(api, lo, hi, handler));
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

    /** The features ApiVersions reports, which UpdateFeatures is checked against. */
    public Features features() {
        return features;
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
        List<Features.Feature> all = features.all();
        if (version < 3 || all.isEmpty()) {
            return response;
        }
        SupportedFeatureKeyCollection supported = new SupportedFeatureKeyCollection();
        FinalizedFeatureKeyCollection finalized = new FinalizedFeatureKeyCollection();
        for (Features.Feature f : all) {
            // clients before ApiVersions v4 refuse a supported minimum of 0 (KAFKA-17011): Kafka tells them 1
            short min = version < 4 && f.minVersion() == 0 ? 1 : f.minVersion();
            supported.add(new SupportedFeatureKey().setName(f.name()).setMinVersion(min).setMaxVersion(f.maxVersion()));
            if (f.finalizedLevel() > 0) {
                // Kafka leaves a feature at level 0 out of the finalized ones
                finalized.add(new FinalizedFeatureKey().setName(f.name()).setMinVersionLevel(f.finalizedLevel())
                        .setMaxVersionLevel(f.finalizedLevel()));
            }
        }
        return response.setSupportedFeatures(supported).setFinalizedFeatures(finalized)
                .setFinalizedFeaturesEpoch(Features.FINALIZED_EPOCH);
    }

    public record Entry(ApiKeys api, short minVersion, short maxVersion, ApiHandler handler) {
    }
}
