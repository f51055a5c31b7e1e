package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The connection pipeline on an in-memory channel: framing, answers in request order however the
 * handlers complete, and the interceptor chain's answers, disconnects, delays and replacements.
 * Requests run on the calling thread, so every step is deterministic.
 */
class RequestProcessorTest {
    private static final short VERSION = 12;

    /** Metadata handler: echoes the first requested topic name back; topics named "hold-*" wait for the test. */
    private final Map<String, CompletableFuture<ApiMessage>> held = new ConcurrentHashMap<>();
    private final AtomicInteger handled = new AtomicInteger();
    private EmbeddedChannel channel;

    private EmbeddedChannel channel(RequestInterceptor... interceptors) {
        ApiRegistry registry = new ApiRegistry().register(ApiKeys.METADATA, (short) 0, Short.MAX_VALUE, request -> {
            handled.incrementAndGet();
            String topic = ((MetadataRequestData) request.body()).topics().get(0).name();
            if (topic.startsWith("hold-")) {
                return held.computeIfAbsent(topic, t -> new CompletableFuture<>());
            }
            return CompletableFuture.completedFuture(answer(topic, Errors.NONE));
        });
        channel = new EmbeddedChannel(new FrameDecoder(1 << 20), new RequestDecoder(registry, "PLAINTEXT"),
                new ResponseEncoder(), new RequestProcessor(registry, List.of(interceptors), Runnable::run, 100, 1 << 20));
        channel.freezeTime();
        return channel;
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static MetadataResponseData answer(String topic, Errors error) {
        MetadataResponseData data = new MetadataResponseData();
        data.topics().add(new MetadataResponseData.MetadataResponseTopic().setName(topic).setErrorCode(error.code()));
        return data;
    }

    private static ByteBuf frame(int correlationId, String topic) {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false);
        data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(topic));
        ByteBuffer body = new MetadataRequest.Builder(data).build(VERSION)
                .serializeWithHeader(new RequestHeader(ApiKeys.METADATA, VERSION, "test-client", correlationId));
        ByteBuf frame = Unpooled.buffer(4 + body.remaining());
        frame.writeInt(body.remaining());
        frame.writeBytes(body);
        return frame;
    }

    private record Answer(int correlationId, String topic, Errors error) {
    }

    /** Everything the channel wrote, parsed into answers in the order they went out. */
    private List<Answer> answers() {
        channel.runPendingTasks();
        ByteBuf all = Unpooled.buffer();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) out;
            all.writeBytes(buf);
            buf.release();
        }
        List<Answer> answers = new ArrayList<>();
        ByteBuffer in = all.nioBuffer();
        while (in.hasRemaining()) {
            int size = in.getInt();
            ByteBuffer frame = in.slice(in.position(), size);
            in.position(in.position() + size);
            ResponseHeader header = ResponseHeader.parse(frame, ApiKeys.METADATA.responseHeaderVersion(VERSION));
            MetadataResponse response = (MetadataResponse) AbstractResponse.parseResponse(ApiKeys.METADATA,
                    new ByteBufferAccessor(frame), VERSION);
            MetadataResponseData.MetadataResponseTopic topic = response.data().topics().iterator().next();
            answers.add(new Answer(header.correlationId(), topic.name(), Errors.forCode(topic.errorCode())));
        }
        all.release();
        return answers;
    }

    @Test
    void framesSplitAndJoinedAcrossReadsAreEachAnswered() {
        channel();
        ByteBuf first = frame(1, "a");
        ByteBuf second = frame(2, "b");
        ByteBuf joined = Unpooled.wrappedBuffer(first, second);
        // the first read ends in the middle of the second frame's size field
        int cut = first.readableBytes() + 2;
        channel.writeInbound(joined.readRetainedSlice(cut));
        assertThat(answers()).extracting(Answer::correlationId).containsExactly(1);
        channel.writeInbound(joined.readRetainedSlice(joined.readableBytes()));
        joined.release();
        assertThat(answers()).containsExactly(new Answer(2, "b", Errors.NONE));
    }

    @Test
    void answersLeaveInRequestOrderWhateverOrderHandlersCompleteIn() {
        channel();
        channel.writeInbound(frame(1, "hold-1"), frame(2, "quick"), frame(3, "hold-3"));
        assertThat(answers()).isEmpty();
        held.get("hold-3").complete(answer("hold-3", Errors.NONE));
        assertThat(answers()).isEmpty();
        held.get("hold-1").complete(answer("hold-1", Errors.NONE));
        assertThat(answers()).extracting(Answer::correlationId).containsExactly(1, 2, 3);
    }

    @Test
    void anInterceptorAnswersInsteadOfTheHandler() {
        channel(new TestInterceptor() {
            @Override
            public RequestAction onRequest(RequestContext context) {
                return RequestAction.answer(answer("refused", Errors.NOT_LEADER_OR_FOLLOWER));
            }
        });
        channel.writeInbound(frame(7, "a"));
        assertThat(answers()).containsExactly(new Answer(7, "refused", Errors.NOT_LEADER_OR_FOLLOWER));
        assertThat(handled).hasValue(0);
    }

    @Test
    void aDisconnectClosesTheConnectionAfterEarlierAnswersWithoutHandlingTheRequest() {
        channel(new TestInterceptor() {
            @Override
            public RequestAction onRequest(RequestContext context) {
                return context.correlationId() == 2 ? RequestAction.disconnect() : RequestAction.proceed();
            }
        });
        channel.writeInbound(frame(1, "a"), frame(2, "b"));
        assertThat(answers()).extracting(Answer::correlationId).containsExactly(1);
        assertThat(channel.isOpen()).isFalse();
        assertThat(handled).hasValue(1);
    }

    @Test
    void aDelayedAnswerHoldsLaterAnswersBehindItUntilItsTimeComes() {
        channel(new TestInterceptor() {
            @Override
            public ResponseAction onResponse(RequestContext context, ApiMessage response) {
                return context.correlationId() == 1 ? ResponseAction.delay(2_000) : ResponseAction.send();
            }
        });
        channel.writeInbound(frame(1, "a"), frame(2, "b"));
        assertThat(answers()).isEmpty();
        assertThat(handled).as("both handled at once; only the answers wait").hasValue(2);
        channel.advanceTimeBy(1_999, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(answers()).isEmpty();
        channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(answers()).extracting(Answer::correlationId).containsExactly(1, 2);
    }

    @Test
    void aReplacedAnswerIsWhatTheClientAndLaterHooksSee() {
        List<String> seenAnswered = new ArrayList<>();
        channel(new TestInterceptor() {
            @Override
            public ResponseAction onResponse(RequestContext context, ApiMessage response) {
                context.markInjected();
                return ResponseAction.replace(answer("replaced", Errors.UNKNOWN_TOPIC_OR_PARTITION));
            }
        }, new TestInterceptor() {
            @Override
            public void onAnswered(RequestContext context, ApiMessage response, boolean disconnected) {
                String topic = ((MetadataResponseData) response).topics().iterator().next().name();
                seenAnswered.add(context.clientId() + "/" + context.correlationId() + "/" + topic + "/"
                        + context.injected() + "/" + context.principal() + "/" + context.listenerName());
            }
        });
        channel.writeInbound(frame(4, "a"));
        assertThat(answers()).containsExactly(new Answer(4, "replaced", Errors.UNKNOWN_TOPIC_OR_PARTITION));
        assertThat(seenAnswered).containsExactly("test-client/4/replaced/true/User:ANONYMOUS/PLAINTEXT");
    }

    @Test
    void aFailingInterceptorNeitherStallsTheConnectionNorLosesTheAnswer() {
        channel(new TestInterceptor() {
            @Override
            public ResponseAction onResponse(RequestContext context, ApiMessage response) {
                throw new IllegalStateException("broken on purpose");
            }

            @Override
            public void onAnswered(RequestContext context, ApiMessage response, boolean disconnected) {
                throw new IllegalStateException("broken on purpose");
            }
        });
        channel.writeInbound(frame(1, "a"), frame(2, "b"));
        assertThat(answers()).extracting(Answer::correlationId).containsExactly(1, 2);
    }

    @Test
    void aFailingRequestHookGetsTheRequestsErrorAnswer() {
        channel(new TestInterceptor() {
            @Override
            public RequestAction onRequest(RequestContext context) {
                throw new IllegalStateException("broken on purpose");
            }
        });
        channel.writeInbound(frame(1, "a"));
        assertThat(answers()).containsExactly(new Answer(1, "a", Errors.UNKNOWN_SERVER_ERROR));
        assertThat(handled).hasValue(0);
    }

    @Test
    void inactiveInterceptorsAreNotConsulted() {
        AtomicInteger calls = new AtomicInteger();
        channel(new RequestInterceptor() {
            @Override
            public boolean isActive() {
                return false;
            }

            @Override
            public RequestAction onRequest(RequestContext context) {
                calls.incrementAndGet();
                return RequestAction.disconnect();
            }
        });
        channel.writeInbound(frame(1, "a"));
        assertThat(answers()).containsExactly(new Answer(1, "a", Errors.NONE));
        assertThat(calls).hasValue(0);
    }

    private abstract static class TestInterceptor implements RequestInterceptor {
        @Override
        public boolean isActive() {
            return true;
        }
    }
}
