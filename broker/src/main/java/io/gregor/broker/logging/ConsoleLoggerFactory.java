package io.gregor.broker.logging;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** One {@link ConsoleLogger} per name, all writing to the same stream; levels can change at runtime. */
final class ConsoleLoggerFactory implements ILoggerFactory {
    private volatile LogLevels levels;
    private final PrintStream out;
    private final ConcurrentMap<String, ConsoleLogger> loggers = new ConcurrentHashMap<>();

    ConsoleLoggerFactory(LogLevels levels, PrintStream out) {
        this.levels = levels;
        this.out = out;
    }

    @Override
    public Logger getLogger(String name) {
        return loggers.computeIfAbsent(name, n -> new ConsoleLogger(n, levels.thresholdOf(n), out));
    }

    /**
     * Every logger created so far, the packages above them (io.gregor: a level set there applies below it)
     * and every name given a level, with the threshold each logs at.
     */
    synchronized Map<String, Integer> thresholds() {
        LogLevels now = levels;
        Map<String, Integer> out = new TreeMap<>();
        now.byPrefix().keySet().forEach(name -> out.put(name, now.thresholdOf(name)));
        for (ConsoleLogger logger : loggers.values()) {
            String name = logger.getName();
            out.put(name, logger.threshold());
            for (int dot = name.lastIndexOf('.'); dot > 0; dot = name.lastIndexOf('.', dot - 1)) {
                out.putIfAbsent(name.substring(0, dot), now.thresholdOf(name.substring(0, dot)));
            }
        }
        return out;
    }

    boolean exists(String name) {
        return thresholds().containsKey(name);
    }

    /** Sets (or, with null, unsets) a name's threshold, and re-derives the thresholds of the loggers below it. */
    synchronized void threshold(String name, Integer threshold) {
        LogLevels next = levels.with(name, threshold);
        levels = next;
        for (ConsoleLogger logger : loggers.values()) {
            logger.threshold(next.thresholdOf(logger.getName()));
        }
    }

    int rootThreshold() {
        return levels.root();
    }
}
