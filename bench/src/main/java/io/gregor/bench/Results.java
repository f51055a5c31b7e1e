package io.gregor.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Every figure's values per broker across rounds, and the side-by-side table of their medians. */
final class Results {
    static final String KAFKA = "Kafka";
    static final String GREGOR = "Gregor";
    static final String EMBEDDED_KAFKA = "EmbeddedKafka";

    private final Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
    private final Map<String, List<String>> failures = new LinkedHashMap<>();
    /** The column Gregor is compared with, and what the line under the table says about the values. */
    private final String baseline;
    private final String footer;

    /** bench/run's table: Gregor against Kafka's broker. */
    Results() {
        this(KAFKA, "Values are medians over rounds (the start row: over every timed start), [min..max] beside them; 'failed' cells: see the notes below.");
    }

    Results(String baseline, String footer) {
        this.baseline = baseline;
        this.footer = footer;
    }

    synchronized void add(String figure, String broker, double value) {
        values.computeIfAbsent(figure, f -> new LinkedHashMap<>())
                .computeIfAbsent(broker, b -> new ArrayList<>()).add(value);
    }

    /** A figure that could not be taken this round (the tool failed); shown in the table as such. */
    synchronized void fail(String figure, String broker, String why) {
        values.computeIfAbsent(figure, f -> new LinkedHashMap<>());
        failures.computeIfAbsent(figure + "|" + broker, k -> new ArrayList<>()).add(why);
    }

    /** The median of a figure's values for one broker, if it has any. */
    synchronized java.util.Optional<Double> median(String figure, String broker) {
        List<Double> xs = values.getOrDefault(figure, Map.of()).get(broker);
        return xs == null || xs.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(median(xs));
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    synchronized String table() {
        int width = Math.max(40, values.keySet().stream().mapToInt(String::length).max().orElse(0) + 2);
        StringBuilder out = new StringBuilder();
        String ratioHeader = GREGOR + "/" + baseline;
        int ratioWidth = Math.max(13, ratioHeader.length() + 1);
        String row = "%-" + width + "s %24s %24s %" + ratioWidth + "s%n";
        out.append(String.format(Locale.ROOT, row, "figure", baseline, GREGOR, ratioHeader));
        out.append("-".repeat(width + 51 + ratioWidth)).append('\n');
        for (Map.Entry<String, Map<String, List<Double>>> e : values.entrySet()) {
            List<Double> k = e.getValue().get(baseline);
            List<Double> g = e.getValue().get(GREGOR);
            String ratio = k != null && g != null && median(k) != 0
                    ? String.format(Locale.ROOT, "%.2f", median(g) / median(k)) : "-";
            out.append(String.format(Locale.ROOT, row, e.getKey(),
                    cell(e.getKey(), baseline, k), cell(e.getKey(), GREGOR, g), ratio));
        }
        out.append(footer).append('\n');
        for (Map.Entry<String, List<String>> f : failures.entrySet()) {
            out.append("note: ").append(f.getKey().replace("|", " on ")).append(": ")
                    .append(String.join("; ", f.getValue().stream().distinct().toList())).append('\n');
        }
        return out.toString();
    }

    private String cell(String figure, String broker, List<Double> xs) {
        if (xs == null || xs.isEmpty()) {
            return failures.containsKey(figure + "|" + broker) ? "failed" : "-";
        }
        String m = num(median(xs));
        if (xs.size() == 1) {
            return m;
        }
        double min = xs.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = xs.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return m + " [" + num(min) + ".." + num(max) + "]";
    }

    static String num(double v) {
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
