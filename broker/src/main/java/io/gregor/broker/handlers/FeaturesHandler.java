package io.gregor.broker.handlers;

import io.gregor.wire.ApiRegistry;
import io.gregor.wire.Features;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.common.message.UpdateFeaturesRequestData;
import org.apache.kafka.common.message.UpdateFeaturesResponseData;
import org.apache.kafka.common.message.UpdateFeaturesResponseData.UpdatableFeatureResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * UpdateFeatures ({@code kafka-features upgrade/downgrade/disable}), checked as Kafka's controller checks it
 * against the features this broker registered: all updates are valid or none is applied, and the first
 * invalid one is the top-level error. The levels are fixed for the life of the broker, so an update to
 * the finalized level is accepted (nothing changes) and any other level is refused with
 * INVALID_UPDATE_VERSION. Describing features needs no API of its own: ApiVersions v3+ carries them.
 */
public final class FeaturesHandler {
    private static final Logger log = LoggerFactory.getLogger(FeaturesHandler.class);

    private final Features features;
    private final int brokerId;

    public FeaturesHandler(Features features, int brokerId) {
        this.features = features;
        this.brokerId = brokerId;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.UPDATE_FEATURES, (short) 0, Short.MAX_VALUE, this::updateFeatures);
    }

    private CompletionStage<UpdateFeaturesResponseData> updateFeatures(KafkaRequest request) {
        UpdateFeaturesRequestData data = request.body();
        short version = request.apiVersion();
        UpdateFeaturesResponseData response = new UpdateFeaturesResponseData();
        for (UpdateFeaturesRequestData.FeatureUpdateKey update : data.featureUpdates()) {
            Optional<String> refused = refusal(update, version);
            if (refused.isPresent()) {
                log.info("UpdateFeatures from {} refused: {}", request.clientId(), refused.get());
                return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_UPDATE_VERSION.code())
                        .setErrorMessage(refused.get()));
            }
        }
        for (UpdateFeaturesRequestData.FeatureUpdateKey update : data.featureUpdates()) {
            // per-feature results are in v0-1 answers only, and only when the update as a whole succeeded
            response.results().add(new UpdatableFeatureResult().setFeature(update.feature())
                    .setErrorCode(Errors.NONE.code()).setErrorMessage(null));
        }
        return CompletableFuture.completedFuture(response.setErrorCode(Errors.NONE.code()).setErrorMessage(null));
    }

    /** Why Kafka's controller would refuse this update, or why Gregor cannot apply it; empty when it is valid. */
    private Optional<String> refusal(UpdateFeaturesRequestData.FeatureUpdateKey update, short version) {
        String name = update.feature();
        short level = update.maxVersionLevel();
        FeatureUpdate.UpgradeType type = version == 0
                ? (update.allowDowngrade() ? FeatureUpdate.UpgradeType.SAFE_DOWNGRADE : FeatureUpdate.UpgradeType.UPGRADE)
                : FeatureUpdate.UpgradeType.fromCode(update.upgradeType());
        if (type == FeatureUpdate.UpgradeType.UNKNOWN) {
            return invalid(name, level, "The controller does not support the given upgrade type.");
        }
        if (level < 0) {
            return invalid(name, level, "A feature version cannot be less than 0.");
        }
        Optional<Features.Feature> feature = features.get(name);
        short current = feature.map(Features.Feature::finalizedLevel).orElse((short) 0);
        if (feature.isEmpty() && level > 0) {
            return invalid(name, level, "Broker " + brokerId + " does not support this feature.");
        }
        if (feature.isPresent() && !feature.get().supports(level) && level != 0) {
            return invalid(name, level, "Broker " + brokerId + " only supports versions "
                    + feature.get().minVersion() + "-" + feature.get().maxVersion());
        }
        if (level < current && type == FeatureUpdate.UpgradeType.UPGRADE) {
            return invalid(name, level, "Can't downgrade the version of this feature without setting the "
                    + "upgrade type to either safe or unsafe downgrade.");
        }
        if (level > current && type != FeatureUpdate.UpgradeType.UPGRADE) {
            return invalid(name, level, "Can't downgrade to a newer version.");
        }
        if (level != current) {
            return invalid(name, level, "Broker " + brokerId + " runs " + name + " at level " + current
                    + ", which cannot be changed while it runs.");
        }
        return Optional.empty();
    }

    private static Optional<String> invalid(String feature, short level, String reason) {
        return Optional.of(String.format("Invalid update version %d for feature %s. %s", level, feature, reason));
    }
}
