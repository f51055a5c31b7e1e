package io.gregor.wire.security;

import io.gregor.wire.ApiRegistry;
import io.gregor.wire.FrameDecoder;
import io.gregor.wire.KafkaResponse;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SaslAuthenticationContext;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLSession;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A SASL listener's connection until the client has authenticated, as Kafka's SaslServerAuthenticator
 * runs it: ApiVersions (once) and SaslHandshake, then the mechanism's tokens inside SaslAuthenticate
 * requests (handshake v1) or as bare size-prefixed frames (handshake v0). Any other request before
 * authentication closes the connection; a failed login is answered SASL_AUTHENTICATION_FAILED with
 * Kafka's message, then closed. Each failure logs one line. On success the principal is announced
 * ({@link Authenticated}) and this handler leaves the pipeline, so authenticated traffic pays nothing.
 * Runs on the event loop: PLAIN and SCRAM verification is a few hashes against in-memory credentials.
 */
public final class SaslServerHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(SaslServerHandler.class);
    /** Kafka's connection.failed.authentication.delay.ms default: a failed client is not told at once. */
    private static final long FAILED_AUTHENTICATION_DELAY_MS = 100;

    private enum State { HANDSHAKE_OR_VERSIONS, HANDSHAKE, AUTHENTICATE, FAILED }

    private final ListenerSecurity security;
    private final Time time;
    private final ApiRegistry registry;
    private final FrameDecoder frames;
    private final int authenticatedMaxFrameBytes;
    private State state = State.HANDSHAKE_OR_VERSIONS;
    private boolean kafkaHeaders;
    private String mechanism;
    private SaslServer server;
    /** Set when the mechanism completes. */
    private SaslSession session;

    public SaslServerHandler(ListenerSecurity security, ApiRegistry registry, FrameDecoder frames) {
        this(security, registry, frames, Time.SYSTEM);
    }

    /** @param time the broker's clock, which times the session's lifetime (connections.max.reauth.ms) */
    public SaslServerHandler(ListenerSecurity security, ApiRegistry registry, FrameDecoder frames, Time time) {
        this.time = time;
        this.security = security;
        this.registry = registry;
        this.frames = frames;
        this.authenticatedMaxFrameBytes = frames.maxFrameBytes();
        frames.maxFrameBytes(Math.min(authenticatedMaxFrameBytes, security.saslMaxReceiveBytes()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (state == State.FAILED || !ctx.channel().isActive()) {
                return;
            }
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            switch (state) {
                case HANDSHAKE_OR_VERSIONS, HANDSHAKE -> handleKafkaRequest(ctx, bytes);
                case AUTHENTICATE -> {
                    if (kafkaHeaders) {
                        handleAuthenticateRequest(ctx, bytes);
                    } else {
                        handleToken(ctx, bytes, null, (short) 0);
                    }
                }
                default -> {
                }
            }
        } catch (RuntimeException e) {
            fail(ctx, e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            frame.release();
        }
    }

    private void handleKafkaRequest(ChannelHandlerContext ctx, byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        RequestHeader header = parseHeader(buffer);
        if (header == null) {
            // Kafka reads a first packet that is no Kafka request as a GSSAPI token, which Gregor does not serve
            fail(ctx, "Exception handling first SASL packet from client, GSSAPI is not supported by server");
            return;
        }
        ApiKeys api = header.apiKey();
        if (api == ApiKeys.API_VERSIONS && state == State.HANDSHAKE_OR_VERSIONS) {
            boolean supported = registry.supports(api, header.apiVersion());
            short version = supported ? header.apiVersion() : 0;
            ctx.writeAndFlush(new KafkaResponse(header, version,
                    registry.apiVersionsResponse(supported ? Errors.NONE : Errors.UNSUPPORTED_VERSION, version)));
            state = State.HANDSHAKE;
            return;
        }
        if (api != ApiKeys.SASL_HANDSHAKE) {
            fail(ctx, "Unexpected Kafka request of type " + api + " during SASL handshake.");
            return;
        }
        SaslHandshakeRequestData request = new SaslHandshakeRequestData(new ByteBufferAccessor(buffer), header.apiVersion());
        kafkaHeaders = header.apiVersion() >= 1;
        SaslHandshakeResponseData response = new SaslHandshakeResponseData().setMechanisms(security.enabledMechanisms());
        try {
            server = security.newSaslServer(request.mechanism());
        } catch (SaslException e) {
            server = null;
        }
        if (server == null) {
            ctx.writeAndFlush(new KafkaResponse(header, header.apiVersion(),
                    response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code())));
            fail(ctx, "Unsupported SASL mechanism " + request.mechanism());
            return;
        }
        mechanism = request.mechanism();
        ctx.writeAndFlush(new KafkaResponse(header, header.apiVersion(), response.setErrorCode(Errors.NONE.code())));
        state = State.AUTHENTICATE;
    }

    private void handleAuthenticateRequest(ChannelHandlerContext ctx, byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        RequestHeader header = parseHeader(buffer);
        if (header == null) {
            fail(ctx, "Invalid request during SASL authentication");
            return;
        }
        if (header.apiKey() != ApiKeys.SASL_AUTHENTICATE) {
            IllegalSaslStateException e = new IllegalSaslStateException(
                    "Unexpected Kafka request of type " + header.apiKey() + " during SASL authentication.");
            if (registry.supports(header.apiKey(), header.apiVersion())) {
                ApiMessage error = AbstractRequest.parseRequest(header.apiKey(), header.apiVersion(),
                        new ByteBufferAccessor(buffer)).request.getErrorResponse(e).data();
                ctx.writeAndFlush(new KafkaResponse(header, header.apiVersion(), error));
            }
            fail(ctx, e.getMessage());
            return;
        }
        SaslAuthenticateRequestData request = new SaslAuthenticateRequestData(new ByteBufferAccessor(buffer),
                header.apiVersion());
        handleToken(ctx, request.authBytes(), header, header.apiVersion());
    }

    /** One token of the mechanism's exchange; {@code header} is null for handshake-v0 bare tokens. */
    private void handleToken(ChannelHandlerContext ctx, byte[] token, RequestHeader header, short version) {
        byte[] challenge;
        long lifetimeMs = 0;
        try {
            challenge = server.evaluateResponse(token);
            if (server.isComplete()) {
                session = newSession(ctx);
                lifetimeMs = session.started(time.nanoseconds());
            }
        } catch (SaslAuthenticationException e) {
            authenticationFailed(ctx, header, version, e.getMessage(), e.getMessage());
            return;
        } catch (SaslException | RuntimeException e) {
            // Kafka's rule: the mechanism's own message may tell whether the user exists, so the client gets a generic one
            String message = "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                    + mechanism;
            authenticationFailed(ctx, header, version, message, message + ": " + e.getMessage());
            return;
        }
        if (header != null) {
            ctx.writeAndFlush(new KafkaResponse(header, version, new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.NONE.code()).setAuthBytes(challenge == null ? new byte[0] : challenge)
                    // KIP-368: the client re-authenticates before this passes (v0 has no field: such a client is cut off)
                    .setSessionLifetimeMs(version >= 1 ? lifetimeMs : 0L)));
        } else if (challenge != null) {
            ByteBuf out = ctx.alloc().buffer(4 + challenge.length);
            out.writeInt(challenge.length).writeBytes(challenge);
            ctx.writeAndFlush(out);
        }
        if (server.isComplete()) {
            succeeded(ctx);
        }
    }

    /** The session of a completed login: who the client is, and what re-authenticates it later. */
    private SaslSession newSession(ChannelHandlerContext ctx) {
        InetSocketAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        Optional<SSLSession> tls = ssl == null ? Optional.empty() : Optional.of(ssl.engine().getSession());
        InetAddress address = peer == null ? null : peer.getAddress();
        KafkaPrincipal principal = security.principal(new SaslAuthenticationContext(server, security.protocol(),
                address, security.listenerName(), tls));
        return new SaslSession(security, mechanism, principal, address, tls);
    }

    private void succeeded(ChannelHandlerContext ctx) {
        log.debug("{} authenticated as {} with {} on listener {}", ctx.channel().remoteAddress(), session.principal(),
                mechanism, security.listenerName());
        dispose();
        frames.maxFrameBytes(authenticatedMaxFrameBytes);
        ctx.fireUserEventTriggered(new Authenticated(session.principal(), session));
        ctx.pipeline().remove(this);
    }

    /**
     * A login that did not verify: answered SASL_AUTHENTICATION_FAILED with {@code clientMessage} (handshake v1),
     * then closed after Kafka's failed-authentication delay; nothing more is read meanwhile.
     */
    private void authenticationFailed(ChannelHandlerContext ctx, RequestHeader header, short version,
                                      String clientMessage, String detail) {
        log.info("Failed authentication with {} on listener {} ({})", ctx.channel().remoteAddress(),
                security.listenerName(), detail);
        state = State.FAILED;
        dispose();
        ctx.channel().config().setAutoRead(false);
        if (header != null) {
            ctx.writeAndFlush(new KafkaResponse(header, version, new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(clientMessage)));
        }
        ctx.executor().schedule(() -> ctx.close(), FAILED_AUTHENTICATION_DELAY_MS, TimeUnit.MILLISECONDS);
    }

    /** A protocol violation: one line, then the connection goes (after what was already written). */
    private void fail(ChannelHandlerContext ctx, String why) {
        if (state == State.FAILED) {
            return;
        }
        state = State.FAILED;
        dispose();
        log.info("Failed authentication with {} on listener {} ({})", ctx.channel().remoteAddress(),
                security.listenerName(), why);
        ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
    }

    /** The header of a Kafka request, or null when the bytes are not one. */
    private RequestHeader parseHeader(ByteBuffer buffer) {
        try {
            if (buffer.remaining() < 4) {
                return null;
            }
            short apiKey = buffer.getShort(buffer.position());
            short version = buffer.getShort(buffer.position() + 2);
            if (!ApiKeys.hasId(apiKey)) {
                return null;
            }
            ApiKeys api = ApiKeys.forId(apiKey);
            boolean supported = registry.supports(api, version);
            if (!supported && api != ApiKeys.API_VERSIONS) {
                return null;
            }
            short headerVersion = api.requestHeaderVersion(supported ? version : 0);
            return new RequestHeader(new RequestHeaderData(new ByteBufferAccessor(buffer), headerVersion), headerVersion);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void dispose() {
        if (server != null) {
            try {
                server.dispose();
            } catch (SaslException ignored) {
                // nothing held that matters
            }
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (state != State.FAILED && server != null && !server.isComplete()) {
            dispose();
        }
    }
}
