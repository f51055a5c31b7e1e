package io.gregor.broker.share;

import io.gregor.broker.InternalTopic;
import io.gregor.broker.Topics;
import io.gregor.broker.handlers.ShareHandler;
import io.gregor.broker.interbroker.InterBrokerClient;
import io.gregor.broker.share.state.ShareStatePersister;
import io.gregor.broker.share.state.ShareStateService;
import io.gregor.broker.replica.FetchPurgatory;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.config.BrokerConfig;
import io.gregor.config.ShareGroupSettings;
import io.gregor.coordinator.GroupCoordinator;
import io.gregor.coordinator.GroupSettings;
import io.gregor.coordinator.GroupState;
import io.gregor.coordinator.share.ShareGroupConfig;
import io.gregor.coordinator.share.ShareGroupConfigs;
import io.gregor.coordinator.share.ShareGroupCoordinator;
import io.gregor.coordinator.share.ShareGroupMetadataStore;
import io.gregor.coordinator.share.ShareStateStore;
import io.gregor.wire.ApiRegistry;
import org.apache.kafka.common.utils.Time;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Share groups (KIP-932) put together: the state topic {@code __share_group_state} and its store, the
 * membership coordinator, the share-partition manager on the leaders, and their APIs.
 */
public final class ShareGroups implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShareGroups.class);
    private final ShareStateStore states;
    private final InternalTopic stateTopic;
    private final ShareStateService stateService;
    private final ShareStatePersister persister;
    private final ShareGroupCoordinator coordinator;
    private final SharePartitionManager partitions;
    private final ShareGroupConfigs groupConfigs;
    private final GroupCoordinator classicGroups;
    private final List<ScheduledFuture<?>> background = new ArrayList<>();

    /** @param network the inter-broker client, for share coordinators on other brokers; null for a lone broker */
    public ShareGroups(BrokerConfig config, int brokerId, Topics topics, ReplicaManager replicas,
                       GroupCoordinator classicGroups, InternalTopic offsetsTopic, FetchPurgatory purgatory,
                       InterBrokerClient network, GroupSettings groupSettings,
                       ScheduledExecutorService scheduler, Time time) {
        this.classicGroups = classicGroups;
        ShareGroupSettings s = config.shareGroups();
        stateTopic = new InternalTopic(InternalTopic.shareGroupState(config), topics, replicas, time);
        states = new ShareStateStore(stateTopic, time, s.snapshotUpdateRecordsPerSnapshot(),
                s.coldPartitionSnapshotIntervalMs());
        // the same mechanism as __consumer_offsets and __transaction_state: states move with partition leadership
        stateTopic.followLeadership(states);
        states.startup();
        // Kafka's share coordinator timers: fresh snapshots of idle keys, then the records they made redundant
        background.add(scheduler.scheduleWithFixedDelay(() -> run("cold snapshots", states::snapshotColdPartitions),
                s.coldPartitionSnapshotIntervalMs(), s.coldPartitionSnapshotIntervalMs(), TimeUnit.MILLISECONDS));
        background.add(scheduler.scheduleWithFixedDelay(() -> run("pruning", states::prune),
                s.stateTopicPruneIntervalMs(), s.stateTopicPruneIntervalMs(), TimeUnit.MILLISECONDS));
        ShareGroupConfig shareConfig = new ShareGroupConfig(s.sessionTimeoutMs(), s.minSessionTimeoutMs(),
                s.maxSessionTimeoutMs(), s.heartbeatIntervalMs(), s.minHeartbeatIntervalMs(), s.maxHeartbeatIntervalMs(),
                s.maxSize(), s.recordLockDurationMs(), s.minRecordLockDurationMs(), s.maxRecordLockDurationMs(),
                s.deliveryCountLimit(), s.minDeliveryCountLimit(), s.maxDeliveryCountLimit(),
                s.partitionMaxRecordLocks(), s.minPartitionMaxRecordLocks(), s.maxPartitionMaxRecordLocks(),
                s.maxShareSessions());
        groupConfigs = new ShareGroupConfigs(groupSettings);
        coordinator = new ShareGroupCoordinator(shareConfig, groupConfigs, new ShareGroupCoordinator.Topics() {
            @Override
            public java.util.Optional<ShareGroupCoordinator.TopicInfo> byName(String name) {
                return topics.topic(name).map(t -> new ShareGroupCoordinator.TopicInfo(t.topicId(), t.name(),
                        t.partitionCount()));
            }

            @Override
            public java.util.Optional<ShareGroupCoordinator.TopicInfo> byId(org.apache.kafka.common.Uuid id) {
                return topics.topic(id).map(t -> new ShareGroupCoordinator.TopicInfo(t.topicId(), t.name(),
                        t.partitionCount()));
            }
        }, id -> classicGroups.state(id) != GroupState.DEAD, new ShareGroupMetadataStore(offsetsTopic), scheduler, time);
        stateService = new ShareStateService(states, (id, p) -> topics.topic(id)
                .map(t -> p >= 0 && p < t.partitionCount()).orElse(false));
        persister = new ShareStatePersister(brokerId, stateService, states, stateTopic,
                topics.store(), network, scheduler, time, config.requestTimeoutMs());
        partitions = new SharePartitionManager(topics, persister, groupConfigs, purgatory, scheduler,
                s.maxShareSessions(), time);
        coordinator.setMemberListener(partitions::memberLeft);
        coordinator.setStateInitializer((groupId, topicId, partition, stateEpoch, startOffset) -> persister.initialize(
                new ShareStateStore.Key(groupId, topicId, partition), stateEpoch, startOffset));
        this.topics = topics;
        this.latestOffsets = new LatestOffsets(topics, network);
    }

    private final Topics topics;
    private final LatestOffsets latestOffsets;

    /** Registers the share APIs; after the classic group handler, whose ListGroups and DeleteGroups it extends. */
    public void register(ApiRegistry registry) {
        new ShareHandler(coordinator, partitions, persister, topics, classicGroups::coordinatorError, latestOffsets)
                .register(registry);
        stateService.register(registry);
    }

    /** {@code __share_group_state}, whose partition leaders are the share coordinators (FindCoordinator SHARE). */
    public InternalTopic stateTopic() {
        return stateTopic;
    }

    private static void run(String what, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.warn("Share-group state {} failed: {}", what, e.toString());
        }
    }

    @Override
    public void close() {
        background.forEach(f -> f.cancel(false));
        coordinator.close();
        partitions.close();
    }
}
