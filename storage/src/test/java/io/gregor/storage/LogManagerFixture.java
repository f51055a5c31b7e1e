package io.gregor.storage;

import io.gregor.storage.LogManager.TopicConfigResolver;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A FileLogManager over a fresh directory for each test, closed and deleted after it:
 * {@code @RegisterExtension final LogManagerFixture logs = new LogManagerFixture(topic -> config);}
 */
final class LogManagerFixture implements BeforeEachCallback, AfterEachCallback {
    private final TopicConfigResolver configFor;
    private Path dir;
    private FileLogManager manager;

    LogManagerFixture(TopicConfigResolver configFor) {
        this.configFor = configFor;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("gregor-" + context.getRequiredTestClass().getSimpleName() + "-");
        manager = FileLogManager.open(TestSupport.settings(dir), configFor);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            manager.close();
        } finally {
            FileUtil.deleteRecursively(dir);
        }
    }

    Path dir() {
        return dir;
    }

    FileLogManager manager() {
        return manager;
    }

    /** Closes the manager (or, unclean, simulates a crash) and opens the same directory again, as a restart. */
    FileLogManager reopen(boolean clean) {
        return reopen(clean, configFor);
    }

    FileLogManager reopen(boolean clean, TopicConfigResolver reopenedConfigFor) {
        if (clean) {
            manager.close();
        } else {
            manager.crashForTest();
        }
        manager = FileLogManager.open(TestSupport.settings(dir), reopenedConfigFor);
        return manager;
    }
}
