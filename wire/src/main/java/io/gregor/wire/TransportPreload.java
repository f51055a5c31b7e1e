package io.gregor.wire;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.LoggerFactory;

/**
 * Loads what a fresh JVM's first answer needs (the protocol's message schemas and error codes, the network
 * transport, the request path's classes) on another thread, so it overlaps the broker's start instead of
 * adding to the time before the first answer. No logger field: calling it must not start the logging
 * framework, which takes long itself and can then start in parallel on the caller's thread.
 */
public final class TransportPreload {
    private TransportPreload() {
    }

    public static void startAsync() {
        skipNettyFlightRecorderEventsOfPrivateCopy();
        Thread t = new Thread(TransportPreload::preload, "gregor-transport-preload");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Netty's buffer allocator emits JFR events when the JVM has the Flight Recorder, and registering the
     * event classes loads and generates a few hundred classes of the JDK's JFR: a quarter of a second of CPU
     * in a fresh JVM. The testkit's relocated copy of Netty (its property name below is relocated with it,
     * so the application's own Netty is left alone) skips them unless the property is set; the command-line
     * broker's Netty keeps them.
     */
    private static void skipNettyFlightRecorderEventsOfPrivateCopy() {
        String key = "io.netty.jfr.enabled";
        if (Epoll.class.getName().startsWith("io.gregor.shaded.") && System.getProperty(key) == null) {
            System.setProperty(key, "false");
        }
    }

    private static void preload() {
        // the message schemas (hundreds of classes) are built once, on first use of ApiKeys; a broker's
        // ApiRegistry needs them first
        ApiKeys.METADATA.latestVersion();
        // the error codes: a hundred and forty exception classes and a lambda each, spun when the enum is
        // initialised, which the start's handlers would otherwise do on the starting thread
        Errors.NONE.code();
        if (Epoll.isAvailable()) {
            EpollIoHandler.newFactory();
        } else {
            NioIoHandler.newFactory();
        }
        try {
            RequestPathWarmUp.run();
        } catch (RuntimeException | LinkageError e) {
            // only a head start: the first real request loads whatever this did not
            LoggerFactory.getLogger(TransportPreload.class).debug("Warming up the request path failed", e);
        }
    }
}
