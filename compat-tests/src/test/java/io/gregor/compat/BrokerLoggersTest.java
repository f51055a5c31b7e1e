package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@code kafka-configs --entity-type broker-loggers} against a broker process (Gregor's own logging, as
 * gregor-server-start runs it): loggers are listed, a level changes live, and bad changes get Kafka's errors.
 */
class BrokerLoggersTest {
    private BrokerProcess broker;

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private ToolRunner.Result configs(String... args) {
        String[] all = new String[args.length + 6];
        System.arraycopy(new String[]{"--bootstrap-server", broker.bootstrapServers(), "--entity-type", "broker-loggers",
                "--entity-name", "0"}, 0, all, 0, 6);
        System.arraycopy(args, 0, all, 6, args.length);
        return ToolRunner.runTool(ToolRunner.CONFIG_COMMAND, all);
    }

    /** The broker logs a refused config change at DEBUG (and nothing at INFO) on the logger io.gregor.broker.handlers.TopicAdminHandler. */
    private void provokeDebugLine(Admin admin, String marker) {
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, marker);
        assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(missing, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.SET)))).all().get());
    }

    private String output() throws Exception {
        return Files.readString(broker.outputFile());
    }

    @Test
    void aLevelChangesLiveAndComesBackWhenDeleted() throws Exception {
        broker = new BrokerProcess("loggers", Map.of("broker.id", "0")).start();
        ToolRunner.Result describe = configs("--describe");
        assertThat(describe.exitCode()).as(describe.describe()).isZero();
        assertThat(describe.stdout()).as(describe.describe()).contains("root=INFO sensitive=false synonyms={}",
                "io.gregor=INFO", "io.gregor.broker.Broker=INFO");

        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            provokeDebugLine(admin, "before-debug");
            ToolRunner.Result alter = configs("--alter", "--add-config", "io.gregor=DEBUG");
            assertThat(alter.exitCode()).as(alter.describe()).isZero();
            assertThat(configs("--describe").stdout()).contains("io.gregor=DEBUG", "io.gregor.broker.Broker=DEBUG",
                    "root=INFO");

            provokeDebugLine(admin, "while-debug");
            await().atMost(Duration.ofSeconds(10)).until(() -> output().contains("while-debug"));
            assertThat(output()).contains("DEBUG TopicAdminHandler - Refused to alter configs of while-debug")
                    .doesNotContain("before-debug");

            ToolRunner.Result delete = configs("--alter", "--delete-config", "io.gregor");
            assertThat(delete.exitCode()).as(delete.describe()).isZero();
            assertThat(configs("--describe").stdout()).contains("io.gregor.broker.Broker=INFO");
            provokeDebugLine(admin, "after-debug");
            // a later INFO line shows the broker logged past the refusal without printing it
            ToolRunner.Result infoMarker = configs("--alter", "--add-config", "io.gregor.broker.Broker=INFO");
            assertThat(infoMarker.exitCode()).as(infoMarker.describe()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> output().contains("Log level of io.gregor.broker.Broker set to INFO"));
            assertThat(output()).doesNotContain("after-debug");
        }
    }

    @Test
    void badLoggerChangesGetKafkasErrors() throws Exception {
        broker = new BrokerProcess("loggers-bad", Map.of("broker.id", "0")).start();

        ToolRunner.Result unknownByTool = configs("--alter", "--add-config", "no.such.logger=DEBUG");
        assertThat(unknownByTool.exitCode()).as(unknownByTool.describe()).isNotZero();
        assertThat(unknownByTool.stdout() + unknownByTool.stderr()).as(unknownByTool.describe())
                .contains("Invalid broker logger(s): no.such.logger");

        ConfigResource loggers = new ConfigResource(ConfigResource.Type.BROKER_LOGGER, "0");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            ExecutionException badLevel = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(loggers, List.of(new AlterConfigOp(new ConfigEntry("io.gregor", "LOUD"),
                            AlterConfigOp.OpType.SET)))).all().get());
            assertThat(badLevel.getCause()).isInstanceOf(InvalidConfigurationException.class)
                    .hasMessageContaining("Cannot set the log level of io.gregor to LOUD as it is not a supported log level.");

            ExecutionException unknown = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(loggers, List.of(new AlterConfigOp(new ConfigEntry("no.such.logger", "DEBUG"),
                            AlterConfigOp.OpType.SET)))).all().get());
            assertThat(unknown.getCause()).isInstanceOf(InvalidConfigurationException.class)
                    .hasMessage("Logger no.such.logger does not exist!");

            ExecutionException root = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(loggers, List.of(new AlterConfigOp(new ConfigEntry("root", ""),
                            AlterConfigOp.OpType.DELETE)))).all().get());
            assertThat(root.getCause()).isInstanceOf(InvalidRequestException.class)
                    .hasMessage("Removing the log level of the root logger is not allowed");

            ExecutionException append = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(loggers, List.of(new AlterConfigOp(new ConfigEntry("io.gregor", "DEBUG"),
                            AlterConfigOp.OpType.APPEND)))).all().get());
            assertThat(append.getCause()).isInstanceOf(InvalidRequestException.class)
                    .hasMessage("APPEND operation is not allowed for the BROKER_LOGGER resource");
        }
        assertThat(configs("--describe").stdout()).contains("io.gregor=INFO");
    }
}
