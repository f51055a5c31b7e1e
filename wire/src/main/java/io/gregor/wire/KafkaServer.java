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
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.gregor.wire.security.ListenerSecurity;
import io.gregor.wire.security.SaslServerHandler;
import io.gregor.wire.security.TlsHandshakeHandler;
import io.netty.handler.timeout.IdleStateHandler;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;

/** The Kafka listener: accepts connections and builds each one's pipeline of small handlers. */
public final class KafkaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaServer.class);

    private final Settings settings;
    private final ListenerSecurity security;
    private final ApiRegistry registry;
    private final Executor requestPool;
    private final List<RequestInterceptor> interceptors;
    private final RequestObserver observer;
    private final RequestThrottler throttler;
    private final Time time;
    private final EventLoopGroup acceptors;
    private final NetworkThreads workers;
    private final Class<? extends ServerSocketChannel> channelType;
    private Channel serverChannel;
    /** Open connections, so a clean close can let each answer what it has read before closing it. */
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    /** How long a clean close waits for requests already read to be answered (a long-polling fetch is cut off). */
    private static final long DRAIN_TIMEOUT_MS = 5_000;

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
        this(settings, ListenerSecurity.plaintext(settings.listenerName()), registry, interceptors,
                RequestObserver.NONE, requestPool, Time.SYSTEM);
    }

    /** @param time the broker's clock, which stamps each request's arrival */
    public KafkaServer(Settings settings, ApiRegistry registry, List<RequestInterceptor> interceptors, Executor requestPool,
                       Time time) {
        this(settings, ListenerSecurity.plaintext(settings.listenerName()), registry, interceptors,
                RequestObserver.NONE, requestPool, time);
    }

    /**
     * @param security the listener's TLS and SASL parts (plaintext: none)
     * @param observer told of every answered request with its timings (request metrics)
     * @param time     the broker's clock, which stamps each request's arrival
     */
    public KafkaServer(Settings settings, ListenerSecurity security, ApiRegistry registry,
                       List<RequestInterceptor> interceptors, RequestObserver observer, Executor requestPool, Time time) {
        this(settings, security, registry, interceptors, observer, RequestThrottler.NONE, requestPool, time);
    }

    /** @param throttler the client quotas, which throttle a client's connections */
    public KafkaServer(Settings settings, ListenerSecurity security, ApiRegistry registry,
                       List<RequestInterceptor> interceptors, RequestObserver observer, RequestThrottler throttler,
                       Executor requestPool, Time time) {
        this.throttler = throttler;
        this.time = time;
        this.settings = settings;
        this.security = security;
        this.observer = observer;
        this.registry = registry;
        this.interceptors = List.copyOf(interceptors);
        this.requestPool = requestPool;
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.channelType = Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.acceptors = new MultiThreadIoEventLoopGroup(1, io);
        this.workers = new NetworkThreads(settings.listenerName(), settings.networkThreads(), io);
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
                        connections.add(ch);
                        ch.closeFuture().addListener(f -> connections.remove(ch));
                        if (settings.sendBufferBytes() > 0) {
                            ch.config().setSendBufferSize(settings.sendBufferBytes());
                        }
                        if (settings.receiveBufferBytes() > 0) {
                            ch.config().setReceiveBufferSize(settings.receiveBufferBytes());
                        }
                        ChannelPipeline pipeline = ch.pipeline();
                        if (security.tls()) {
                            // the engine carries Kafka's ssl.* settings; responses leave as buffers, never file regions
                            pipeline.addLast("tls", new SslHandler(security.newSslEngine(ch.remoteAddress())))
                                    .addLast("tlsHandshake", new TlsHandshakeHandler(security))
                                    .addLast("chunkedWriter", new ChunkedWriteHandler());
                        }
                        FrameDecoder frames = new FrameDecoder(settings.maxFrameBytes());
                        pipeline.addLast("idle", new IdleStateHandler(0, 0, settings.idleTimeoutMs(), TimeUnit.MILLISECONDS) {
                                    @Override
                                    protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx, IdleStateEvent evt) {
                                        log.debug("Closing idle connection from {}", ctx.channel().remoteAddress());
                                        ctx.close();
                                    }
                                })
                                .addLast("frameDecoder", frames)
                                // before the SASL handler, which writes its answers through it
                                .addLast("responseEncoder", new ResponseEncoder(!security.tls()));
                        if (security.sasl()) {
                            pipeline.addLast("sasl", new SaslServerHandler(security, registry, frames, time));
                        }
                        pipeline.addLast("requestDecoder", new RequestDecoder(registry, settings.listenerName(),
                                        security.protocol(), time))
                                .addLast("requestProcessor", new RequestProcessor(registry, interceptors, observer, throttler, requestPool,
                                        settings.maxInFlightRequests(), settings.maxInFlightBytes(), time));
                    }
                });
        String host = settings.host() == null || settings.host().isEmpty() ? "0.0.0.0" : settings.host();
        serverChannel = bootstrap.bind(host, settings.port()).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        log.info("Listener {} ({}) bound to {} ({} transport)", settings.listenerName(), security.protocol(), bound,
                Epoll.isAvailable() ? "epoll" : "nio");
        return bound;
    }

    /** The threads that read and write this listener's connections (started lazily, so possibly fewer than configured). */
    public List<Thread> networkThreads() {
        return workers.threads();
    }

    /**
     * num.network.threads changed at runtime: new connections are spread over this many new threads, open
     * connections stay on theirs (their responses keep their order), and the old threads stop once their
     * connections have closed.
     */
    public void resizeNetworkThreads(int threads) {
        int before = workers.size();
        workers.resize(threads);
        if (before != threads) {
            log.info("Listener {}: {} network threads for new connections (num.network.threads, was {})",
                    settings.listenerName(), threads, before);
        }
    }

    /**
     * Stops accepting, stops reading, waits (up to {@value #DRAIN_TIMEOUT_MS} ms) until every request already
     * read is answered, then closes the connections. The request pool must still run meanwhile.
     */
    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        List<CompletableFuture<Void>> drains = new ArrayList<>();
        for (Channel ch : connections) {
            CompletableFuture<Void> drained = new CompletableFuture<>();
            drains.add(drained);
            ch.eventLoop().execute(() -> {
                RequestProcessor processor = ch.pipeline().get(RequestProcessor.class);
                if (processor == null || !ch.isActive()) {
                    drained.complete(null);
                } else {
                    processor.drain().whenComplete((v, e) -> drained.complete(null));
                }
            });
        }
        try {
            CompletableFuture.allOf(drains.toArray(new CompletableFuture[0]))
                    .get(DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.info("Listener {}: requests still unanswered after {} ms; closing their connections",
                    settings.listenerName(), DRAIN_TIMEOUT_MS);
        } catch (ExecutionException e) {
            log.warn("Listener {}: draining connections failed", settings.listenerName(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        security.close();
    }
}
