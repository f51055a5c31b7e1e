package io.gregor.broker.replica;

import io.gregor.storage.TopicPartition;
import io.gregor.storage.errors.KafkaStorageException;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A log dir that cannot be written is reported once when appends start failing and once when they
 * succeed again, however many appends fail in between. The failure is a real one: a write to
 * /dev/full, which fails as a full disk does (ENOSPC).
 */
class LogDirHealthTest {
    private static final Path DIR_A = Path.of("/data/a");
    private static final Path DIR_B = Path.of("/data/b");
    private static final TopicPartition A0 = new TopicPartition("t", 0);
    private static final TopicPartition A1 = new TopicPartition("t", 1);
    private static final TopicPartition B0 = new TopicPartition("u", 0);

    private final RecordingLogger log = new RecordingLogger();
    private final LogDirHealth health = new LogDirHealth(
            Map.of(A0, DIR_A, A1, DIR_A, B0, DIR_B)::get, log);

    @Test
    void aFullDiskIsLoggedOncePerDirAndItsRecoveryOnce() {
        KafkaStorageException full = writeToAFullDisk();
        for (int i = 0; i < 100; i++) {
            health.appendFailed(i % 2 == 0 ? A0 : A1, full);
        }
        assertThat(log.lines).hasSize(1);
        assertThat(log.lines.get(0)).startsWith("ERROR Log dir /data/a cannot be written (java.io.IOException: No space left on device");
        assertThat(health.isFailing(DIR_A)).isTrue();

        health.appendFailed(B0, full);
        health.appendSucceeded(A0);
        health.appendSucceeded(A1);
        health.appendSucceeded(A0);
        assertThat(log.lines).hasSize(3);
        assertThat(log.lines.get(1)).startsWith("ERROR Log dir /data/b cannot be written");
        assertThat(log.lines.get(2)).startsWith("INFO Log dir /data/a can be written again");
        assertThat(health.isFailing(DIR_A)).isFalse();
        assertThat(health.isFailing(DIR_B)).isTrue();

        health.appendFailed(A1, full);
        assertThat(log.lines).hasSize(4);
        assertThat(log.lines.get(3)).startsWith("ERROR Log dir /data/a cannot be written");
    }

    @Test
    void errorsThatAreNotTheDisksAreNotReportedAsADiskFailure() {
        health.appendFailed(A0, new KafkaStorageException("Log t-0 is closed or deleted"));
        health.appendFailed(A0, new IllegalStateException("not a storage error", new IOException("x")));
        assertThat(log.lines).isEmpty();
        assertThat(health.isFailing(DIR_A)).isFalse();
    }

    /** What storage throws when a segment write fails: here for real, on the always-full device. */
    private static KafkaStorageException writeToAFullDisk() {
        try (FileChannel full = FileChannel.open(Path.of("/dev/full"), StandardOpenOption.WRITE)) {
            full.write(ByteBuffer.allocate(4096));
            throw new AssertionError("/dev/full took the write");
        } catch (IOException e) {
            return new KafkaStorageException("Write to /data/a/t-0/00000000000000000000.log failed", e);
        }
    }

    private static final class RecordingLogger extends LegacyAbstractLogger {
        final List<String> lines = new ArrayList<>();

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
                                                   Throwable throwable) {
            lines.add(level + " " + MessageFormatter.basicArrayFormat(pattern, arguments));
        }

        @Override
        public boolean isTraceEnabled() {
            return true;
        }

        @Override
        public boolean isDebugEnabled() {
            return true;
        }

        @Override
        public boolean isInfoEnabled() {
            return true;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }
    }
}
