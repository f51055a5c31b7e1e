package io.gregor.wire;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** The Kafka listener: accepts connections and builds each one's pipeline of small handlers. */
public final class KafkaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaServer.class);

    private final Settings settings;
    private final ApiRegistry registry;
    private final Executor requestPool;
    private final List<RequestInterceptor> interceptors;
    private final Time time;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Class<? extends ServerSocketChannel> channelType;
    private Channel serverChannel;

    /**
     * @param maxFrameBytes       socket.request.max.bytes
     * @param maxInFlightRequests unanswered requests per connection before reading pauses
     * @param maxInFlightBytes    unanswered request bytes per connection before reading pauses
     * @param idleTimeoutMs       connections.max.idle.ms
     */
    public record Settings(String listenerName, String host, int port, int networkThreads, int maxFrameBytes,
                           int maxInFlightRequests, long maxInFlightBytes, long idleTimeoutMs,
                           int sendBufferBytes, int receiveBufferBytes) {
    }

    public KafkaServer(Settings settings, ApiRegistry registry, Executor requestPool) {
        this(settings, registry, List.of(), requestPool);
    }

    /** @param interceptors run on every request of every connection, in this order */
    public KafkaServer(Settings settings, ApiRegistry registry, List<RequestInterceptor> interceptors, Executor requestPool) {
        this(settings, registry, interceptors, requestPool, Time.SYSTEM);
    }

    /** @param time the broker's clock, which stamps each request's arrival */
    public KafkaServer(Settings settings, ApiRegistry registry, List<RequestInterceptor> interceptors, Executor requestPool,
                       Time time) {
        this.time = time;
        this.settings = settings;
        this.registry = registry;
        this.interceptors = List.copyOf(interceptors);
        this.requestPool = requestPool;
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.channelType = Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.acceptors = new MultiThreadIoEventLoopGroup(1, io);
        this.workers = new MultiThreadIoEventLoopGroup(settings.networkThreads(), io);
    }

    /** Binds the listener and returns the address it is bound to (the real port when 0 was asked for). */
    public InetSocketAddress start() throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (settings.sendBufferBytes() > 0) {
                            ch.config().setSendBufferSize(settings.sendBufferBytes());
                        }
                        if (settings.receiveBufferBytes() > 0) {
                            ch.config().setReceiveBufferSize(settings.receiveBufferBytes());
                        }
                        ch.pipeline()
                                .addLast("idle", new IdleStateHandler(0, 0, settings.idleTimeoutMs(), TimeUnit.MILLISECONDS) {
                                    @Override
                                    protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx, IdleStateEvent evt) {
                                        log.debug("Closing idle connection from {}", ctx.channel().remoteAddress());
                                        ctx.close();
                                    }
                                })
                                .addLast("frameDecoder", new FrameDecoder(settings.maxFrameBytes()))
                                .addLast("requestDecoder", new RequestDecoder(registry, settings.listenerName(), time))
                                .addLast("responseEncoder", new ResponseEncoder())
                                .addLast("requestProcessor", new RequestProcessor(registry, interceptors, requestPool,
                                        settings.maxInFlightRequests(), settings.maxInFlightBytes()));
                    }
                });
        String host = settings.host() == null || settings.host().isEmpty() ? "0.0.0.0" : settings.host();
        serverChannel = bootstrap.bind(host, settings.port()).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        log.info("Listener {} bound to {} ({} transport)", settings.listenerName(), bound,
                Epoll.isAvailable() ? "epoll" : "nio");
        return bound;
    }

    /** Stops accepting, then closes open connections. */
    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
