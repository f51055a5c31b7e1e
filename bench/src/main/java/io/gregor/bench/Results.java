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

    private final Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
    private final Map<String, List<String>> failures = new LinkedHashMap<>();

    synchronized void add(String figure, String broker, double value) {
        values.computeIfAbsent(figure, f -> new LinkedHashMap<>())
                .computeIfAbsent(broker, b -> new ArrayList<>()).add(value);
    }

    /** A figure that could not be taken this round (the tool failed); shown in the table as such. */
    synchronized void fail(String figure, String broker, String why) {
        values.computeIfAbsent(figure, f -> new LinkedHashMap<>());
        failures.computeIfAbsent(figure + "|" + broker, k -> new ArrayList<>()).add(why);
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
        out.append(String.format(Locale.ROOT, "%-" + width + "s %24s %24s %13s%n", "figure", "Kafka", "Gregor",
                "Gregor/Kafka"));
        out.append("-".repeat(width + 64)).append('\n');
        for (Map.Entry<String, Map<String, List<Double>>> e : values.entrySet()) {
            List<Double> k = e.getValue().get(KAFKA);
            List<Double> g = e.getValue().get(GREGOR);
            String ratio = k != null && g != null && median(k) != 0
                    ? String.format(Locale.ROOT, "%.2f", median(g) / median(k)) : "-";
            out.append(String.format(Locale.ROOT, "%-" + width + "s %24s %24s %13s%n", e.getKey(),
                    cell(e.getKey(), KAFKA, k), cell(e.getKey(), GREGOR, g), ratio));
        }
        out.append("Values are medians over rounds (the start row: over every timed start), [min..max] beside them; 'failed' cells: see the notes below.\n");
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
