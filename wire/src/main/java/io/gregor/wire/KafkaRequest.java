package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One decoded request and what a handler needs to know about where it came from. The body may hold
 * views into {@code frame} (produce records), so the frame is released only once the request is done.
 */
public final class KafkaRequest {
    private final RequestHeader header;
    private final ApiMessage body;
    private final ByteBuf frame;
    private final ConnectionInfo connection;
    private final int bodyStart;
    private final long receivedNanos;
    private final int sizeInBytes;

    KafkaRequest(RequestHeader header, ApiMessage body, ByteBuf frame, int bodyStart, ConnectionInfo connection,
                 long receivedNanos) {
        this.header = header;
        this.body = body;
        this.frame = frame;
        this.bodyStart = bodyStart;
        this.connection = connection;
        this.receivedNanos = receivedNanos;
        this.sizeInBytes = frame.writerIndex();
    }

    public RequestHeader header() {
        return header;
    }

    public ApiKeys apiKey() {
        return header.apiKey();
    }

    public short apiVersion() {
        return header.apiVersion();
    }

    public String clientId() {
        return header.clientId();
    }

    @SuppressWarnings("unchecked")
    public <T extends ApiMessage> T body() {
        return (T) body;
    }

    public ConnectionInfo connection() {
        return connection;
    }

    public long receivedNanos() {
        return receivedNanos;
    }

    /** Bytes of the request frame, counted against the connection's in-flight bound. */
    int frameSize() {
        return frame.capacity();
    }

    /** The request's size on the wire, header and body (Kafka's RequestBytes). */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    /** The body's bytes, for re-parsing with kafka-clients' request classes to build an error answer. */
    ByteBuffer bodyBuffer() {
        return frame.nioBuffer(bodyStart, frame.writerIndex() - bodyStart);
    }

    void release() {
        frame.release();
    }

    /**
     * Who sent a request: the connection's id, peer address, the listener it arrived on with that listener's
     * security protocol, and the principal the connection authenticated as (User:ANONYMOUS on PLAINTEXT, or
     * on SSL without a client certificate). What an authorizer checks.
     */
    public record ConnectionInfo(String id, InetSocketAddress clientAddress, String listenerName,
                                 SecurityProtocol securityProtocol, KafkaPrincipal principal) {
        public ConnectionInfo(String id, InetSocketAddress clientAddress, String listenerName) {
            this(id, clientAddress, listenerName, SecurityProtocol.PLAINTEXT, KafkaPrincipal.ANONYMOUS);
        }

        ConnectionInfo withPrincipal(KafkaPrincipal authenticated) {
            return new ConnectionInfo(id, clientAddress, listenerName, securityProtocol, authenticated);
        }
    }
}
