package io.gregor.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

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
            short headerVersion = ApiKeys.METADATA.requestHeaderVersion(version);
            // the generated messages directly: kafka-clients' MetadataRequest would load (and verify) all
            // hundred AbstractRequest subclasses, which no request path of the broker needs
            RequestHeaderData header = new RequestHeaderData().setRequestApiKey(ApiKeys.METADATA.id)
                    .setRequestApiVersion(version).setClientId("warm-up").setCorrelationId(0);
            MetadataRequestData body = new MetadataRequestData().setTopics(null);
            ObjectSerializationCache cache = new ObjectSerializationCache();
            MessageSizeAccumulator size = new MessageSizeAccumulator();
            header.addSize(size, cache, headerVersion);
            body.addSize(size, cache, version);
            ByteBuffer bytes = ByteBuffer.allocate(size.totalSize());
            ByteBufferAccessor out = new ByteBufferAccessor(bytes);
            header.write(out, cache, headerVersion);
            body.write(out, cache, version);
            bytes.flip();
            ByteBuf frame = ByteBufAllocator.DEFAULT.ioBuffer(4 + bytes.remaining());
            frame.writeInt(bytes.remaining());
            frame.writeBytes(bytes);
            channel.writeInbound(frame);
            channel.runPendingTasks();
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
