package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** __consumer_offsets belongs to the group coordinator, whoever names it first. */
class InternalTopicTest {
    private static final String OFFSETS = "__consumer_offsets";

    @RegisterExtension
    static final BrokerExtension BROKER = new BrokerExtension(Map.of("num.partitions", "3"));

    @Test
    void namingTheOffsetsTopicCreatesItWithTheCoordinatorsSettingsAndClientsCannotWriteToIt() throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(BROKER.bootstrapServers(),
                Map.of("retries", 0, "enable.idempotence", false, "acks", "1"));
             Admin admin = Clients.admin(BROKER.bootstrapServers())) {
            // A Metadata request with auto-creation names it before any consumer group exists.
            List<PartitionInfo> partitions = producer.partitionsFor(OFFSETS);
            assertThat(partitions).as("offsets.topic.num.partitions, not num.partitions").hasSize(50);

            Config config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, OFFSETS)))
                    .all().get(30, TimeUnit.SECONDS).get(new ConfigResource(ConfigResource.Type.TOPIC, OFFSETS));
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
            assertThat(admin.describeTopics(List.of(OFFSETS)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(OFFSETS).isInternal()).isTrue();

            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(OFFSETS, 0, "k", "v")).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(InvalidTopicException.class);
        }
    }
}
