package io.gregor.broker.handlers;

import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.gregor.broker.handlers.RealTopics.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** The configs APIs where the AdminClient cannot reach: the legacy AlterConfigs, malformed requests, old versions. */
class ConfigsHandlerTest {
    private static final byte TOPIC = ConfigResource.Type.TOPIC.id();
    private static final byte BROKER = ConfigResource.Type.BROKER.id();
    private static final byte BROKER_LOGGER = ConfigResource.Type.BROKER_LOGGER.id();

    @TempDir
    Path dir;
    private RealTopics real;
    private ConfigsHandler handler;

    @BeforeEach
    void start() {
        real = new RealTopics(dir, Map.of("broker.id", "3"));
        real.topics.create("events", 1, (short) 1, Map.of("retention.ms", "1000", "segment.bytes", "2097152"), false);
        handler = new ConfigsHandler(real.topics, real.config);
    }

    @AfterEach
    void close() {
        real.close();
    }

    private static AlterConfigsRequestData.AlterConfigsResource legacy(byte type, String name, String... keyValues) {
        AlterConfigsRequestData.AlterConfigsResource resource = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(type).setResourceName(name);
        for (int i = 0; i < keyValues.length; i += 2) {
            resource.configs().add(new AlterConfigsRequestData.AlterableConfig().setName(keyValues[i]).setValue(keyValues[i + 1]));
        }
        return resource;
    }

    private static IncrementalAlterConfigsRequestData.AlterConfigsResource incremental(byte type, String name,
                                                                                     AlterableConfig... ops) {
        IncrementalAlterConfigsRequestData.AlterConfigsResource resource =
                new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType(type).setResourceName(name);
        // The collection is keyed by (name, operation); a plain list keeps same-named operations apart.
        resource.configs().addAll(Arrays.asList(ops));
        return resource;
    }

    private static AlterableConfig op(String name, OpType type, String value) {
        return new AlterableConfig().setName(name).setConfigOperation(type.id()).setValue(value);
    }

    @Test
    void legacyAlterReplacesEveryOverride() {
        AlterConfigsRequestData request = new AlterConfigsRequestData();
        request.resources().add(legacy(TOPIC, "events", "cleanup.policy", "compact"));

        AlterConfigsResponseData response = roundTrip(handler.alterConfigs(request), (short) 0, AlterConfigsResponseData::new);

        assertThat(response.responses()).extracting(AlterConfigsResourceResponse::errorCode).containsExactly(Errors.NONE.code());
        assertThat(real.topics.topic("events").orElseThrow().configs()).isEqualTo(Map.of("cleanup.policy", "compact"));
        assertThat(real.topics.resolvedConfig("events").compact()).isTrue();
    }

