package io.gregor.broker.logging;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.TimeZone;

/**
 * Writes {@code yyyy-MM-dd HH:mm:ss,SSS [thread] LEVEL ShortName - message} lines, a throwable's stack
 * trace in the same write so concurrent lines never interleave with it.
 */
final class ConsoleLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    private static final TimeZone ZONE = TimeZone.getDefault();

    private final transient PrintStream out;
    /** Changed at runtime through {@link BrokerLoggers} (kafka-configs --entity-type broker-loggers). */
    private volatile int threshold;
    private final String shortName;

    ConsoleLogger(String name, int threshold, PrintStream out) {
        this.name = name;
        this.threshold = threshold;
        this.out = out;
        this.shortName = name.substring(name.lastIndexOf('.') + 1);
    }

    void threshold(int threshold) {
        this.threshold = threshold;
    }

    int threshold() {
        return threshold;
    }

    @Override
    public boolean isTraceEnabled() {
        return threshold <= Level.TRACE.toInt();
    }

    @Override
    public boolean isDebugEnabled() {
        return threshold <= Level.DEBUG.toInt();
    }

    @Override
    public boolean isInfoEnabled() {
        return threshold <= Level.INFO.toInt();
    }

    @Override
    public boolean isWarnEnabled() {
        return threshold <= Level.WARN.toInt();
    }

    @Override
    public boolean isErrorEnabled() {
        return threshold <= Level.ERROR.toInt();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
                                               Throwable throwable) {
        StringBuilder line = new StringBuilder(128);
        appendTimestamp(line, System.currentTimeMillis());
        line.append(" [").append(Thread.currentThread().getName()).append("] ").append(level.name()).append(' ')
                .append(shortName).append(" - ").append(MessageFormatter.basicArrayFormat(messagePattern, arguments));
        if (throwable != null) {
            StringWriter trace = new StringWriter();
            throwable.printStackTrace(new PrintWriter(trace));
            line.append(System.lineSeparator()).append(trace.toString().stripTrailing());
        }
        out.println(line);
    }

    /** Local time by arithmetic: a date formatter would load locale data on the broker's first log line. */
    static void appendTimestamp(StringBuilder sb, long epochMillis) {
        int offsetSeconds = ZONE.getOffset(epochMillis) / 1000;
        LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000L),
                (int) Math.floorMod(epochMillis, 1000L) * 1_000_000, ZoneOffset.ofTotalSeconds(offsetSeconds));
        sb.append(t.getYear()).append('-');
        pad(sb, t.getMonthValue(), 2).append('-');
        pad(sb, t.getDayOfMonth(), 2).append(' ');
        pad(sb, t.getHour(), 2).append(':');
        pad(sb, t.getMinute(), 2).append(':');
        pad(sb, t.getSecond(), 2).append(',');
        pad(sb, t.getNano() / 1_000_000, 3);
    }

    private static StringBuilder pad(StringBuilder sb, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            sb.append('0');
        }
        return sb.append(digits);
    }
}
