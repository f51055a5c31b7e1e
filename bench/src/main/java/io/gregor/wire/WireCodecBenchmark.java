package io.gregor.wire;

import io.gregor.bench.jmh.JmhSupport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The wire codec as the broker's pipeline runs it, on a Netty EmbeddedChannel: FrameDecoder +
 * RequestDecoder for requests (Produce with one 16 KiB batch, Metadata for no topics), ResponseEncoder
 * for responses (Fetch with 16 KiB of records from the heap or as a segment file region, Metadata for
 * 20 topics of 8 partitions). Lives in io.gregor.wire to build KafkaResponse, which is package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WireCodecBenchmark {
    private EmbeddedChannel decoder;
    private EmbeddedChannel encoder;
    private ByteBuf produceFrame;
    private ByteBuf metadataFrame;
    private KafkaResponse fetchFromHeap;
    private KafkaResponse fetchFromFile;
    private KafkaResponse metadataResponse;
    private Path segmentFile;
    private FileChannel segment;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ApiRegistry registry = new ApiRegistry()
                .register(ApiKeys.PRODUCE, (short) 0, Short.MAX_VALUE, r -> CompletableFuture.completedFuture(null))
                .register(ApiKeys.METADATA, (short) 0, Short.MAX_VALUE, r -> CompletableFuture.completedFuture(null))
                .register(ApiKeys.FETCH, (short) 0, Short.MAX_VALUE, r -> CompletableFuture.completedFuture(null));
        decoder = new LoopbackEmbeddedChannel();
        decoder.pipeline().addLast(new FrameDecoder(100 << 20), new RequestDecoder(registry, "PLAINTEXT"));
        decoder.pipeline().fireChannelActive();
        encoder = new LoopbackEmbeddedChannel();
        encoder.pipeline().addLast(new ResponseEncoder());

        ByteBuffer batch = JmhSupport.batch(1024, 16384);
        short produceVersion = ApiKeys.PRODUCE.latestVersion();
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData();
        if (produceVersion >= 13) {
            topic.setTopicId(Uuid.randomUuid());
        } else {
            topic.setName("bench");
        }
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.readableRecords(batch.duplicate())));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(topic);
        produceFrame = frame(ApiKeys.PRODUCE, produceVersion,
                new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30_000).setTopicData(topics));
        short metadataVersion = ApiKeys.METADATA.latestVersion();
        metadataFrame = frame(ApiKeys.METADATA, metadataVersion,
                new MetadataRequestData().setTopics(List.of()).setAllowAutoTopicCreation(false));

        short fetchVersion = ApiKeys.FETCH.latestVersion();
        RequestHeader fetchHeader = new RequestHeader(ApiKeys.FETCH, fetchVersion, "bench", 7);
        fetchFromHeap = new KafkaResponse(fetchHeader, fetchVersion,
                fetchResponse(MemoryRecords.readableRecords(batch.duplicate())));
        segmentFile = Files.createTempFile("gregor-jmh-segment", ".log");
        Files.write(segmentFile, batch.array());
        segment = FileChannel.open(segmentFile, StandardOpenOption.READ);
        fetchFromFile = new KafkaResponse(fetchHeader, fetchVersion,
                fetchResponse(new SegmentRecords(segment, 0, batch.remaining())));

        short mdVersion = ApiKeys.METADATA.latestVersion();
        MetadataResponseData md = new MetadataResponseData().setClusterId("bench-cluster").setControllerId(0);
        md.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(0).setHost("127.0.0.1")
                .setPort(9092));
        for (int t = 0; t < 20; t++) {
            MetadataResponseData.MetadataResponseTopic mt = new MetadataResponseData.MetadataResponseTopic()
                    .setName("topic-" + t).setTopicId(Uuid.randomUuid());
            for (int p = 0; p < 8; p++) {
                mt.partitions().add(new MetadataResponseData.MetadataResponsePartition().setPartitionIndex(p)
                        .setLeaderId(0).setLeaderEpoch(0).setReplicaNodes(List.of(0)).setIsrNodes(List.of(0)));
            }
            md.topics().add(mt);
        }
        metadataResponse = new KafkaResponse(new RequestHeader(ApiKeys.METADATA, mdVersion, "bench", 8), mdVersion, md);
    }

    private static FetchResponseData fetchResponse(org.apache.kafka.common.record.internal.BaseRecords records) {
        FetchResponseData.FetchableTopicResponse t = new FetchResponseData.FetchableTopicResponse()
                .setTopicId(Uuid.randomUuid()).setTopic("bench");
        t.partitions().add(new FetchResponseData.PartitionData().setPartitionIndex(0).setHighWatermark(1000)
                .setLastStableOffset(1000).setLogStartOffset(0).setRecords(records));
        return new FetchResponseData().setSessionId(0).setResponses(List.of(t));
    }

    /** A whole request frame (size prefix, header, body) in a pooled direct buffer, as a socket read gives it. */
    private static ByteBuf frame(ApiKeys api, short version, ApiMessage body) {
        short headerVersion = api.requestHeaderVersion(version);
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setCorrelationId(1).setClientId("bench-client");
        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        body.addSize(size, cache, version);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(4 + size.totalSize());
        buf.writeInt(size.totalSize());
        ByteBufAccessor out = new ByteBufAccessor(buf);
        header.write(out, cache, headerVersion);
        body.write(out, cache, version);
        return buf;
    }

    @Benchmark
    public Object decodeProduce() {
        return decode(produceFrame);
    }

    @Benchmark
    public Object decodeMetadata() {
        return decode(metadataFrame);
    }

    @Benchmark
    public int encodeFetchHeapRecords() {
        return encode(fetchFromHeap);
    }

    @Benchmark
    public int encodeFetchFileRegion() {
        return encode(fetchFromFile);
    }

    @Benchmark
    public int encodeMetadata() {
        return encode(metadataResponse);
    }

    private Object decode(ByteBuf frame) {
        decoder.writeInbound(frame.retainedDuplicate());
        KafkaRequest request = decoder.readInbound();
        if (request == null) {
            throw new IllegalStateException("request not decoded");
        }
        request.release();
        return request;
    }

    private int encode(KafkaResponse response) {
        encoder.writeOutbound(response);
        int parts = 0;
        Object o;
        while ((o = encoder.readOutbound()) != null) {
            ReferenceCountUtil.release(o);
            parts++;
        }
        return parts;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
        produceFrame.release();
        metadataFrame.release();
        segment.close();
        Files.deleteIfExists(segmentFile);
    }

    /** RequestDecoder records the peer's InetSocketAddress; an EmbeddedChannel has none of its own. */
    private static final class LoopbackEmbeddedChannel extends EmbeddedChannel {
        @Override
        protected SocketAddress remoteAddress0() {
            return new InetSocketAddress("127.0.0.1", 40000);
        }
    }
}
