package io.gregor.broker.zk;

import java.util.List;

/** Kafka's ZooKeeper-mode znode layout (kafka.zk.ZkData in Kafka 3.9). */
final class ZkPaths {
    static final String BROKERS = "/brokers";
    static final String BROKER_IDS = "/brokers/ids";
    static final String BROKER_TOPICS = "/brokers/topics";
    static final String BROKER_SEQID = "/brokers/seqid";
    static final String CLUSTER_ID = "/cluster/id";
    static final String CONTROLLER = "/controller";
    static final String CONTROLLER_EPOCH = "/controller_epoch";
    static final String CONFIG_TOPICS = "/config/topics";
    static final String CONFIG_CHANGES = "/config/changes";
    static final String CONFIG_USERS = "/config/users";
    static final String CONFIG_BROKERS = "/config/brokers";
    static final String CONFIG_CLIENTS = "/config/clients";
    /** Gregor's own: Kafka's ZooKeeper mode had no group configs; the entity path follows the other config types. */
    static final String CONFIG_GROUPS = "/config/groups";
    static final String DELETE_TOPICS = "/admin/delete_topics";
    static final String PREFERRED_ELECTION = "/admin/preferred_replica_election";
    static final String REASSIGN_PARTITIONS = "/admin/reassign_partitions";
    /** Gregor's own, in the preferred election's JSON shape: Kafka's ZooKeeper mode had no unclean election request. */
    static final String UNCLEAN_ELECTION = "/admin/unclean_leader_election";
    static final String ISR_CHANGES = "/isr_change_notification";
    static final String PRODUCER_ID_BLOCK = "/latest_producer_id_block";

    /** What a Kafka broker creates at start (KafkaZkClient.createTopLevelPaths). */
    static final List<String> PERSISTENT = List.of("/consumers", BROKER_IDS, BROKER_TOPICS, CONFIG_CHANGES,
            CONFIG_CLIENTS, CONFIG_USERS, CONFIG_BROKERS, "/config/ips", CONFIG_TOPICS, CONFIG_GROUPS, DELETE_TOPICS,
            BROKER_SEQID, ISR_CHANGES, PRODUCER_ID_BLOCK, "/log_dir_event_notification");

    private ZkPaths() {
    }

    static String broker(int id) {
        return BROKER_IDS + "/" + id;
    }

    static String topic(String topic) {
        return BROKER_TOPICS + "/" + topic;
    }

    static String partitions(String topic) {
        return topic(topic) + "/partitions";
    }

    static String partition(String topic, int partition) {
        return partitions(topic) + "/" + partition;
    }

    static String state(String topic, int partition) {
        return partition(topic, partition) + "/state";
    }

    static String topicConfig(String topic) {
        return CONFIG_TOPICS + "/" + topic;
    }

    /** Kafka sanitizes user names (URL encoding) into znode names. */
    static String userConfig(String user) {
        // the default user's quotas sit at /config/users/<default>, unsanitized as Kafka wrote it
        return CONFIG_USERS + "/" + ("<default>".equals(user) ? user
                : org.apache.kafka.common.utils.internals.Sanitizer.sanitize(user));
    }

    /** A broker id, or {@code <default>} for the cluster-wide dynamic defaults. */
    static String brokerConfig(String entity) {
        return CONFIG_BROKERS + "/" + entity;
    }

    /** Group ids are sanitized (URL encoding) into znode names, as Kafka does with user names. */
    static String groupConfig(String group) {
        return CONFIG_GROUPS + "/" + org.apache.kafka.common.utils.internals.Sanitizer.sanitize(group);
    }

    static String deleteTopic(String topic) {
        return DELETE_TOPICS + "/" + topic;
    }
}
