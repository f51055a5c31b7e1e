package io.gregor.wire;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The broker's feature flags (KIP-584) in one place: what each supports ({@code minVersion..maxVersion}) and
 * the level it is finalized at. Parts of the broker register the features they implement at startup
 * ({@code transaction.version}, {@code group.version}, {@code share.version}); ApiVersions v3+ reports
 * them (clients gate protocol behaviour on them, {@code kafka-features describe} prints them) and
 * UpdateFeatures is checked against them. A feature is advertised only once something implements it.
 */
public final class Features {
    /** Kafka's finalized-features epoch: clients re-read the features when it grows; these are fixed at startup. */
    public static final long FINALIZED_EPOCH = 1;

    /** One feature: the levels this broker supports and the level the cluster runs at. */
    public record Feature(String name, short minVersion, short maxVersion, short finalizedLevel) {
        public boolean supports(short level) {
            return level >= minVersion && level <= maxVersion;
        }
    }

    private final Map<String, Feature> features = new TreeMap<>();

    /** Registers a feature; each is registered once, with its finalized level inside its supported range. */
    public synchronized Features register(String name, short minVersion, short maxVersion, short finalizedLevel) {
        if (minVersion < 0 || minVersion > maxVersion || finalizedLevel < minVersion || finalizedLevel > maxVersion) {
            throw new IllegalArgumentException("feature " + name + ": finalized level " + finalizedLevel
                    + " outside the supported " + minVersion + ".." + maxVersion);
        }
        if (features.putIfAbsent(name, new Feature(name, minVersion, maxVersion, finalizedLevel)) != null) {
            throw new IllegalArgumentException("feature " + name + " is registered twice");
        }
        return this;
    }

    public synchronized Optional<Feature> get(String name) {
        return Optional.ofNullable(features.get(name));
    }

    /** Every registered feature, by name. */
    public synchronized List<Feature> all() {
        return new ArrayList<>(features.values());
    }
}