    @Test
    void groupConfigsLegacyAlterReplacesThemDescribeShowsThemAndListConfigResourcesNamesTheGroup() {
        byte group = ConfigResource.Type.GROUP.id();
        AlterConfigsRequestData first = new AlterConfigsRequestData();
        first.resources().add(legacy(group, "g1", "share.auto.offset.reset", "earliest",
                "share.delivery.count.limit", "3"));
        assertThat(handler.alterConfigs(first).responses()).extracting(AlterConfigsResourceResponse::errorCode)
                .containsExactly(Errors.NONE.code());
        // the legacy API replaces all of the group's configs
        AlterConfigsRequestData second = new AlterConfigsRequestData();
        second.resources().add(legacy(group, "g1", "share.isolation.level", "read_committed"));
        second.resources().add(legacy(group, "g2", "share.delivery.count.limit", "11"));
        assertThat(handler.alterConfigs(second).responses()).extracting(AlterConfigsResourceResponse::resourceName,
                AlterConfigsResourceResponse::errorCode).containsExactly(tuple("g1", Errors.NONE.code()),
                tuple("g2", Errors.INVALID_CONFIG.code()));

        DescribeConfigsRequestData describe = new DescribeConfigsRequestData().setIncludeSynonyms(true);
        describe.resources().add(new DescribeConfigsResource().setResourceType(group).setResourceName("g1")
                .setConfigurationKeys(List.of("share.isolation.level", "share.auto.offset.reset")));
        List<DescribeConfigsResourceResult> configs = roundTrip(handler.describeConfigs(describe), (short) 4,
                DescribeConfigsResponseData::new).results().get(0).configs();
        assertThat(configs).extracting(DescribeConfigsResourceResult::name, DescribeConfigsResourceResult::value,
                DescribeConfigsResourceResult::configSource).containsExactlyInAnyOrder(
                tuple("share.isolation.level", "read_committed", (byte) 8),
                tuple("share.auto.offset.reset", "latest", (byte) 5));

        org.apache.kafka.common.message.ListConfigResourcesResponseData listed = handler.listConfigResources(
                new org.apache.kafka.common.message.ListConfigResourcesRequestData().setResourceTypes(List.of(group)),
                (short) 1, true);
        assertThat(listed.configResources()).extracting(r -> r.resourceName()).containsExactly("g1");
        assertThat(handler.listConfigResources(new org.apache.kafka.common.message.ListConfigResourcesRequestData()
                .setResourceTypes(List.of(group)), (short) 0, true).errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
    }

    @Test
    void legacyAlterRefusesBadInputPerResource() {
        AlterConfigsRequestData request = new AlterConfigsRequestData().setValidateOnly(false);
        request.resources().add(legacy(TOPIC, "events", "retention.ms", "forever"));
        request.resources().add(legacy(TOPIC, "missing", "retention.ms", "1"));
        request.resources().add(legacy(BROKER, "3", "log.dirs", "/elsewhere"));
        request.resources().add(legacy(TOPIC, "twice"));
        request.resources().add(legacy(TOPIC, "twice"));
        AlterConfigsRequestData.AlterConfigsResource nullValue = legacy(TOPIC, "events");
        nullValue.setResourceName("events-null");
        nullValue.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue(null));
        request.resources().add(nullValue);

        AlterConfigsResponseData response = handler.alterConfigs(request);

        assertThat(response.responses()).extracting(AlterConfigsResourceResponse::resourceName,
                AlterConfigsResourceResponse::errorCode).containsExactly(
                tuple("events", Errors.INVALID_CONFIG.code()),
                tuple("missing", Errors.UNKNOWN_TOPIC_OR_PARTITION.code()),
                tuple("3", Errors.INVALID_REQUEST.code()),
                tuple("events-null", Errors.INVALID_REQUEST.code()),
                tuple("twice", Errors.INVALID_REQUEST.code()));
        assertThat(real.topics.topic("events").orElseThrow().configs()).containsEntry("retention.ms", "1000");
    }

    @Test
    void incrementalAlterRefusesDuplicateKeysNullValuesAndUnknownOperations() {
        IncrementalAlterConfigsRequestData request = new IncrementalAlterConfigsRequestData();
        request.resources().add(incremental(TOPIC, "events",
                op("retention.ms", OpType.SET, "1"), op("retention.ms", OpType.DELETE, null)));
        IncrementalAlterConfigsRequestData.AlterConfigsResource nulls = incremental(TOPIC, "events",
                op("retention.ms", OpType.SET, null), op("segment.ms", OpType.APPEND, null));
        nulls.setResourceName("events-nulls");
        request.resources().add(nulls);
        request.resources().add(incremental(TOPIC, "events-unknown-op",
                new AlterableConfig().setName("retention.ms").setConfigOperation((byte) 9).setValue("1")));
        request.resources().add(incremental(BROKER_LOGGER, "3", op("root", OpType.SET, "DEBUG")));
        request.resources().add(incremental(BROKER, "", op("broker.id", OpType.SET, "1")));

        IncrementalAlterConfigsResponseData response = roundTrip(handler.incrementalAlterConfigs(request), (short) 1,
                IncrementalAlterConfigsResponseData::new);

        assertThat(response.responses()).extracting(r -> r.resourceName(), r -> r.errorCode(), r -> r.errorMessage())
                .containsExactly(
                        tuple("events", Errors.INVALID_REQUEST.code(), "Error due to duplicate config keys"),
                        tuple("events-nulls", Errors.INVALID_REQUEST.code(), "Null value not supported for : retention.ms, segment.ms"),
                        tuple("events-unknown-op", Errors.INVALID_REQUEST.code(),
                                "Unknown config operation type 9 for key retention.ms"),
                        // tests log through slf4j-simple, whose levels cannot change
                        tuple("3", Errors.INVALID_REQUEST.code(), "Log levels cannot be changed at runtime: this broker "
                                + "logs through org.slf4j.simple.SimpleLoggerFactory, not Gregor's logging (gregor-server-start)"),
                        tuple("", Errors.INVALID_REQUEST.code(), "Cannot update these configs dynamically: Set(broker.id)"));
        assertThat(real.topics.topic("events").orElseThrow().configs()).containsEntry("retention.ms", "1000");
    }

