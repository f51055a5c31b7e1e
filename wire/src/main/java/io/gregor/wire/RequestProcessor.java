package io.gregor.wire;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Per connection: hands requests to their handlers one at a time in arrival order (on the request
 * pool, never on the event loop), and writes the answers in that same order however they complete.
 * Reading stops while too much is unanswered, so one connection's memory stays bounded.
 */
public final class RequestProcessor extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestProcessor.class);

    private final ApiRegistry registry;
    private final SerialExecutor serial;
    private final int maxInFlightRequests;
    private final long maxInFlightBytes;
    /** Touched only on the event loop. */
    private final ArrayDeque<Slot> unanswered = new ArrayDeque<>();
    private long inFlightBytes;
    private ChannelHandlerContext ctx;

    public RequestProcessor(ApiRegistry registry, Executor requestPool, int maxInFlightRequests, long maxInFlightBytes) {
        this.registry = registry;
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
        Slot slot = new Slot(request);
        unanswered.addLast(slot);
        inFlightBytes += request.frameSize();
        if (unanswered.size() >= maxInFlightRequests || inFlightBytes >= maxInFlightBytes) {
            ctx.channel().config().setAutoRead(false);
        }
        serial.execute(() -> dispatch(slot));
    }

    private void dispatch(Slot slot) {
        KafkaRequest request = slot.request;
        CompletionStage<? extends ApiMessage> answer;
        try {
            if (request.apiKey() == ApiKeys.API_VERSIONS && request.body() == null) {
                slot.responseVersion = 0;
                answer = CompletableFuture.completedFuture(registry.apiVersionsResponse(Errors.UNSUPPORTED_VERSION));
            } else {
                answer = registry.lookup(request.apiKey()).handler().handle(request);
            }
        } catch (Throwable t) {
            answer = CompletableFuture.failedFuture(t);
        }
        answer.whenComplete((response, error) -> ctx.executor().execute(() -> complete(slot, response, error)));
    }

    private void complete(Slot slot, ApiMessage response, Throwable error) {
        slot.done = true;
        if (error != null) {
            response = errorResponse(slot.request, error);
            if (response == null) {
                ctx.close();
            }
        }
        slot.response = response;
        boolean wrote = false;
        while (!unanswered.isEmpty() && unanswered.peekFirst().done) {
            Slot head = unanswered.pollFirst();
            inFlightBytes -= head.request.frameSize();
            if (head.response != null && ctx.channel().isActive()) {
                ctx.write(new KafkaResponse(head.request.header(), head.responseVersion, head.response)).addListener(f -> {
                    if (!f.isSuccess()) {
                        log.error("Cannot write the {} v{} response to {}; closing the connection",
                                head.request.apiKey(), head.request.apiVersion(),
                                head.request.connection().clientAddress(), f.cause());
                        ctx.close();
                    }
                });
                wrote = true;
            }
            head.request.release();
        }
        if (wrote) {
            ctx.flush();
        }
        if (!ctx.channel().config().isAutoRead()
                && unanswered.size() < maxInFlightRequests && inFlightBytes < maxInFlightBytes) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** Kafka's error response for this request type, or null when even that cannot be built. */
    private static ApiMessage errorResponse(KafkaRequest request, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ApiException) {
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
        log.info("Closing connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private static final class Slot {
        final KafkaRequest request;
        boolean done;
        ApiMessage response;
        short responseVersion;

        Slot(KafkaRequest request) {
            this.request = request;
            this.responseVersion = request.apiVersion();
        }
    }
}
