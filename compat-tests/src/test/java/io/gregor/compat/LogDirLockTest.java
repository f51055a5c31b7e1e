package io.gregor.compat;

import io.gregor.broker.Broker;
import io.gregor.config.ConfigException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Kafka's {@code .lock} file: a log dir belongs to one broker at a time. A second broker on it refuses to
 * start and names the dir; once the first is gone (even killed), the dir can be taken.
 */
class LogDirLockTest {

    @Test
    void aSecondBrokerProcessOnTheSameLogDirRefusesToStartUntilTheFirstIsGone() throws Exception {
        String topic = TestDirs.uniqueTopic("locked");
        try (BrokerProcess first = new BrokerProcess("lock-first", Map.of()).start();
             BrokerProcess second = new BrokerProcess("lock-second", Map.of("log.dirs", first.logDir().toString()))) {
            assertThatThrownBy(second::start).hasMessageContaining("exited with 1")
                    .hasMessageContaining("Invalid value " + first.logDir() + " for configuration log.dirs")
                    .hasMessageContaining(first.logDir().resolve(".lock").toString());

            Clients.createTopic(first.bootstrapServers(), topic, 1);
            try (KafkaProducer<String, String> producer = Clients.producer(first.bootstrapServers())) {
                Clients.get(producer.send(new ProducerRecord<>(topic, "kept")));
            }

            first.kill();
            second.start(); // the kernel dropped the killed broker's lock
            try (Admin admin = Clients.admin(second.bootstrapServers())) {
                assertThat(Clients.get(admin.listTopics().names())).contains(topic);
            }
        }
    }

    @Test
    void brokersInOneJvmNeedTheirOwnDirsAndAClosedBrokerLetsGoOfItsDir() {
        try (TestBroker first = TestBroker.start("lock-jvm-first", Map.of());
             TestBroker other = TestBroker.start("lock-jvm-other", Map.of())) {
            // Broker itself: the testkit under TestBroker picks its own dirs and refuses a log.dirs setting
            assertThatThrownBy(() -> Broker.start(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
                    "log.dirs", first.logDir().toString())))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("Invalid value " + first.logDir() + " for configuration log.dirs")
                    .hasMessageContaining("failed to acquire the lock");
            assertThat(other.isRunning()).isTrue();

            first.restart();
            Clients.createTopic(first.bootstrapServers(), TestDirs.uniqueTopic("after-restart"), 1);
        }
    }
}
