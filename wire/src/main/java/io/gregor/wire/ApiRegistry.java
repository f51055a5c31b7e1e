package io.gregor.wire;

import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Which APIs and versions this broker serves, and who serves them. ApiVersions answers from here, so
 * clients are offered exactly what is registered.
 */
public final class ApiRegistry {
    private final Map<ApiKeys, Entry> entries = new EnumMap<>(ApiKeys.class);

    public ApiRegistry() {
        // Versions newer than kafka-clients knows get Kafka's KIP-511 answer (v0 with UNSUPPORTED_VERSION).
        register(ApiKeys.API_VERSIONS, (short) 0, Short.MAX_VALUE,
                request -> CompletableFuture.completedFuture(apiVersionsResponse(Errors.NONE)));
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

    public Entry lookup(ApiKeys api) {
        return entries.get(api);
    }

    boolean supports(ApiKeys api, short version) {
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

    public record Entry(ApiKeys api, short minVersion, short maxVersion, ApiHandler handler) {
    }
}
