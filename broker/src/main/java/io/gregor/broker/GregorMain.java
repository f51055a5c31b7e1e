package io.gregor.broker;

import io.gregor.config.BrokerConfig;
import io.gregor.config.ConfigException;
import io.gregor.broker.logging.ConsoleLoggingProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code gregor-server-start FILE [--override key=value]...}: runs a broker in the foreground until
 * SIGTERM or Ctrl-C, then shuts it down cleanly.
 */
public final class GregorMain {
    static {
        // Netty 4.2 registers its JFR event types when its allocator first runs: about 100 ms of a broker's
        // start, for events nobody records. The process is ours to configure (an application embedding a
        // broker keeps its own setting); whoever wants the events sets -Dio.netty.jfr.enabled=true.
        setUnlessGiven("io.netty.jfr.enabled", "false");
        // The broker's own log backend (see ConsoleLoggingProvider), named so SLF4J does not scan every jar
        // on the class path for service files; an explicit -Dslf4j.provider wins.
        setUnlessGiven("slf4j.provider", ConsoleLoggingProvider.class.getName());
        setUnlessGiven("slf4j.internal.verbosity", "WARN"); // else SLF4J prints the provider it loads
    }

    private GregorMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 0 || args[0].startsWith("-")) {
            usage("a server.properties file is required");
        }
        Path file = Path.of(args[0]);
        if (!Files.isReadable(file)) {
            usage("cannot read " + file);
        }
        List<String> overrides = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--override") && i + 1 < args.length) {
                overrides.add(args[++i]);
            } else {
                usage("unexpected argument '" + args[i] + "'");
            }
        }
        Logger log = LoggerFactory.getLogger(GregorMain.class);
        Broker broker;
        try {
            broker = Broker.start(BrokerConfig.load(file, overrides));
        } catch (ConfigException e) {
            System.err.println("Invalid configuration: " + e.getMessage());
            System.exit(1);
            return;
        } catch (RuntimeException e) {
            log.error("Gregor failed to start", e);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "gregor-shutdown"));
        broker.awaitShutdown();
    }

    private static void setUnlessGiven(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static void usage(String problem) {
        System.err.println("gregor-server-start: " + problem);
        System.err.println("Usage: gregor-server-start server.properties [--override key=value]...");
        System.exit(2);
    }
}
