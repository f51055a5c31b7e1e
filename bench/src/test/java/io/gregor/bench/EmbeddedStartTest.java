package io.gregor.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedStartTest {

    @Test
    void readsOnlyTheSubjectsResultLinesAmongItsLogging() {
        Map<String, List<Double>> figures = EmbeddedStart.parse(List.of(
                "result\theap_before_mib\t3.500",
                "[2026-12-07 02:50:00,000] WARN something\tlogged (org.apache.kafka)",
                "result\tfirst_start_ms\t212.250",
                "result\tlater_start_ms\t40.000",
                "result\tlater_start_ms\t38.500"));
        assertThat(figures).containsOnlyKeys("heap_before_mib", "first_start_ms", "later_start_ms");
        assertThat(figures.get("later_start_ms")).containsExactly(40.0, 38.5);
    }

    @Test
    void subjectsAreProductAndBrokerCount() {
        EmbeddedStart.Subject s = EmbeddedStart.Subject.parse("embedded-kafka-3");
        assertThat(s.product()).isEqualTo("embedded-kafka");
        assertThat(s.brokers()).isEqualTo(3);
        assertThat(s.column()).isEqualTo(Results.EMBEDDED_KAFKA);
        assertThat(s.rowPrefix()).isEqualTo("3 brokers: ");
        assertThatThrownBy(() -> EmbeddedStart.Subject.parse("redpanda-1")).hasMessageContaining("unknown subject");
    }

    @Test
    void tableComparesGregorWithTheNamedBaseline() {
        Results r = new Results(Results.EMBEDDED_KAFKA, "footer line");
        r.add("1 broker: first start to Metadata answer (ms)", Results.EMBEDDED_KAFKA, 4000);
        r.add("1 broker: first start to Metadata answer (ms)", Results.GREGOR, 200);
        String table = r.table();
        assertThat(table).containsPattern("figure +EmbeddedKafka +Gregor +Gregor/EmbeddedKafka");
        assertThat(table).containsPattern("1 broker: first start to Metadata answer \\(ms\\) +4000 +200 +0.05");
        assertThat(table).contains("footer line");
        assertThat(r.median("1 broker: first start to Metadata answer (ms)", Results.GREGOR)).contains(200.0);
        assertThat(r.median("no such figure", Results.GREGOR)).isEmpty();
    }

    @Test
    void namesTheVersionsOnTheEmbeddedKafkaClasspath() {
        String cp = "/r/org/springframework/kafka/spring-kafka-test/4.2.0/spring-kafka-test-4.2.0.jar"
                + ":/r/org/apache/kafka/kafka-server-common/4.4.0/kafka-server-common-4.4.0-test.jar"
                + ":/r/org/apache/kafka/kafka-server/4.4.0/kafka-server-4.4.0.jar";
        assertThat(EmbeddedStart.jarVersion(cp, "spring-kafka-test")).isEqualTo("4.2.0");
        assertThat(EmbeddedStart.jarVersion(cp, "kafka-server")).isEqualTo("4.4.0");
        assertThat(EmbeddedStart.jarVersion(cp, "kafka-streams")).isEqualTo("?");
    }
}
