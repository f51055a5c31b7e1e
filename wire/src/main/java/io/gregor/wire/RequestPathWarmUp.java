package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs a Metadata request through a listener's pipeline on an in-memory channel, so that the classes of a
 * fresh JVM's first answer (the pipeline's, the buffer allocator's, the Metadata messages') are loaded
 * off the critical path: in a test JVM without a class-data archive they take a few hundred ms.
 */
final class RequestPathWarmUp {
    private RequestPathWarmUp() {
    }

    static void run() {
        ApiRegistry registry = new ApiRegistry().register(ApiKeys.METADATA, (short) 0, Short.MAX_VALUE,
                request -> CompletableFuture.completedFuture(new MetadataResponseData()));
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1 << 20),
                new RequestDecoder(registry, "warm-up"), new ResponseEncoder(),
                new RequestProcessor(registry, List.of(), Runnable::run, 1, 1 << 20));
        try {
            short version = ApiKeys.METADATA.latestVersion();
            ByteBuffer body = new MetadataRequest.Builder(new MetadataRequestData().setTopics(null))
                    .build(version).serializeWithHeader(new RequestHeader(ApiKeys.METADATA, version, "warm-up", 0));
            ByteBuf frame = ByteBufAllocator.DEFAULT.ioBuffer(4 + body.remaining());
            frame.writeInt(body.remaining());
            frame.writeBytes(body);
            channel.writeInbound(frame);
            channel.runPendingTasks();
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
