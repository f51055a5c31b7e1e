package io.gregor.wire;

import io.gregor.wire.security.Authenticated;
import io.gregor.wire.security.SaslSession;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Per connection: hands requests to their handlers one at a time in arrival order (on the request
 * pool, never on the event loop), and writes the answers in that same order however they complete.
 * Reading stops while too much is unanswered, or while the channel is not writable (its answers wait
 * above the write buffer's high water mark because the client does not read them): like Kafka, which
 * reads no more from a connection until its previous answer is sent, a client that never reads fills
 * only its own socket buffers, and one connection's memory stays bounded. Interceptors
 * (see {@link RequestInterceptor}) sit between decoding and the handler and between the handler and
 * the writer; while none is active a request takes the plain path and allocates nothing for them.
 */
public final class RequestProcessor extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestProcessor.class);

    private static final RequestInterceptor[] NO_INTERCEPTORS = new RequestInterceptor[0];

    private final ApiRegistry registry;
    private final RequestInterceptor[] interceptors;
    private final RequestObserver observer;
    private final RequestThrottler throttler;
    /** Throttled answers whose throttle time has not yet passed: reading waits while there are any (KIP-219). */
    private int throttles;
    /** The connection's SASL login, once there is one: it expires and re-authenticates (KIP-368). */
    private SaslSession saslSession;
    /** Set once the connection is to close after what it has read is answered: no more is read. */
    private boolean closing;
    private final Time time;
    private final SerialExecutor serial;
    private final int maxInFlightRequests;
    private final long maxInFlightBytes;
    /** Touched only on the event loop. */
    private final ArrayDeque<Slot> unanswered = new ArrayDeque<>();
    private long inFlightBytes;
    /**
     * Once a write failed (or the connection broke) it is going away: the answers queued behind it fail too,
     * unlogged.
     */
    private boolean writeFailed;
    private ChannelHandlerContext ctx;
    /** Set by {@link #drain()}: the server is closing; nothing more is read, what was read is answered. */
    private CompletableFuture<Void> drained;

    public RequestProcessor(ApiRegistry registry, Executor requestPool, int maxInFlightRequests, long maxInFlightBytes) {
        this(registry, List.of(), requestPool, maxInFlightRequests, maxInFlightBytes);
    }

    public RequestProcessor(ApiRegistry registry, List<RequestInterceptor> interceptors, Executor requestPool,
                            int maxInFlightRequests, long maxInFlightBytes) {
        this(registry, interceptors, RequestObserver.NONE, requestPool, maxInFlightRequests, maxInFlightBytes);
    }

    public RequestProcessor(ApiRegistry registry, List<RequestInterceptor> interceptors, RequestObserver observer,
                            Executor requestPool, int maxInFlightRequests, long maxInFlightBytes) {
        this(registry, interceptors, observer, requestPool, maxInFlightRequests, maxInFlightBytes, Time.SYSTEM);
    }

    /** @param time the broker's clock, the one that stamped each request's arrival (the observer's timings) */
    public RequestProcessor(ApiRegistry registry, List<RequestInterceptor> interceptors, RequestObserver observer,
                            Executor requestPool, int maxInFlightRequests, long maxInFlightBytes, Time time) {
        this(registry, interceptors, observer, RequestThrottler.NONE, requestPool, maxInFlightRequests, maxInFlightBytes,
                time);
    }

    /** @param throttler the client quotas: what throttles a client, and for how long */
    public RequestProcessor(ApiRegistry registry, List<RequestInterceptor> interceptors, RequestObserver observer,
                            RequestThrottler throttler, Executor requestPool, int maxInFlightRequests,
                            long maxInFlightBytes, Time time) {
        this.throttler = throttler;
        this.time = time;
        this.registry = registry;
        this.observer = observer;
        this.interceptors = interceptors.isEmpty() ? NO_INTERCEPTORS : interceptors.toArray(NO_INTERCEPTORS);
        this.serial = new SerialExecutor(requestPool);
        this.maxInFlightRequests = maxInFlightRequests;
        this.maxInFlightBytes = maxInFlightBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        KafkaRequest request = (KafkaRequest) msg;
        if (closing) {
            request.release(); // read along with the request that closes the connection
            return;
        }
        Slot slot = new Slot(request);
        unanswered.addLast(slot);
        inFlightBytes += request.frameSize();
        SaslSession session = saslSession;
        if (session != null) {
            long now = time.nanoseconds();
            if (session.reauthenticating()
                    || (request.apiKey() == ApiKeys.SASL_HANDSHAKE && session.beginReauthentication(now))) {
                slot.reauthentication = session;
            } else if (session.expired(now)) {
                // KIP-368: what was read before is still answered, then the connection goes
                session.closedExpired();
                slot.disconnect = true;
                slot.disconnectReason = "its SASL session expired without re-authentication";
                closing = true;
                ctx.channel().config().setAutoRead(false);
                slot.dequeuedNanos = now;
                slot.localDoneNanos = now;
                slot.answerReadyNanos = now;
                answered(slot, null);
                return;
            }
        }
        if (mustPauseReading()) {
            ctx.channel().config().setAutoRead(false);
        }
        serial.execute(() -> dispatch(slot));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof Authenticated authenticated && authenticated.session() != null) {
            saslSession = authenticated.session();
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(!mustPauseReading());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (drained != null) {
            drained.complete(null); // nobody left to answer
        }
        ctx.fireChannelInactive();
    }

    private boolean mustPauseReading() {
        return drained != null || closing || throttles > 0 || unanswered.size() >= maxInFlightRequests
                || inFlightBytes >= maxInFlightBytes || !ctx.channel().isWritable();
    }

    /**
     * Clean shutdown of the listener: stops reading, lets every request already read finish and its answer
     * reach the socket. Completes then (or when the connection goes away). Without it a produce appended to
     * the log as the connection closed went unanswered, and its retry after a restart could be stored twice:
     * a producer snapshot remembers only each producer's last batch. Call on the channel's event loop.
     */
    CompletableFuture<Void> drain() {
        if (drained == null) {
            drained = new CompletableFuture<>();
            ctx.channel().config().setAutoRead(false);
            completeDrainIfIdle();
        }
        return drained;
    }

    private void completeDrainIfIdle() {
        if (drained == null || !unanswered.isEmpty() || drained.isDone()) {
            return;
        }
        if (!ctx.channel().isActive()) {
            drained.complete(null);
            return;
        }
        CompletableFuture<Void> done = drained;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> done.complete(null));
    }

    private void dispatch(Slot slot) {
        KafkaRequest request = slot.request;
        slot.dequeuedNanos = time.nanoseconds();
        request.authorizer(registry.authorizer());
        CompletionStage<? extends ApiMessage> answer;
        try {
            RequestAction action = anyInterceptorActive() ? intercept(slot) : null;
            if (action != null && action.kind() == RequestAction.Kind.ANSWER) {
                answer = CompletableFuture.completedFuture(action.response());
            } else if (action != null && action.kind() == RequestAction.Kind.DISCONNECT) {
                slot.disconnect = true;
                answer = CompletableFuture.completedFuture(null);
            } else if (request.apiKey() == ApiKeys.API_VERSIONS && request.body() == null) {
                slot.responseVersion = 0;
                answer = CompletableFuture.completedFuture(registry.apiVersionsResponse(Errors.UNSUPPORTED_VERSION));
            } else if (slot.reauthentication != null) {
                try {
                    answer = CompletableFuture.completedFuture(slot.reauthentication.handle(request.apiKey(), request.body(),
                            request.apiVersion(), time.nanoseconds()));
                } finally {
                    slot.closeAfterAnswer = slot.reauthentication.failed();
                }
            } else {
                if (throttler.isActive()) {
                    throttler.beforeHandling(request);
                }
                answer = registry.lookup(request.apiKey()).handler().handle(request);
            }
        } catch (Throwable t) {
            answer = CompletableFuture.failedFuture(t);
        }
        slot.localDoneNanos = time.nanoseconds();
        answer.whenComplete((response, error) -> ctx.executor().execute(() -> complete(slot, response, error)));
    }

    private boolean anyInterceptorActive() {
        for (RequestInterceptor interceptor : interceptors) {
            if (interceptor.isActive()) {
                return true;
            }
        }
        return false;
    }

    /** Runs the request hooks; the first interceptor that does not proceed decides. Delays add up. */
    private RequestAction intercept(Slot slot) {
        RequestContext context = new RequestContext(slot.request);
        slot.context = context;
        for (RequestInterceptor interceptor : interceptors) {
            RequestAction action = interceptor.onRequest(context);
            switch (action.kind()) {
                case PROCEED -> {
                }
                case DELAY -> slot.delayMillis += action.delayMillis();
                default -> {
                    return action;
                }
            }
        }
        return RequestAction.proceed();
    }

    private void complete(Slot slot, ApiMessage response, Throwable error) {
        slot.answerReadyNanos = time.nanoseconds();
        if (error != null) {
            response = errorResponse(slot.request, error);
            if (response == null) {
                ctx.close();
            }
        }
        long delayMillis = slot.delayMillis;
        if (throttler.isActive() && !slot.disconnect && slot.reauthentication == null) {
            try {
                RequestThrottler.Throttle throttle = throttler.onAnswer(slot.request, response,
                        slot.localDoneNanos - slot.dequeuedNanos);
                if (throttle != null && throttle.millis() > 0) {
                    slot.throttleMillis = throttle.millis();
                    if (throttle.beforeSending()) {
                        // a client too old to throttle itself: its answer waits, and nothing is read meanwhile
                        delayMillis += throttle.millis();
                        startThrottle(throttle.millis());
                        slot.throttleMillis = 0;
                    }
                }
            } catch (RuntimeException e) {
                log.error("Client quotas failed on the {} answer; sending it unthrottled", slot.request.apiKey(), e);
            }
        }
        if (slot.context != null && response != null && !slot.disconnect) {
            for (RequestInterceptor interceptor : interceptors) {
                try {
                    ResponseAction action = interceptor.onResponse(slot.context, response);
                    if (action.replacement() != null) {
                        response = action.replacement();
                    }
                    delayMillis += action.delayMillis();
                } catch (RuntimeException e) {
                    // a broken interceptor must not leave the slot unanswered: that would stall the connection
                    log.error("Interceptor {} failed on the {} answer; sending it as it is", interceptor,
                            slot.request.apiKey(), e);
                }
            }
        }
        if (delayMillis > 0) {
            // held on the event loop's timer, not a sleeping thread; later answers queue behind this slot
            ApiMessage delayed = response;
            ctx.executor().schedule(() -> answered(slot, delayed), delayMillis, TimeUnit.MILLISECONDS);
        } else {
            answered(slot, response);
        }
    }

    /** Marks the slot answered and writes every answer at the head of the queue that is ready, in request order. */
    private void answered(Slot slot, ApiMessage response) {
        slot.done = true;
        slot.response = response;
        boolean wrote = false;
        while (!unanswered.isEmpty() && unanswered.peekFirst().done) {
            Slot head = unanswered.pollFirst();
            inFlightBytes -= head.request.frameSize();
            boolean active = ctx.channel().isActive();
            if (head.context != null && active) {
                for (RequestInterceptor interceptor : interceptors) {
                    try {
                        interceptor.onAnswered(head.context, head.disconnect ? null : head.response, head.disconnect);
                    } catch (RuntimeException e) {
                        log.error("Interceptor {} failed observing the {} answer", interceptor, head.request.apiKey(), e);
                    }
                }
            }
            if (head.disconnect && active) {
                log.info("Closing the connection from {} instead of answering {} (correlation id {}), as {}",
                        head.request.connection().clientAddress(), head.request.apiKey(),
                        head.request.header().correlationId(),
                        head.disconnectReason == null ? "an interceptor asked" : head.disconnectReason);
                if (wrote) {
                    ctx.flush();
                    wrote = false;
                }
                ctx.close();
            } else if (head.response != null && active) {
                long sendStart = time.nanoseconds();
                long throttleMillis = head.throttleMillis;
                if (throttleMillis > 0) {
                    throttles++; // nothing more is read from now; the throttle time runs from when the answer is sent
                    ctx.channel().config().setAutoRead(false);
                }
                ctx.write(new KafkaResponse(head.request.header(), head.responseVersion, head.response)).addListener(f -> {
                    if (throttleMillis > 0) {
                        ctx.executor().schedule(this::endThrottle, throttleMillis, TimeUnit.MILLISECONDS);
                    }
                    if (!f.isSuccess()) {
                        writeFailed(head.request, f.cause());
                    } else {
                        observed(head, sendStart, time.nanoseconds());
                    }
                });
                wrote = true;
                if (head.closeAfterAnswer) {
                    // a failed re-authentication: its answer goes, then the connection
                    closing = true;
                    ctx.flush();
                    wrote = false;
                    ctx.close();
                }
            } else {
                if (head.throttleMillis > 0 && active) {
                    startThrottle(head.throttleMillis); // no answer to send (acks=0): muted from now
                }
                long now = time.nanoseconds();
                observed(head, now, now);
            }
            head.request.release();
        }
        if (wrote) {
            ctx.flush();
        }
        if (!ctx.channel().config().isAutoRead() && !mustPauseReading()) {
            ctx.channel().config().setAutoRead(true);
        }
        completeDrainIfIdle();
    }

    /** Stops reading for {@code millis} from now (on the event loop). */
    private void startThrottle(long millis) {
        throttles++;
        ctx.channel().config().setAutoRead(false);
        ctx.executor().schedule(this::endThrottle, millis, TimeUnit.MILLISECONDS);
    }

    private void endThrottle() {
        throttles--;
        if (ctx.channel().isActive() && !ctx.channel().config().isAutoRead() && !mustPauseReading()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void observed(Slot slot, long sendStartNanos, long sentNanos) {
        try {
            observer.requestCompleted(slot.request, slot.dequeuedNanos, slot.localDoneNanos, slot.answerReadyNanos,
                    sendStartNanos, sentNanos);
        } catch (RuntimeException e) {
            log.error("Request observer {} failed on a {} request", observer, slot.request.apiKey(), e);
        }
    }

    /**
     * Logs the first failed write of the connection and closes it. A peer that went away is not the
     * broker's fault (one line, no stack trace); anything else, such as an answer that cannot be
     * encoded, is.
     */
    private void writeFailed(KafkaRequest request, Throwable cause) {
        if (writeFailed) {
            return;
        }
        writeFailed = true;
        if (cause instanceof java.io.IOException) {
            log.info("Cannot write the {} v{} response to {} ({}); closing the connection and dropping its other answers",
                    request.apiKey(), request.apiVersion(), request.connection().clientAddress(), cause.toString());
        } else {
            log.error("Cannot write the {} v{} response to {}; closing the connection",
                    request.apiKey(), request.apiVersion(), request.connection().clientAddress(), cause);
        }
        ctx.close();
    }

    /** Kafka's error response for this request type, or null when even that cannot be built. */
    private static ApiMessage errorResponse(KafkaRequest request, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof InvalidRequestException) {
            // the client's fault, and worth one line: a client library or tool sending what Kafka rejects
            log.warn("Invalid {} v{} request from {} (client id {}): {}", request.apiKey(), request.apiVersion(),
                    request.connection().clientAddress(), request.clientId(), cause.getMessage());
        } else if (cause instanceof ApiException) {
            log.debug("{} from {} failed: {}", request.apiKey(), request.connection().clientAddress(), cause.toString());
        } else {
            log.error("{} v{} from {} failed unexpectedly", request.apiKey(), request.apiVersion(),
                    request.connection().clientAddress(), cause);
        }
        try {
            AbstractRequest parsed = AbstractRequest.parseRequest(request.apiKey(), request.apiVersion(),
                    new org.apache.kafka.common.protocol.ByteBufferAccessor(request.bodyBuffer())).request;
            return parsed.getErrorResponse(0, cause).data();
        } catch (RuntimeException e) {
            log.error("Cannot build an error response for {}; closing the connection", request.apiKey(), e);
            return null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        writeFailed = true; // this line is the connection's one: its queued answers will fail silently
        log.info("Closing connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private static final class Slot {
        final KafkaRequest request;
        /** Set only when an interceptor was active as the request arrived. */
        RequestContext context;
        boolean disconnect;
        /** Why the connection closes instead of answering; null: an interceptor asked. */
        String disconnectReason;
        /** The SASL session re-authenticating with this request, or null. */
        SaslSession reauthentication;
        boolean closeAfterAnswer;
        /** How long reading pauses once the answer is sent (client quotas). */
        long throttleMillis;
        long delayMillis;
        boolean done;
        ApiMessage response;
        short responseVersion;
        /** Where the request's time went, for the {@link RequestObserver}. */
        long dequeuedNanos;
        long localDoneNanos;
        long answerReadyNanos;

        Slot(KafkaRequest request) {
            this.request = request;
            this.responseVersion = request.apiVersion();
        }
    }
}
