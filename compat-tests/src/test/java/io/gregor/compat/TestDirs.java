package io.gregor.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicInteger;

/** Where the suite keeps broker data and diagnostic output: under the module's target/, never in /tmp litter. */
public final class TestDirs {
    private static final AtomicInteger UNIQUE = new AtomicInteger();

    private TestDirs() {
    }

    public static Path target() {
        Path dir = Path.of(System.getProperty("gregor.compat.targetDir", "target"));
        return mkdirs(dir.toAbsolutePath());
    }

    /** A fresh directory for one broker's data. */
    static Path newDataDir(String name) {
        try {
            return Files.createTempDirectory(mkdirs(target().resolve("compat-data")), name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file for a subprocess's output, kept after the run so a failure can be diagnosed. */
    static Path newLogFile(String name) {
        return mkdirs(target().resolve("compat-logs"))
                .resolve(name + "-" + ProcessHandle.current().pid() + "-" + UNIQUE.incrementAndGet() + ".log");
    }

    /** A topic name no other test uses, so tests sharing a broker never see each other's records. */
    public static String uniqueTopic(String prefix) {
        return prefix + "-" + UNIQUE.incrementAndGet() + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    static Path mkdirs(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir) || Boolean.getBoolean("gregor.compat.keepData")) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
