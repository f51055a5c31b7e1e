package io.gregor.bench;

import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Polls a broker with raw Metadata requests until one is answered with at least one broker listed: the
 * moment a client could start working. A raw socket keeps client start-up and back-off out of the figure.
 */
final class MetadataProbe {
    private static final short VERSION = 12;
    private static final byte[] REQUEST = request(1);

    static {
        try {
            brokersIn(new byte[0]); // loads the response classes; an empty frame does not parse
        } catch (RuntimeException expected) {
            // nothing to parse
        }
        warmUpSocket();
    }

    /** One connection to a socket of our own, so the probe's first real try does not load the socket classes. */
    private static void warmUpSocket() {
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             Socket s = new Socket()) {
            s.connect(server.getLocalSocketAddress(), 1000);
            s.setSoTimeout(1);
            s.setTcpNoDelay(true);
            s.getOutputStream().write(REQUEST);
            try (Socket accepted = server.accept()) {
                new DataInputStream(accepted.getInputStream()).readInt();
            }
            new DataInputStream(s.getInputStream()).readInt();
        } catch (IOException expected) {
            // the read on our side times out: nothing answers
        }
    }

    private MetadataProbe() {
    }

    /** Builds the request and loads the parser now, so none of that runs while a start is being timed. */
    static void load() {
    }

    /** Blocks until answered; returns System.nanoTime() of the answer. */
    static long awaitFirstAnswer(String host, int port, long timeoutMs, java.util.function.BooleanSupplier alive) {
        return awaitFirstAnswer(host, port, 1, timeoutMs, alive);
    }

    /**
     * Blocks until an answer lists at least {@code minBrokers} brokers (a cluster whose brokers all
     * registered); returns System.nanoTime() of that answer.
     */
    static long awaitFirstAnswer(String host, int port, int minBrokers, long timeoutMs,
                                 java.util.function.BooleanSupplier alive) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        byte[] request = REQUEST;
        while (System.nanoTime() < deadline) {
            if (!alive.getAsBoolean()) {
                throw new IllegalStateException("broker exited before answering Metadata");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 1000);
                s.setSoTimeout(2000);
                s.setTcpNoDelay(true);
                OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                int size = in.readInt();
                byte[] frame = new byte[size];
                in.readFully(frame);
                long answeredAt = System.nanoTime();
                if (brokersIn(frame) >= minBrokers) {
                    return answeredAt;
                }
            } catch (IOException e) {
                // not listening yet, or closed on us while starting: try again shortly
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        throw new IllegalStateException("no Metadata answer from " + host + ":" + port + " within " + timeoutMs + " ms");
    }

    static byte[] request(int correlationId) {
        short headerVersion = ApiKeys.METADATA.requestHeaderVersion(VERSION);
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(ApiKeys.METADATA.id)
                .setRequestApiVersion(VERSION).setCorrelationId(correlationId).setClientId("gregor-bench-probe");
        MetadataRequestData body = new MetadataRequestData().setTopics(java.util.List.of())
                .setAllowAutoTopicCreation(false);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        body.addSize(size, cache, VERSION);
        ByteBuffer buf = ByteBuffer.allocate(4 + size.totalSize());
        buf.putInt(size.totalSize());
        ByteBufferAccessor w = new ByteBufferAccessor(buf);
        header.write(w, cache, headerVersion);
        body.write(w, cache, VERSION);
        return buf.array();
    }

    /** Number of brokers in a Metadata response frame (without its size prefix). */
    static int brokersIn(byte[] frame) {
        ByteBufferAccessor r = new ByteBufferAccessor(ByteBuffer.wrap(frame));
        new ResponseHeaderData(r, ApiKeys.METADATA.responseHeaderVersion(VERSION));
        return new MetadataResponseData(r, VERSION).brokers().size();
    }
}
