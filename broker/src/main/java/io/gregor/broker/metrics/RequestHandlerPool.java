package io.gregor.broker.metrics;

import com.yammer.metrics.core.Metered;
import com.yammer.metrics.core.MetricName;
import com.yammer.metrics.core.MetricProcessor;
import org.apache.kafka.common.utils.Time;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The request threads (num.io.threads), measuring the time they spend running requests for
 * kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent. Kafka's is a meter of idle
 * nanoseconds per thread in a nanosecond rate unit, so that its rates are the idle share 0..1; this one has
 * the same attributes, its rates averaged over exactly the sampled intervals (a Yammer meter's own 5 s ticks
 * would not line up with the samples, and its rates would wander above 1). Per task: two clock reads and an
 * uncontended add.
 */
public final class RequestHandlerPool extends ThreadPoolExecutor {
    private static final double[] WINDOWS_SECONDS = {60, 300, 900};

    private final LongAdder busyNanos = new LongAdder();
    private final ThreadLocal<long[]> started = ThreadLocal.withInitial(() -> new long[1]);
    private final Time time;
    private volatile int threads;
    private final IdleShare idle = new IdleShare();

    public RequestHandlerPool(int threads, BlockingQueue<Runnable> queue, ThreadFactory factory, Time time) {
        super(threads, threads, 0, TimeUnit.MILLISECONDS, queue, factory);
        this.time = time;
        this.threads = threads;
    }

    @Override
    protected void beforeExecute(Thread t, Runnable r) {
        started.get()[0] = time.nanoseconds();
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
        busyNanos.add(time.nanoseconds() - started.get()[0]);
    }

    /** num.io.threads changed at runtime (a dynamic broker config); growing raises the maximum first. */
    public synchronized void resize(int newThreads) {
        if (newThreads > getMaximumPoolSize()) {
            setMaximumPoolSize(newThreads);
            setCorePoolSize(newThreads);
        } else {
            setCorePoolSize(newThreads);
            setMaximumPoolSize(newThreads);
        }
        threads = newThreads;
    }

    /** Registers the metric; {@link #sample()} then updates it. */
    public void register(BrokerMetrics metrics) {
        idle.reset(time.nanoseconds(), busyNanos.sum());
        metrics.add("kafka.server", "KafkaRequestHandlerPool", "RequestHandlerAvgIdlePercent", Map.of(), idle);
    }

    /** Takes the idle share since the previous sample into the rates; the broker calls it every second. */
    public void sample() {
        idle.sample(time.nanoseconds(), busyNanos.sum(), threads);
    }

    /** Kafka's idle-percent meter: count in idle nanoseconds per thread, rates in idle share. */
    private static final class IdleShare implements Metered {
        private long startNanos;
        private long lastNanos;
        private long lastBusy;
        private long count;
        private final double[] rates = {1.0, 1.0, 1.0};

        synchronized void reset(long now, long busy) {
            startNanos = now;
            lastNanos = now;
            lastBusy = busy;
        }

        synchronized void sample(long now, long busy, int threads) {
            long elapsed = now - lastNanos;
            if (elapsed <= 0) {
                return;
            }
            long idleNanos = Math.max(0, Math.min(elapsed, (elapsed * threads - (busy - lastBusy)) / threads));
            double share = idleNanos / (double) elapsed;
            for (int i = 0; i < rates.length; i++) {
                double alpha = 1 - Math.exp(-elapsed / (WINDOWS_SECONDS[i] * 1e9));
                rates[i] += alpha * (share - rates[i]);
            }
            count += idleNanos;
            lastNanos = now;
            lastBusy = busy;
        }

        @Override
        public TimeUnit rateUnit() {
            return TimeUnit.NANOSECONDS;
        }

        @Override
        public String eventType() {
            return "percent";
        }

        @Override
        public synchronized long count() {
            return count;
        }

        @Override
        public synchronized double oneMinuteRate() {
            return rates[0];
        }

        @Override
        public synchronized double fiveMinuteRate() {
            return rates[1];
        }

        @Override
        public synchronized double fifteenMinuteRate() {
            return rates[2];
        }

        @Override
        public synchronized double meanRate() {
            return lastNanos == startNanos ? 1.0 : count / (double) (lastNanos - startNanos);
        }

        @Override
        public <T> void processWith(MetricProcessor<T> processor, MetricName name, T context) throws Exception {
            processor.processMeter(name, this, context);
        }
    }
}
