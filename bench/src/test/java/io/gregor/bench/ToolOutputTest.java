package io.gregor.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The summary lines below are copied from Kafka 4.4.0's tools as bench/run captured them. */
class ToolOutputTest {

    @Test
    void producePerformanceFinalLineIsReadNotTheProgressLines() {
        List<String> lines = List.of(
                "158937 records sent, 31441.5 records/sec (3.00 MB/sec), 1889.5 ms avg latency, 2256.0 ms max latency.",
                "500000 records sent, 68861.038424 records/sec (6.57 MB/sec), 2230.85 ms avg latency, 2898.00 ms max "
                        + "latency, 2256 ms 50th, 2679 ms 95th, 2834 ms 99th, 2896 ms 99.9th.");
        ToolOutput.Produce p = ToolOutput.produce(lines).orElseThrow();
        assertThat(p.records()).isEqualTo(500000);
        assertThat(p.mbPerSec()).isEqualTo(6.57);
        assertThat(p.p50Ms()).isEqualTo(2256);
        assertThat(p.p99Ms()).isEqualTo(2834);
        assertThat(p.p999Ms()).isEqualTo(2896);
    }

    @Test
    void produceWithoutSummaryIsEmpty() {
        assertThat(ToolOutput.produce(List.of("org.apache.kafka.common.errors.TimeoutException: boom"))).isEmpty();
    }

    @Test
    void consumerPerformanceColumnsAreFoundByName() {
        List<String> lines = List.of("$ org.apache.kafka.tools.ConsumerPerformance ...",
                "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
                        + "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
                "2026-11-25 20:24:55:730, 2026-11-25 20:25:01:894, 47.6837, 7.7358, 500000, 81116.1583, 5129, 1035, "
                        + "46.0712, 483091.7874");
        ToolOutput.Consume c = ToolOutput.consume(lines).orElseThrow();
        assertThat(c.mb()).isEqualTo(47.6837);
        assertThat(c.mbPerSec()).isEqualTo(7.7358);
        assertThat(c.records()).isEqualTo(500000);
        assertThat(c.fetchMbPerSec()).isEqualTo(46.0712);
    }

    @Test
    void endToEndLatencySummary() {
        List<String> lines = List.of("0\t2.5", "Avg latency: 11.5543 ms", "Percentiles: 50th = 2, 99th = 221, 99.9th = 620");
        ToolOutput.Latency l = ToolOutput.latency(lines).orElseThrow();
        assertThat(l.avgMs()).isEqualTo(11.5543);
        assertThat(l.p50Ms()).isEqualTo(2);
        assertThat(l.p99Ms()).isEqualTo(221);
        assertThat(l.p999Ms()).isEqualTo(620);
    }
}
