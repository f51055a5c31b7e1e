package io.gregor.wire;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A listener's network threads (num.network.threads): the event loops its connections live on, resizable at
 * runtime. A resize starts a new set of loops that every new connection goes to; a connection never moves, so
 * its requests keep being read and answered in order on the loop it started on, and none is dropped. The old
 * loops stop once their last connection has closed.
 */
final class NetworkThreads extends AbstractEventExecutorGroup implements EventLoopGroup {
    /** One set of loops, with the connections still on it. */
    private record Generation(MultiThreadIoEventLoopGroup loops, List<Thread> threads, AtomicInteger connections) {
    }

    private final String listenerName;
    private final IoHandlerFactory io;
    private final AtomicInteger threadIndex = new AtomicInteger();
    private final List<Generation> retired = new CopyOnWriteArrayList<>();
    private volatile Generation current;
    private volatile boolean shuttingDown;

    NetworkThreads(String listenerName, int threads, IoHandlerFactory io) {
        this.listenerName = listenerName;
        this.io = io;
        this.current = newGeneration(threads);
    }

    private Generation newGeneration(int threads) {
        List<Thread> started = new CopyOnWriteArrayList<>();
        ThreadFactory names = r -> {
            // Kafka's network threads are named after their listener and index too
            Thread t = new Thread(r, "gregor-network-thread-" + listenerName + "-" + threadIndex.getAndIncrement());
            t.setDaemon(false);
            t.setPriority(Thread.MAX_PRIORITY);
            started.add(t);
            return t;
        };
        return new Generation(new MultiThreadIoEventLoopGroup(threads, names, io), started, new AtomicInteger());
    }

    /** How many loops new connections are spread over. */
    synchronized int size() {
        return current.loops().executorCount();
    }

    /** New connections go to {@code threads} new loops; the current ones stop when their connections have closed. */
    synchronized void resize(int threads) {
        if (shuttingDown || threads == size()) {
            return;
        }
        Generation old = current;
        current = newGeneration(threads);
        retired.add(old);
        stopIfDrained(old);
    }

    private synchronized void stopIfDrained(Generation generation) {
        if (generation != current && generation.connections().get() == 0 && retired.remove(generation)) {
            generation.loops().shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
    }

    /** Every running network thread, old loops still serving connections included. */
    List<Thread> threads() {
        List<Thread> out = new ArrayList<>(current.threads());
        for (Generation g : retired) {
            out.addAll(g.threads());
        }
        return out;
    }

    @Override
    public synchronized ChannelFuture register(Channel channel) {
        Generation generation = current;
        generation.connections().incrementAndGet();
        channel.closeFuture().addListener(f -> {
            generation.connections().decrementAndGet();
            stopIfDrained(generation);
        });
        return generation.loops().register(channel);
    }

    @Override
    public ChannelFuture register(ChannelPromise promise) {
        return register(promise.channel()).addListener(f -> {
            if (f.isSuccess()) {
                promise.trySuccess();
            } else {
                promise.tryFailure(f.cause());
            }
        });
    }

    @Override
    @Deprecated
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        return register(promise);
    }

    @Override
    public EventLoop next() {
        return current.loops().next();
    }

    @Override
    public Iterator<EventExecutor> iterator() {
        return current.loops().iterator();
    }

    private List<MultiThreadIoEventLoopGroup> all() {
        List<MultiThreadIoEventLoopGroup> out = new ArrayList<>();
        out.add(current.loops());
        retired.forEach(g -> out.add(g.loops()));
        return out;
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        synchronized (this) {
            shuttingDown = true;
        }
        Promise<Void> done = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
        List<MultiThreadIoEventLoopGroup> groups = all();
        AtomicInteger left = new AtomicInteger(groups.size());
        for (MultiThreadIoEventLoopGroup g : groups) {
            g.shutdownGracefully(quietPeriod, timeout, unit).addListener(f -> {
                if (left.decrementAndGet() == 0) {
                    done.trySuccess(null);
                }
            });
        }
        return done;
    }

    @Override
    public Future<?> terminationFuture() {
        return current.loops().terminationFuture();
    }

    @Override
    @Deprecated
    public void shutdown() {
        shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }

    @Override
    public boolean isShuttingDown() {
        return all().stream().allMatch(MultiThreadIoEventLoopGroup::isShuttingDown);
    }

    @Override
    public boolean isShutdown() {
        return all().stream().allMatch(MultiThreadIoEventLoopGroup::isShutdown);
    }

    @Override
    public boolean isTerminated() {
        return all().stream().allMatch(MultiThreadIoEventLoopGroup::isTerminated);
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        for (MultiThreadIoEventLoopGroup g : all()) {
            if (!g.awaitTermination(timeout, unit)) {
                return false;
            }
        }
        return true;
    }
}
