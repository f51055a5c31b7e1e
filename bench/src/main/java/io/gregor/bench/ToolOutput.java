package io.gregor.bench;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the summary lines Kafka's load tools (4.x) print. */
final class ToolOutput {
    private ToolOutput() {
    }

    /** ProducerPerformance's final line. Latencies in ms. */
    record Produce(long records, double recordsPerSec, double mbPerSec, double avgLatencyMs, double p50Ms,
                   double p99Ms, double p999Ms) {
    }

    /** ConsumerPerformance's summary (MB = 1024*1024 bytes, as the tool counts). */
    record Consume(double mb, double mbPerSec, long records, double recordsPerSec, double fetchMbPerSec) {
    }

    /** EndToEndLatency's summary, in ms. */
    record Latency(double avgMs, double p50Ms, double p99Ms, double p999Ms) {
    }

    private static final Pattern PRODUCE = Pattern.compile(
            "^(\\d+) records sent, ([\\d.]+) records/sec \\(([\\d.]+) MB/sec\\), ([\\d.]+) ms avg latency, "
                    + "[\\d.]+ ms max latency, ([\\d.]+) ms 50th, [\\d.]+ ms 95th, ([\\d.]+) ms 99th, ([\\d.]+) ms 99.9th");
    private static final Pattern AVG = Pattern.compile("^Avg latency: ([\\d.]+) ms");
    private static final Pattern PERCENTILES = Pattern.compile(
            "^Percentiles: 50th = (\\d+), 99th = (\\d+), 99.9th = (\\d+)");

    static Optional<Produce> produce(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            Matcher m = PRODUCE.matcher(lines.get(i).trim());
            if (m.find()) {
                return Optional.of(new Produce(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)),
                        Double.parseDouble(m.group(3)), Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5)),
                        Double.parseDouble(m.group(6)), Double.parseDouble(m.group(7))));
            }
        }
        return Optional.empty();
    }

    /** The header line names the columns; the line after it holds the values. */
    static Optional<Consume> consume(List<String> lines) {
        for (int i = 0; i + 1 < lines.size(); i++) {
            String header = lines.get(i).trim();
            if (!header.startsWith("start.time")) {
                continue;
            }
            List<String> names = List.of(header.split("\\s*,\\s*"));
            String[] values = lines.get(i + 1).trim().split("\\s*,\\s*");
            if (values.length != names.size()) {
                return Optional.empty();
            }
            return Optional.of(new Consume(
                    Double.parseDouble(values[names.indexOf("data.consumed.in.MB")]),
                    Double.parseDouble(values[names.indexOf("MB.sec")]),
                    Long.parseLong(values[names.indexOf("data.consumed.in.nMsg")]),
                    Double.parseDouble(values[names.indexOf("nMsg.sec")]),
                    Double.parseDouble(values[names.indexOf("fetch.MB.sec")])));
        }
        return Optional.empty();
    }

    static Optional<Latency> latency(List<String> lines) {
        Double avg = null;
        for (String line : lines) {
            Matcher a = AVG.matcher(line.trim());
            if (a.find()) {
                avg = Double.parseDouble(a.group(1));
            }
            Matcher p = PERCENTILES.matcher(line.trim());
            if (p.find() && avg != null) {
                return Optional.of(new Latency(avg, Double.parseDouble(p.group(1)), Double.parseDouble(p.group(2)),
                        Double.parseDouble(p.group(3))));
            }
        }
        return Optional.empty();
    }
}
