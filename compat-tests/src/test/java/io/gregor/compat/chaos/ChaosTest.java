package io.gregor.compat.chaos;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short chaos run of the suite (about two minutes): 3 brokers on ZooKeeper under idempotent,
 * transactional and group-consuming clients while brokers are SIGKILLed, SIGSTOPped past their session,
 * SIGTERMed and cut off from ZooKeeper; the history must pass every check of {@link Checker}.
 * The long run is {@code bench/chaos --minutes N} ({@link ChaosMain}).
 */
class ChaosTest {
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void noAcknowledgedWriteIsLostDuplicatedReorderedOrAbortedReadUnderFaults() throws Exception {
        ChaosRun.Result result = new ChaosRun(Duration.ofSeconds(Long.getLong("chaos.seconds", 60)),
                List.of(Nemesis.Fault.values()), System.out, System.nanoTime()).run();

        assertThat(result.faults().keySet()).as("every kind of fault was applied")
                .containsExactlyInAnyOrder(Nemesis.Fault.values());
        assertThat(result.history().acks).as("acknowledged idempotent writes").hasSizeGreaterThan(1000);
        assertThat(result.history().txns.stream().filter(t -> t.outcome == History.Outcome.COMMITTED))
                .as("committed transactions").hasSizeGreaterThan(20);
        assertThat(result.history().reads).as("records read by the group").isNotEmpty();
        assertThat(result.history().commits).as("acknowledged offset commits").isNotEmpty();
        assertThat(result.livenessFailures()).as("the cluster heals, no transaction hangs, the group catches up")
                .isEmpty();
        assertThat(result.checker().findings()).as("checker findings").isEmpty();
    }
}
