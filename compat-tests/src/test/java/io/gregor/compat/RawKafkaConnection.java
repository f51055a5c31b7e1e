package io.gregor.compat;

import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.BiFunction;

/**
 * A plain {@link Socket} speaking the Kafka wire format by hand, so tests can send what no stock client
 * would (garbage, oversized frames, unknown API keys, corrupt batches) and see exactly what comes back.
 */
final class RawKafkaConnection implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int nextCorrelationId = 1;
    /** The client.id of every request sent. */
    static final String CLIENT_ID = "gregor-compat-raw";

    RawKafkaConnection(int port, Duration readTimeout) {
        try {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout((int) readTimeout.toMillis());
            socket.setTcpNoDelay(true);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A response: its correlation id and the body bytes after the response header. */
    record Response(int correlationId, ByteBuffer body) {
    }

    /** The client side's port, which the broker's log lines name. */
    int localPort() {
        return socket.getLocalPort();
    }

    void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes a size-prefixed frame around {@code payload}. */
    void writeFrame(byte[] payload) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload);
        writeRaw(frame.array());
    }

    /** Serializes header + body exactly as a client would for {@code apiKey} at {@code version}; returns the correlation id. */
    int send(ApiKeys apiKey, short version, ApiMessage body) throws IOException {
        int correlationId = nextCorrelationId++;
        short headerVersion = apiKey.requestHeaderVersion(version);
        RequestHeaderData header = new RequestHeaderData()
                .setRequestApiKey(apiKey.id)
                .setRequestApiVersion(version)
                .setCorrelationId(correlationId)
                .setClientId(CLIENT_ID);
        writeFrame(serialize(header, headerVersion, body, version));
        return correlationId;
    }

    static byte[] serialize(ApiMessage header, short headerVersion, ApiMessage body, short bodyVersion) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        if (body != null) {
            body.addSize(size, cache, bodyVersion);
        }
        ByteBuffer buf = ByteBuffer.allocate(size.totalSize());
        ByteBufferAccessor accessor = new ByteBufferAccessor(buf);
        header.write(accessor, cache, headerVersion);
        if (body != null) {
            body.write(accessor, cache, bodyVersion);
        }
        return buf.array();
    }

    /** Reads one bare size-prefixed frame (a SASL token after a v0 handshake). */
    byte[] receiveRawFrame() throws IOException {
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return payload;
    }

    /** Reads one response frame whose header has version {@code responseHeaderVersion}. */
    Response receive(short responseHeaderVersion) throws IOException {
        int size = in.readInt();
        byte[] payload = new byte[size];
        in.readFully(payload);
        ByteBuffer buf = ByteBuffer.wrap(payload);
        ResponseHeaderData header = new ResponseHeaderData(new ByteBufferAccessor(buf), responseHeaderVersion);
        return new Response(header.correlationId(), buf.slice());
    }

    /** Sends a request and parses the matching response with {@code parser(accessor, version)}. */
    <T> T roundTrip(ApiKeys apiKey, short version, ApiMessage body,
                    BiFunction<ByteBufferAccessor, Short, T> parser) throws IOException {
        int correlationId = send(apiKey, version, body);
        Response r = receive(apiKey.responseHeaderVersion(version));
        if (r.correlationId() != correlationId) {
            throw new AssertionError("correlation id " + r.correlationId() + ", expected " + correlationId);
        }
        return parser.apply(new ByteBufferAccessor(r.body()), version);
    }

    /**
     * What the broker did after the bad input, seen from the client side: "closed" if the connection was
     * closed or reset, otherwise a description of the bytes it sent back (or of the silence).
     */
    String awaitOutcome() {
        try {
            int b = in.read();
            if (b < 0) {
                return "closed";
            }
            byte[] more = new byte[Math.min(in.available(), 64)];
            int n = in.read(more);
            return "broker answered instead of closing; first bytes: " + hex(b, more, Math.max(n, 0));
        } catch (SocketTimeoutException e) {
            return "broker neither answered nor closed within " + readTimeoutMs() + " ms";
        } catch (EOFException | SocketException e) {
            // A reset (RST) is as good as a FIN here: the broker dropped the connection.
            return "closed";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int readTimeoutMs() {
        try {
            return socket.getSoTimeout();
        } catch (SocketException e) {
            return -1;
        }
    }

    private static String hex(int first, byte[] rest, int n) {
        StringBuilder sb = new StringBuilder(String.format("%02x", first));
        for (int i = 0; i < n; i++) {
            sb.append(' ').append(String.format("%02x", rest[i]));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
