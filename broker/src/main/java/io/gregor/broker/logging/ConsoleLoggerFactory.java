package io.gregor.broker.logging;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;

import java.io.PrintStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** One {@link ConsoleLogger} per name, all writing to the same stream. */
final class ConsoleLoggerFactory implements ILoggerFactory {
    private final LogLevels levels;
    private final PrintStream out;
    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();

    ConsoleLoggerFactory(LogLevels levels, PrintStream out) {
        this.levels = levels;
        this.out = out;
    }

    @Override
    public Logger getLogger(String name) {
        return loggers.computeIfAbsent(name, n -> new ConsoleLogger(n, levels.thresholdOf(n), out));
    }
}