    @Test
    void incrementalAlterRefusesAResourceGivenTwiceAndDeletesUnsetKeysQuietly() {
        IncrementalAlterConfigsRequestData request = new IncrementalAlterConfigsRequestData();
        request.resources().add(incremental(TOPIC, "events", op("segment.bytes", OpType.DELETE, null),
                op("flush.ms", OpType.DELETE, null)));
        request.resources().add(incremental(TOPIC, "other", op("retention.ms", OpType.SET, "1")));
        request.resources().add(incremental(TOPIC, "other", op("retention.ms", OpType.SET, "2")));

        IncrementalAlterConfigsResponseData response = handler.incrementalAlterConfigs(request);

        assertThat(response.responses()).extracting(r -> r.resourceName(), r -> r.errorCode(), r -> r.errorMessage())
                .containsExactly(tuple("events", Errors.NONE.code(), null),
                        tuple("other", Errors.INVALID_REQUEST.code(), "Each resource must appear at most once."));
        assertThat(real.topics.topic("events").orElseThrow().configs()).isEqualTo(Map.of("retention.ms", "1000"));
    }

    @Test
    void describeFiltersKeysAndEncodesAtEveryVersion() {
        for (short version = 1; version <= 4; version++) {
            DescribeConfigsRequestData request = new DescribeConfigsRequestData()
                    .setIncludeSynonyms(true).setIncludeDocumentation(true);
            request.resources().add(new DescribeConfigsResource().setResourceType(TOPIC).setResourceName("events")
                    .setConfigurationKeys(List.of("retention.ms", "no.such.key")));
            request.resources().add(new DescribeConfigsResource().setResourceType(BROKER).setResourceName("3")
                    .setConfigurationKeys(List.of("broker.id")));

            DescribeConfigsResponseData response = roundTrip(handler.describeConfigs(request), version,
                    DescribeConfigsResponseData::new);

            DescribeConfigsResourceResult retention = response.results().get(0).configs().get(0);
            assertThat(response.results().get(0).configs()).hasSize(1);
            assertThat(retention.name()).isEqualTo("retention.ms");
            assertThat(retention.value()).isEqualTo("1000");
            assertThat(retention.configSource()).isEqualTo((byte) 1);
            assertThat(retention.synonyms()).extracting(s -> s.name()).containsExactly("retention.ms", "log.retention.hours");
            if (version >= 3) {
                assertThat(retention.documentation()).isNotBlank();
            }
            assertThat(retention.configType()).isEqualTo(version >= 3 ? (byte) 5 : (byte) 0);
            DescribeConfigsResourceResult brokerId = response.results().get(1).configs().get(0);
            assertThat(brokerId.value()).isEqualTo("3");
            assertThat(brokerId.readOnly()).isTrue();
            assertThat(brokerId.configSource()).isEqualTo((byte) 4);
        }
    }

    @Test
    void describeRefusesUnsupportedTypesAndOtherBrokers() {
        DescribeConfigsRequestData request = new DescribeConfigsRequestData();
        request.resources().add(new DescribeConfigsResource().setResourceType(ConfigResource.Type.CLIENT_METRICS.id())
                .setResourceName("g").setConfigurationKeys(null));
        request.resources().add(new DescribeConfigsResource().setResourceType(BROKER).setResourceName("zero")
                .setConfigurationKeys(null));
        request.resources().add(new DescribeConfigsResource().setResourceType(BROKER_LOGGER).setResourceName("")
                .setConfigurationKeys(null));
        request.resources().add(new DescribeConfigsResource().setResourceType(BROKER_LOGGER).setResourceName("0")
                .setConfigurationKeys(null));
        request.resources().add(new DescribeConfigsResource().setResourceType(TOPIC).setResourceName("bad name")
                .setConfigurationKeys(null));

        DescribeConfigsResponseData response = handler.describeConfigs(request);

        assertThat(response.results()).extracting(DescribeConfigsResult::errorCode, DescribeConfigsResult::errorMessage)
                .containsExactly(
                        tuple(Errors.INVALID_REQUEST.code(), "Unsupported resource type: 16"),
                        tuple(Errors.INVALID_REQUEST.code(), "Broker id must be an integer, but it is: zero"),
                        tuple(Errors.INVALID_REQUEST.code(), "Broker id must not be empty"),
                        tuple(Errors.INVALID_REQUEST.code(), "Unexpected broker id, expected 3 but received 0"),
                        tuple(Errors.INVALID_TOPIC_EXCEPTION.code(), response.results().get(4).errorMessage()));
        assertThat(response.results().get(4).errorMessage()).contains("bad name");
        assertThat(response.results()).allSatisfy(r -> assertThat(r.configs()).isEmpty());
    }
}
