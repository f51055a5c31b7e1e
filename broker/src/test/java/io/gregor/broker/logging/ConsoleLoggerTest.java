package io.gregor.broker.logging;

import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class ConsoleLoggerTest {

    @Test
    void timestampsMatchJavaTimesLocalFormatting() {
        DateTimeFormatter expected = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS").withZone(ZoneId.systemDefault());
        for (long millis : new long[] {0L, 7L, 999L, 1_000L, 951_782_400_005L /* 2000-02-29 */, 1_798_761_599_999L,
                System.currentTimeMillis()}) {
            StringBuilder sb = new StringBuilder();
            ConsoleLogger.appendTimestamp(sb, millis);
            assertThat(sb.toString()).as("%d", millis).isEqualTo(expected.format(Instant.ofEpochMilli(millis)));
        }
    }

    @Test
    void oneWriteHoldsTheMessageAndItsStackTrace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleLogger log = new ConsoleLogger("io.gregor.storage.FileLog", Level.INFO.toInt(),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        log.debug("hidden {}", 1);
        log.warn("append to {} failed", "t-0", new IllegalStateException("disk gone"));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).doesNotContain("hidden");
        assertThat(out).containsPattern("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2},\\d{3} \\["
                + Thread.currentThread().getName() + "] WARN FileLog - append to t-0 failed\\R"
                + "java.lang.IllegalStateException: disk gone\\R\\s+at ");
    }

    @Test
    void theLongestConfiguredPrefixDecidesAndOffSilences() {
        LogLevels levels = new LogLevels(Level.INFO.toInt(), Map.of(
                "io.gregor", Level.DEBUG.toInt(),
                "io.gregor.storage", Level.ERROR.toInt(),
                "io.gregor.storage.LogCleaner", LogLevels.OFF));
        assertThat(levels.thresholdOf("org.apache.zookeeper.ClientCnxn")).isEqualTo(Level.INFO.toInt());
        assertThat(levels.thresholdOf("io.gregor.broker.Broker")).isEqualTo(Level.DEBUG.toInt());
        assertThat(levels.thresholdOf("io.gregor.storage.FileLog")).isEqualTo(Level.ERROR.toInt());
        assertThat(levels.thresholdOf("io.gregor.storage.LogCleaner")).isEqualTo(LogLevels.OFF);
        assertThat(levels.thresholdOf("io.gregorian.Other")).isEqualTo(Level.INFO.toInt());
        assertThat(LogLevels.parse("k", " Warn ")).isEqualTo(Level.WARN.toInt());
    }

    @Test
    void anInvalidLevelLeavesWhatWouldHoldWithoutIt() {
        Properties properties = new Properties();
        properties.setProperty("gregor.log.level", "loud");
        properties.setProperty("gregor.log.level.io.netty", "bogus");
        properties.setProperty("gregor.log.level.io.gregor.storage", "nonsense");
        properties.setProperty("gregor.log.level.io.gregor", "debug");
        LogLevels levels = LogLevels.from(properties);
        assertThat(levels.thresholdOf("io.netty.channel.epoll.EpollEventLoop")).isEqualTo(Level.WARN.toInt());
        assertThat(levels.thresholdOf("io.gregor.storage.FileLog")).isEqualTo(Level.DEBUG.toInt());
        assertThat(levels.thresholdOf("org.apache.zookeeper.ClientCnxn")).isEqualTo(Level.INFO.toInt());
    }
}
