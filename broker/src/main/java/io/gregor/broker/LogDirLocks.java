package io.gregor.broker;

import io.gregor.config.ConfigException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka's {@code .lock} file in every log dir, held with an exclusive file lock while the broker runs, so a
 * second broker (another process, or another broker in this JVM) cannot serve and write the same logs.
 * The operating system drops the locks when the process dies, however it dies.
 */
final class LogDirLocks implements AutoCloseable {
    static final String LOCK_FILE = ".lock";

    private final List<FileLock> locks = new ArrayList<>();

    private LogDirLocks() {
    }

    /** Locks every dir, or none: throws naming the first dir another broker holds. */
    static LogDirLocks acquire(List<Path> logDirs) {
        LogDirLocks all = new LogDirLocks();
        try {
            for (Path dir : logDirs) {
                all.locks.add(lock(dir));
            }
        } catch (RuntimeException e) {
            all.close();
            throw e;
        }
        return all;
    }

    private static FileLock lock(Path dir) {
        Path file = dir.resolve(LOCK_FILE);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new ConfigException("log.dirs", dir, "cannot open the lock file " + file + ": " + e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by another broker in this JVM
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ConfigException("log.dirs", dir, "cannot lock " + file + ": " + e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new ConfigException("log.dirs", dir, "failed to acquire the lock on " + file
                    + ": another broker, in another process or in this one, is using this directory");
        }
        return lock;
    }

    @Override
    public void close() {
        for (FileLock lock : locks) {
            try {
                lock.release();
            } catch (IOException ignored) {
                // the channel's close below releases it too
            }
            closeQuietly(lock.channel());
        }
        locks.clear();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written through it
        }
    }
}
