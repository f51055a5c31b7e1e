package io.gregor.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ResultsTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertThat(Results.median(List.of(5.0, 1.0, 3.0))).isEqualTo(3.0);
        assertThat(Results.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
    }

    @Test
    void tableShowsMediansSpreadRatioAndFailures() {
        Results r = new Results();
        for (double v : new double[] {10, 30, 20}) {
            r.add("produce: MB/s", Results.KAFKA, v);
        }
        for (double v : new double[] {40, 50, 45}) {
            r.add("produce: MB/s", Results.GREGOR, v);
        }
        r.add("consume: MB/s", Results.KAFKA, 80);
        r.fail("consume: MB/s", Results.GREGOR, "exit 1: no FIND_COORDINATOR");
        String table = r.table();
        assertThat(table).containsPattern("produce: MB/s +20.0 \\[10.0\\.\\.30.0\\] +45.0 \\[40.0\\.\\.50.0\\] +2.25");
        assertThat(table).containsPattern("consume: MB/s +80.0 +failed +-");
        assertThat(table).contains("note: consume: MB/s on Gregor: exit 1: no FIND_COORDINATOR");
    }
}
