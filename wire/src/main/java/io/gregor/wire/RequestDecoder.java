package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import io.gregor.wire.security.Authenticated;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Turns a frame into a {@link KafkaRequest}: header (v0-v2, by API version) and body through the
 * generated message classes. An unknown API key, an unsupported version (but for ApiVersions, which
 * gets Kafka's KIP-511 answer) or a body that does not parse closes the connection, as Kafka does.
 */
public final class RequestDecoder extends MessageToMessageDecoder<ByteBuf> {
    private static final Logger log = LoggerFactory.getLogger(RequestDecoder.class);
    private final ApiRegistry registry;
    private final String listenerName;
    private final SecurityProtocol securityProtocol;
    private final Time time;
    private KafkaRequest.ConnectionInfo connection;

    public RequestDecoder(ApiRegistry registry, String listenerName) {
        this(registry, listenerName, SecurityProtocol.PLAINTEXT, Time.SYSTEM);
    }

    /** @param time the broker's clock: a request's receive time is compared with it (trace latency) */
    public RequestDecoder(ApiRegistry registry, String listenerName, Time time) {
        this(registry, listenerName, SecurityProtocol.PLAINTEXT, time);
    }

    public RequestDecoder(ApiRegistry registry, String listenerName, SecurityProtocol securityProtocol, Time time) {
        this.registry = registry;
        this.listenerName = listenerName;
        this.securityProtocol = securityProtocol;
        this.time = time;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof Authenticated authenticated) {
            // requests decoded from now on carry the principal; none were decoded before it on a secured listener
            connection = connection.withPrincipal(authenticated.principal());
            ctx.fireUserEventTriggered(evt); // the request processor keeps a SASL session, to re-authenticate it
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // an in-memory channel (tests) has no socket address
        InetSocketAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
        connection = new KafkaRequest.ConnectionInfo(ctx.channel().id().asShortText(), peer, listenerName,
                securityProtocol, KafkaPrincipal.ANONYMOUS);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        long receivedNanos = time.nanoseconds();
        if (!ctx.channel().isActive()) {
            return; // already rejected: the rest of the read is not ours to answer
        }
        if (frame.readableBytes() < 4) {
            reject(ctx, "a frame of " + frame.readableBytes() + " bytes has no request header");
            return;
        }
        short apiKeyId = frame.getShort(frame.readerIndex());
        short version = frame.getShort(frame.readerIndex() + 2);
        if (!ApiKeys.hasId(apiKeyId)) {
            reject(ctx, "unknown API key " + apiKeyId);
            return;
        }
        ApiKeys api = ApiKeys.forId(apiKeyId);
        boolean supported = registry.supports(api, version);
        if (!supported && api != ApiKeys.API_VERSIONS) {
            reject(ctx, api + " version " + version + " is not supported");
            return;
        }
        try {
            ByteBufAccessor in = new ByteBufAccessor(frame);
            short headerVersion = api.requestHeaderVersion(supported ? version : 0);
            RequestHeader header = new RequestHeader(new RequestHeaderData(in, headerVersion), headerVersion);
            int bodyStart = frame.readerIndex();
            ApiMessage body = null;
            if (supported) {
                body = api.messageType.newRequest();
                body.read(in, version);
            }
            // An ApiVersions body of a version we do not know is left unread: the answer ignores it.
            out.add(new KafkaRequest(header, body, frame.retain(), bodyStart, connection, receivedNanos));
        } catch (RuntimeException e) {
            reject(ctx, api + " v" + version + " request does not parse: " + e);
        }
    }

    private void reject(ChannelHandlerContext ctx, String why) {
        log.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), why);
        ctx.close();
    }
}
