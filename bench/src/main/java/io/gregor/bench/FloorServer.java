package io.gregor.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The floor of a broker's first start in a fresh JVM, for {@code bench/embedded-floor}: a Netty server that
 * answers only ApiVersions and Metadata (itself as the one broker, no topics), with kafka-clients' generated
 * message classes, and nothing else a broker does (no config, log dirs, coordinators, metrics). Not a broker:
 * it exists to show how much of a start is the JVM, Netty, kafka-clients' protocol classes and the logging
 * backend, on this machine.
 *
 * <p>With {@code allApis}, its start initialises kafka-clients' {@link ApiKeys} (every API's message schemas),
 * as a broker that lists all its APIs from kafka-clients' tables does; without it only the classes of the two
 * APIs load.
 */
final class FloorServer implements AutoCloseable {
    private static final short API_VERSIONS = 18;
    private static final short METADATA = 3;
    private static final String CLUSTER_ID = "floor-cluster-0000000000";

    private final EventLoopGroup group;
    private final Channel channel;
    private final int port;

    private FloorServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
        this.port = ((InetSocketAddress) channel.localAddress()).getPort();
    }

    static FloorServer start(boolean allApis) throws InterruptedException {
        if (allApis) {
            ApiKeys.values(); // every API's schemas, as ApiKeys' first use by a broker loads them
        }
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, io);
        // known once bound; Metadata answers name it
        java.util.concurrent.atomic.AtomicInteger boundPort = new java.util.concurrent.atomic.AtomicInteger();
        try {
            Channel ch = new ServerBootstrap().group(group).channel(type)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new LengthFieldBasedFrameDecoder(100 * 1024 * 1024, 0, 4, 0, 4));
                            c.pipeline().addLast(new Answerer(boundPort));
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            boundPort.set(((InetSocketAddress) ch.localAddress()).getPort());
            return new FloorServer(group, ch);
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully();
            throw e;
        }
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    /** Answers ApiVersions and Metadata on the event loop; a request of any other API closes the connection. */
    private static final class Answerer extends SimpleChannelInboundHandler<ByteBuf> {
        private final java.util.concurrent.atomic.AtomicInteger port;

        Answerer(java.util.concurrent.atomic.AtomicInteger port) {
            this.port = port;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            ByteBuffer in = frame.nioBuffer();
            short apiKey = in.getShort(0);
            short version = in.getShort(2);
            ByteBufferAccessor r = new ByteBufferAccessor(in);
            Message body;
            short responseHeaderVersion;
            int correlationId;
            if (apiKey == API_VERSIONS) {
                // header v2 from ApiVersions v3 (flexible); its response header is always v0 (KIP-511)
                RequestHeaderData header = new RequestHeaderData(r, (short) (version >= 3 ? 2 : 1));
                correlationId = header.correlationId();
                responseHeaderVersion = 0;
                short answered = (short) Math.min(version, ApiVersionsResponseData.HIGHEST_SUPPORTED_VERSION);
                if (version > ApiVersionsRequestData.HIGHEST_SUPPORTED_VERSION) {
                    // an unknown version gets UNSUPPORTED_VERSION in v0, with our range, as Kafka answers
                    answered = 0;
                }
                ApiVersionsResponseData a = new ApiVersionsResponseData().setErrorCode(answered == version
                        ? Errors.NONE.code() : Errors.UNSUPPORTED_VERSION.code());
                a.apiKeys().add(new ApiVersionsResponseData.ApiVersion().setApiKey(API_VERSIONS)
                        .setMinVersion(ApiVersionsRequestData.LOWEST_SUPPORTED_VERSION)
                        .setMaxVersion(ApiVersionsRequestData.HIGHEST_SUPPORTED_VERSION));
                a.apiKeys().add(new ApiVersionsResponseData.ApiVersion().setApiKey(METADATA)
                        .setMinVersion(MetadataRequestData.LOWEST_SUPPORTED_VERSION)
                        .setMaxVersion(MetadataRequestData.HIGHEST_SUPPORTED_VERSION));
                body = a;
                version = answered;
            } else if (apiKey == METADATA) {
                boolean flexible = version >= 9;
                RequestHeaderData header = new RequestHeaderData(r, (short) (flexible ? 2 : 1));
                correlationId = header.correlationId();
                responseHeaderVersion = (short) (flexible ? 1 : 0);
                MetadataResponseData m = new MetadataResponseData().setClusterId(CLUSTER_ID).setControllerId(0);
                m.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(0).setHost("127.0.0.1")
                        .setPort(port.get()));
                body = m;
            } else {
                ctx.close();
                return;
            }
            ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
            ObjectSerializationCache cache = new ObjectSerializationCache();
            MessageSizeAccumulator size = new MessageSizeAccumulator();
            header.addSize(size, cache, responseHeaderVersion);
            body.addSize(size, cache, version);
            ByteBuf out = ctx.alloc().buffer(4 + size.totalSize());
            out.writeInt(size.totalSize());
            ByteBuffer nio = out.nioBuffer(4, size.totalSize());
            ByteBufferAccessor w = new ByteBufferAccessor(nio);
            header.write(w, cache, responseHeaderVersion);
            body.write(w, cache, version);
            out.writerIndex(4 + size.totalSize());
            ctx.writeAndFlush(out);
        }
    }
}
