package io.gregor.compat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded wire fuzzer: one valid request per API and version the broker advertises, built with
 * kafka-clients' generated message classes, mutated (bytes flipped, cut short, sizes and versions
 * changed, frames that end early, extreme numbers written over fields) and sent through real sockets. Every frame must end in
 * an answer or a closed connection; afterwards a stock client is still served, and the broker's log
 * has no stack trace and no ERROR line: bad input gets Kafka's error code or one WARN line.
 */
class WireFuzzTest {
    private static final long SEED = 20261207L;
    private static final int FRAMES = 30_000;
    private static final int WORKERS = 6;
    /** Stops sending here even if not every frame went out, to keep the run bounded on a slow machine. */
    private static final Duration BUDGET = Duration.ofSeconds(30);
    /** A frame the broker neither answers nor closes on within this is given up (a request may wait). */
    private static final int ANSWER_TIMEOUT_MS = 200;
    private static final String TOPIC = "fuzz";
    private static final String GROUP = "fuzz-group";

    /**
     * @param validateOnlyAt where the body's validateOnly flag (set) is, or -1: mutations leave it set, so the
     *                       fuzzer does not create thousands of real topics and partitions by chance
     */
    private record Template(ApiKeys api, short version, byte[] frame, int bodyStart, int validateOnlyAt) {
    }

    @Test
    void mutatedRequestsOfEveryApiGetAnAnswerOrAClosedConnectionAndNoStackTrace() throws Exception {
        try (BrokerProcess broker = new BrokerProcess("wire-fuzz", Map.of(
                "auto.create.topics.enable", "false",
                "group.initial.rebalance.delay.ms", "0")).start()) {
            Clients.createTopic(broker.bootstrapServers(), TOPIC, 2);
            List<Template> templates = templates(broker.port());
            assertThat(templates.stream().map(Template::api).distinct().count()).as("APIs with a template")
                    .isGreaterThanOrEqualTo(20);

            AtomicLong sent = new AtomicLong();
            AtomicLong answered = new AtomicLong();
            AtomicLong closed = new AtomicLong();
            AtomicLong gaveUp = new AtomicLong();
            long deadline = System.nanoTime() + BUDGET.toNanos();
            ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                Random random = new Random(SEED + w);
                done.add(workers.submit(() -> {
                    fuzz(broker.port(), templates, random, FRAMES / WORKERS, deadline, sent, answered, closed, gaveUp);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(BUDGET.toMillis() + 30_000, TimeUnit.MILLISECONDS);
            }
            workers.shutdown();
            String outcome = String.format("%d frames: %d answered, %d closed the connection, %d given up after %d ms",
                    sent.get(), answered.get(), closed.get(), gaveUp.get(), ANSWER_TIMEOUT_MS);
            System.out.println("Wire fuzzer: " + templates.size() + " templates; " + outcome);
            assertThat(sent.get()).as(outcome).isGreaterThanOrEqualTo(10_000);
            assertThat(answered.get()).as(outcome).isPositive();
            assertThat(closed.get()).as(outcome).isPositive();

            stockClientIsServed(broker.bootstrapServers());
            assertThat(broker.isAlive()).isTrue();
            List<String> lines = Files.readAllLines(broker.outputFile(), StandardCharsets.UTF_8);
            List<String> bad = lines.stream()
                    .filter(l -> l.startsWith("\tat ") || l.startsWith("Caused by") || l.contains(" ERROR ")
                            || l.contains("Exception in thread"))
                    .toList();
            assertThat(bad).as(outcome + "; the broker's log (%s) has stack traces or errors; first ones:\n%s",
                    broker.outputFile(), firstDistinct(lines)).isEmpty();
        }
    }

    /** The lines around each distinct ERROR or stack trace, for the failure message. */
    private static String firstDistinct(List<String> lines) {
        Map<String, String> byHead = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.contains(" ERROR ") || l.contains("Exception in thread")) {
                String key = l.replaceAll("^\\S+ \\S+ \\[[^]]*] ", "").replaceAll("\\d+", "N");
                byHead.putIfAbsent(key, String.join("\n", lines.subList(i, Math.min(lines.size(), i + 8))));
            }
        }
        return byHead.values().stream().limit(12).collect(Collectors.joining("\n---\n"));
    }

    private static void stockClientIsServed(String bootstrap) {
        String topic = TestDirs.uniqueTopic("after-fuzz");
        Clients.createTopic(bootstrap, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap);
             KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap)) {
            Clients.get(producer.send(new ProducerRecord<>(topic, "k", "still served")));
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            assertThat(Clients.pollUntil(consumer, 1)).extracting(ConsumerRecord::value).containsExactly("still served");
        }
    }

    private static void fuzz(int port, List<Template> templates, Random random, int frames, long deadline,
                             AtomicLong sent, AtomicLong answered, AtomicLong closed, AtomicLong gaveUp) throws IOException {
        Socket socket = null;
        for (int i = 0; i < frames && System.nanoTime() < deadline; i++) {
            if (socket == null) {
                socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(ANSWER_TIMEOUT_MS);
                socket.setTcpNoDelay(true);
            }
            byte[] frame = mutate(templates.get(random.nextInt(templates.size())), random);
            sent.incrementAndGet();
            try {
                OutputStream out = socket.getOutputStream();
                out.write(frame);
                out.flush();
                DataInputStream in = new DataInputStream(socket.getInputStream());
                int size = in.readInt();
                in.readFully(new byte[size]);
                answered.incrementAndGet();
            } catch (SocketTimeoutException e) {
                gaveUp.incrementAndGet();
                socket.close();
                socket = null;
            } catch (EOFException | SocketException e) {
                closed.incrementAndGet();
                socket.close();
                socket = null;
            }
        }
        if (socket != null) {
            socket.close();
        }
    }

    /** A copy of the template's frame (int32 size, header, body) with one random kind of damage. */
    static byte[] mutate(Template t, Random random) {
        byte[] f = t.frame().clone();
        int body = t.bodyStart();
        int bodyLength = f.length - body;
        switch (random.nextInt(8)) {
            case 0, 1 -> { // flip a few bytes of the body
                int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips && bodyLength > 0; i++) {
                    f[body + random.nextInt(bodyLength)] ^= (byte) (1 + random.nextInt(255));
                }
            }
            case 2 -> { // cut the body short, with a size that says so
                int keep = bodyLength == 0 ? 0 : random.nextInt(bodyLength);
                f = java.util.Arrays.copyOf(f, body + keep);
                ByteBuffer.wrap(f).putInt(0, f.length - 4);
            }
            case 3, 4 -> { // an extreme number over an int16 or int32 somewhere in the body
                if (bodyLength >= 4) {
                    int at = body + random.nextInt(bodyLength - 3);
                    int[] extremes = {-1, 0, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x7FFF, 0x8000, 40, 65535};
                    int value = extremes[random.nextInt(extremes.length)];
                    if (random.nextBoolean()) {
                        ByteBuffer.wrap(f).putShort(at, (short) value);
                    } else {
                        ByteBuffer.wrap(f).putInt(at, value);
                    }
                }
            }
            case 5 -> {
                if (random.nextBoolean()) { // another version's header over this body
                    ByteBuffer.wrap(f).putShort(6, (short) (t.version() + random.nextInt(5) - 2));
                } else { // a size that ends the frame early: the rest reads as the start of another frame
                    ByteBuffer.wrap(f).putInt(0, Math.max(0, f.length - 4 - 1 - random.nextInt(Math.max(1, bodyLength))));
                }
            }
            case 6 -> { // trailing garbage
                byte[] tail = new byte[1 + random.nextInt(32)];
                random.nextBytes(tail);
                byte[] longer = java.util.Arrays.copyOf(f, f.length + tail.length);
                System.arraycopy(tail, 0, longer, f.length, tail.length);
                ByteBuffer.wrap(longer).putInt(0, longer.length - 4);
                f = longer;
            }
            default -> { // a varint or length byte set to its largest one-byte value or to "null"
                if (bodyLength > 0) {
                    f[body + random.nextInt(bodyLength)] = random.nextBoolean() ? (byte) 0x7F : (byte) 0x00;
                }
            }
        }
        if (t.validateOnlyAt() >= 0 && t.validateOnlyAt() < f.length) {
            f[t.validateOnlyAt()] = 1;
        }
        return f;
    }

    /** A valid request for every API and version the broker advertises. */
    private static List<Template> templates(int port) throws IOException {
        ApiVersionsResponseData versions;
        try (RawKafkaConnection raw = new RawKafkaConnection(port, Duration.ofSeconds(10))) {
            versions = raw.roundTrip(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("gregor-fuzz").setClientSoftwareVersion("1"),
                    ApiVersionsResponseData::new);
        }
        List<Template> templates = new ArrayList<>();
        TreeSet<String> unbuildable = new TreeSet<>();
        for (ApiVersionsResponseData.ApiVersion advertised : versions.apiKeys()) {
            if (!ApiKeys.hasId(advertised.apiKey())) {
                continue;
            }
            ApiKeys api = ApiKeys.forId(advertised.apiKey());
            short max = (short) Math.min(advertised.maxVersion(), api.latestVersion(true));
            for (short v = advertised.minVersion(); v <= max; v++) {
                Template t = template(api, v, request(api));
                if (t == null) {
                    t = template(api, v, api.messageType.newRequest());
                }
                if (t == null) {
                    unbuildable.add(api + " v" + v);
                } else {
                    templates.add(t);
                }
                List<ApiMessage> odd = new ArrayList<>(oddRequests(api));
                if (api != ApiKeys.DELETE_TOPICS) { // would delete the topic the other requests aim at
                    odd.addAll(Filler.variants(api));
                }
                for (ApiMessage oddRequest : odd) {
                    Template o = template(api, v, oddRequest);
                    if (o != null) {
                        templates.add(o);
                    }
                }
            }
        }
        return templates;
    }

    private static Template template(ApiKeys api, short version, ApiMessage body) {
        try {
            short headerVersion = api.requestHeaderVersion(version);
            RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version)
                    .setCorrelationId(7).setClientId("gregor-fuzz");
            byte[] headerBytes = RawKafkaConnection.serialize(header, headerVersion, null, version);
            byte[] payload = RawKafkaConnection.serialize(header, headerVersion, body, version);
            byte[] frame = ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array();
            // these requests end with validateOnly, then (flexible versions) the tagged field count
            int validateOnlyAt = -1;
            if (api == ApiKeys.CREATE_TOPICS || api == ApiKeys.CREATE_PARTITIONS
                    || api == ApiKeys.INCREMENTAL_ALTER_CONFIGS || api == ApiKeys.ALTER_CONFIGS) {
                int at = frame.length - (headerVersion >= 2 ? 2 : 1);
                validateOnlyAt = frame[at] == 1 ? at : -1;
            }
            return new Template(api, version, frame, 4 + headerBytes.length, validateOnlyAt);
        } catch (RuntimeException e) {
            return null; // a field this version cannot carry
        }
    }

    /**
     * Requests that parse but that no stock client sends: null where the schema allows it, negative or
     * huge numbers, unknown enum bytes, empty names. Admin requests that would change something only validate.
     */
    private static List<ApiMessage> oddRequests(ApiKeys api) {
        int[] partitions = {-1, Integer.MAX_VALUE};
        List<ApiMessage> odd = new ArrayList<>();
        switch (api) {
            case METADATA -> {
                odd.add(new MetadataRequestData().setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(""))));
                odd.add(new MetadataRequestData().setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(null))));
                odd.add(new MetadataRequestData().setTopics(List.of(new MetadataRequestData.MetadataRequestTopic()
                        .setName(null).setTopicId(org.apache.kafka.common.Uuid.randomUuid()))));
            }
            case PRODUCE -> {
                for (int p : partitions) {
                    ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
                    topics.add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                            new ProduceRequestData.PartitionProduceData().setIndex(p).setRecords(null))));
                    odd.add(new ProduceRequestData().setAcks((short) 7).setTimeoutMs(-1).setTopicData(topics));
                }
            }
            case FETCH -> {
                for (int p : partitions) {
                    odd.add(new FetchRequestData().setMaxWaitMs(-1).setMinBytes(-1).setMaxBytes(-1).setIsolationLevel((byte) 5)
                            .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                                    new FetchRequestData.FetchPartition().setPartition(p).setFetchOffset(-5)
                                            .setPartitionMaxBytes(-1).setCurrentLeaderEpoch(-7))))));
                }
            }
            case LIST_OFFSETS -> {
                for (int p : partitions) {
                    odd.add(new ListOffsetsRequestData().setReplicaId(-7).setIsolationLevel((byte) 7).setTopics(List.of(
                            new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                                    new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(p).setTimestamp(-9)
                                            .setCurrentLeaderEpoch(-3))))));
                }
            }
            case OFFSET_FOR_LEADER_EPOCH -> {
                OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
                topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(List.of(
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(-1).setLeaderEpoch(-5),
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                                .setLeaderEpoch(Integer.MAX_VALUE).setCurrentLeaderEpoch(Integer.MAX_VALUE))));
                odd.add(new OffsetForLeaderEpochRequestData().setReplicaId(-9).setTopics(topics));
            }
            case FIND_COORDINATOR -> {
                odd.add(new FindCoordinatorRequestData().setKey("").setKeyType((byte) 9).setCoordinatorKeys(List.of("")));
                odd.add(new FindCoordinatorRequestData().setKey(GROUP).setKeyType((byte) 1).setCoordinatorKeys(List.of(GROUP)));
            }
            case JOIN_GROUP -> odd.add(new JoinGroupRequestData().setGroupId("").setSessionTimeoutMs(-1)
                    .setRebalanceTimeoutMs(-1).setMemberId("nobody").setProtocolType(""));
            case SYNC_GROUP -> odd.add(new SyncGroupRequestData().setGroupId("").setGenerationId(-5).setMemberId("")
                    .setProtocolType(null).setProtocolName(null));
            case HEARTBEAT -> odd.add(new HeartbeatRequestData().setGroupId("").setGenerationId(-1).setMemberId(""));
            case LEAVE_GROUP -> odd.add(new LeaveGroupRequestData().setGroupId("").setMemberId("")
                    .setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("").setReason(null))));
            case OFFSET_COMMIT -> {
                for (int p : partitions) {
                    odd.add(new OffsetCommitRequestData().setGroupId(GROUP).setGenerationIdOrMemberEpoch(-9)
                            .setMemberId("").setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic()
                                    .setName(TOPIC).setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                            .setPartitionIndex(p).setCommittedOffset(-5).setCommittedMetadata(null)
                                            .setCommittedLeaderEpoch(-9))))));
                }
            }
            case OFFSET_FETCH -> {
                odd.add(new OffsetFetchRequestData().setGroupId("").setTopics(null)
                        .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("").setTopics(null))));
                odd.add(new OffsetFetchRequestData().setGroupId(GROUP).setTopics(List.of(
                                new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC).setPartitionIndexes(List.of(-1))))
                        .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(GROUP)
                                .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(TOPIC)
                                        .setPartitionIndexes(List.of(-1)))))));
            }
            case CREATE_TOPICS -> {
                int[][] shapes = {{-7, -3}, {0, 0}, {Integer.MAX_VALUE, 1}, {1, Short.MAX_VALUE}};
                for (int[] shape : shapes) {
                    CreateTopicsRequestData.CreatableTopicCollection topics = new CreateTopicsRequestData.CreatableTopicCollection();
                    topics.add(new CreateTopicsRequestData.CreatableTopic().setName("fuzz-odd").setNumPartitions(shape[0])
                            .setReplicationFactor((short) shape[1]));
                    odd.add(new CreateTopicsRequestData().setTopics(topics).setTimeoutMs(-1).setValidateOnly(true));
                }
                for (String name : new String[] {"", ".", "..", "a/b", "x".repeat(300)}) {
                    CreateTopicsRequestData.CreatableTopicCollection topics = new CreateTopicsRequestData.CreatableTopicCollection();
                    CreateTopicsRequestData.CreatableTopicConfigCollection configs =
                            new CreateTopicsRequestData.CreatableTopicConfigCollection();
                    configs.add(new CreateTopicsRequestData.CreatableTopicConfig().setName("retention.ms").setValue(null));
                    configs.add(new CreateTopicsRequestData.CreatableTopicConfig().setName("").setValue("x"));
                    topics.add(new CreateTopicsRequestData.CreatableTopic().setName(name).setNumPartitions(-1)
                            .setReplicationFactor((short) -1).setConfigs(configs));
                    odd.add(new CreateTopicsRequestData().setTopics(topics).setTimeoutMs(1000).setValidateOnly(true));
                }
            }
            case CREATE_PARTITIONS -> {
                for (int count : new int[] {-1, 0, Integer.MAX_VALUE}) {
                    CreatePartitionsRequestData.CreatePartitionsTopicCollection topics =
                            new CreatePartitionsRequestData.CreatePartitionsTopicCollection();
                    topics.add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(TOPIC).setCount(count)
                            .setAssignments(List.of(new CreatePartitionsRequestData.CreatePartitionsAssignment()
                                    .setBrokerIds(List.of(-1, 99)))));
                    odd.add(new CreatePartitionsRequestData().setTopics(topics).setTimeoutMs(-1).setValidateOnly(true));
                }
            }
            case DELETE_RECORDS -> {
                for (int p : partitions) {
                    odd.add(new DeleteRecordsRequestData().setTimeoutMs(-1).setTopics(List.of(
                            new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC).setPartitions(List.of(
                                    new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(p).setOffset(-5))))));
                }
            }
            case DESCRIBE_CONFIGS -> {
                for (byte type : new byte[] {99, -1, 0, 4, 8, 16}) {
                    odd.add(new DescribeConfigsRequestData().setResources(List.of(
                            new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType(type)
                                    .setResourceName("").setConfigurationKeys(null))));
                }
            }
            case INCREMENTAL_ALTER_CONFIGS -> {
                for (byte op : new byte[] {0, 2, 3, 9, -1}) {
                    IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection resources =
                            new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
                    IncrementalAlterConfigsRequestData.AlterableConfigCollection configs =
                            new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
                    configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("cleanup.policy")
                            .setConfigOperation(op).setValue(null));
                    resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                            .setResourceName(TOPIC).setConfigs(configs));
                    odd.add(new IncrementalAlterConfigsRequestData().setResources(resources).setValidateOnly(true));
                }
            }
            case ELECT_LEADERS -> {
                for (byte type : new byte[] {40, -1, 1}) {
                    odd.add(new ElectLeadersRequestData().setElectionType(type).setTimeoutMs(-1)
                            .setTopicPartitions(new ElectLeadersRequestData.TopicPartitionsCollection(List.of(
                                    new ElectLeadersRequestData.TopicPartitions().setTopic("").setPartitions(List.of(-1)))
                                    .iterator())));
                }
            }
            case DESCRIBE_LOG_DIRS -> {
                DescribeLogDirsRequestData.DescribableLogDirTopicCollection topics =
                        new DescribeLogDirsRequestData.DescribableLogDirTopicCollection();
                topics.add(new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic("").setPartitions(List.of(-1)));
                odd.add(new DescribeLogDirsRequestData().setTopics(topics));
            }
            case INIT_PRODUCER_ID -> {
                odd.add(new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(-1)
                        .setProducerId(Long.MAX_VALUE).setProducerEpoch((short) 5));
                odd.add(new InitProducerIdRequestData().setTransactionalId("").setTransactionTimeoutMs(Integer.MAX_VALUE)
                        .setProducerId(-1).setProducerEpoch((short) -1));
            }
            case DESCRIBE_GROUPS -> odd.add(new DescribeGroupsRequestData().setGroups(List.of("", GROUP)));
            default -> {
            }
        }
        return odd;
    }

    /**
     * Requests filled field by field through the generated classes' setters, so every field of every API
     * gets the same treatment: one element in every list, every number -1, 0 or its type's largest value,
     * validateOnly set (so admin requests change nothing), strings the fuzzed topic's name but for one that
     * is null. A version that cannot carry some field simply gets no such request.
     */
    private static final class Filler {
        private static final Object NO_VALUE = new Object();
        private final int number; // -1, 0 or 1 for the type's largest value
        private final int nullAt;
        private int strings;

        private Filler(int number, int nullAt) {
            this.number = number;
            this.nullAt = nullAt;
        }

        static List<ApiMessage> variants(ApiKeys api) {
            List<ApiMessage> variants = new ArrayList<>();
            for (int number : new int[] {-1, 0, 1}) {
                variants.add(new Filler(number, -1).fill(api.messageType.newRequest()));
            }
            Filler counter = new Filler(0, -1);
            counter.fill(api.messageType.newRequest());
            for (int i = 0; i < Math.min(counter.strings, 8); i++) {
                variants.add(new Filler(0, i).fill(api.messageType.newRequest()));
            }
            return variants;
        }

        private ApiMessage fill(ApiMessage message) {
            fillObject(message, 0);
            return message;
        }

        private void fillObject(Object target, int depth) {
            java.lang.reflect.Method[] methods = target.getClass().getMethods();
            java.util.Arrays.sort(methods, java.util.Comparator.comparing(java.lang.reflect.Method::getName));
            for (java.lang.reflect.Method setter : methods) {
                String name = setter.getName();
                if (!name.startsWith("set") || setter.getParameterCount() != 1 || name.equals("setPrev")
                        || name.equals("setNext")) {
                    continue;
                }
                // validateOnly is set, so admin requests change nothing; other flags keep their defaults, as a
                // flag set at a version without it makes the whole request unserializable
                Object value = setter.getParameterTypes()[0] == boolean.class
                        ? (name.equals("setValidateOnly") ? Boolean.TRUE : NO_VALUE)
                        : value(setter.getParameterTypes()[0], setter.getGenericParameterTypes()[0], depth);
                if (value != NO_VALUE) {
                    try {
                        setter.invoke(target, value);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private Object value(Class<?> type, java.lang.reflect.Type generic, int depth) {
            if (type == int.class || type == Integer.class) {
                return number == 1 ? Integer.MAX_VALUE : number;
            } else if (type == short.class || type == Short.class) {
                return number == 1 ? Short.MAX_VALUE : (short) number;
            } else if (type == long.class || type == Long.class) {
                return number == 1 ? Long.MAX_VALUE : (long) number;
            } else if (type == byte.class || type == Byte.class) {
                return number == 1 ? Byte.MAX_VALUE : (byte) number;
            } else if (type == double.class) {
                return number == 1 ? Double.MAX_VALUE : (double) number;
            } else if (type == String.class) {
                return strings++ == nullAt ? null : TOPIC;
            } else if (type == byte[].class) {
                return new byte[] {1};
            } else if (depth >= 3) {
                return NO_VALUE;
            } else if (List.class.isAssignableFrom(type) && generic instanceof java.lang.reflect.ParameterizedType p) {
                Class<?> element = (Class<?>) p.getActualTypeArguments()[0];
                List list = new ArrayList();
                Object item = element(element, depth);
                if (item == NO_VALUE) {
                    return NO_VALUE;
                }
                list.add(item);
                return list;
            } else if (java.util.Collection.class.isAssignableFrom(type)
                    && type.getGenericSuperclass() instanceof java.lang.reflect.ParameterizedType p) {
                try {
                    java.util.Collection collection = (java.util.Collection) type.getConstructor().newInstance();
                    Object item = element((Class<?>) p.getActualTypeArguments()[0], depth);
                    if (item == NO_VALUE) {
                        return NO_VALUE;
                    }
                    collection.add(item);
                    return collection;
                } catch (ReflectiveOperationException e) {
                    return NO_VALUE;
                }
            }
            return NO_VALUE; // Uuids, records: left as they are
        }

        private Object element(Class<?> element, int depth) {
            if (org.apache.kafka.common.protocol.Message.class.isAssignableFrom(element)) {
                try {
                    Object item = element.getConstructor().newInstance();
                    fillObject(item, depth + 1);
                    return item;
                } catch (ReflectiveOperationException e) {
                    return NO_VALUE;
                }
            }
            return value(element, element, depth + 1);
        }
    }

    /** A request with content, where an empty one would leave most of the handler untouched. */
    private static ApiMessage request(ApiKeys api) {
        return switch (api) {
            case METADATA -> new MetadataRequestData().setTopics(List.of(
                    new MetadataRequestData.MetadataRequestTopic().setName(TOPIC)));
            case PRODUCE -> {
                ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
                topics.add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                        new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                                Compression.NONE, new SimpleRecord("k".getBytes(StandardCharsets.UTF_8),
                                        "v".getBytes(StandardCharsets.UTF_8)))))));
                yield new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000).setTopicData(topics);
            }
            case FETCH -> new FetchRequestData().setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                    .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                            new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                    .setPartitionMaxBytes(1 << 16)))));
            case LIST_OFFSETS -> new ListOffsetsRequestData().setReplicaId(-1).setTopics(List.of(
                    new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                            new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1)))));
            case OFFSET_FOR_LEADER_EPOCH -> {
                OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
                topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(
                        List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                                .setLeaderEpoch(0))));
                yield new OffsetForLeaderEpochRequestData().setReplicaId(-1).setTopics(topics);
            }
            case FIND_COORDINATOR -> new FindCoordinatorRequestData().setKey(GROUP).setCoordinatorKeys(List.of(GROUP));
            case JOIN_GROUP -> {
                JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols =
                        new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
                protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[4]));
                yield new JoinGroupRequestData().setGroupId(GROUP).setSessionTimeoutMs(10_000)
                        .setRebalanceTimeoutMs(100).setMemberId("").setProtocolType("consumer").setProtocols(protocols);
            }
            case SYNC_GROUP -> new SyncGroupRequestData().setGroupId(GROUP).setGenerationId(1).setMemberId("m")
                    .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId("m")
                            .setAssignment(new byte[4])));
            case HEARTBEAT -> new HeartbeatRequestData().setGroupId(GROUP).setGenerationId(1).setMemberId("m");
            case LEAVE_GROUP -> new LeaveGroupRequestData().setGroupId(GROUP).setMemberId("m")
                    .setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("m")));
            case DESCRIBE_GROUPS -> new DescribeGroupsRequestData().setGroups(List.of(GROUP));
            case OFFSET_COMMIT -> new OffsetCommitRequestData().setGroupId(GROUP).setGenerationIdOrMemberEpoch(-1)
                    .setMemberId("").setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic()
                            .setName(TOPIC).setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                    .setPartitionIndex(0).setCommittedOffset(1)))));
            case OFFSET_FETCH -> new OffsetFetchRequestData().setGroupId(GROUP).setTopics(List.of(
                            new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC).setPartitionIndexes(List.of(0))))
                    .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(GROUP)
                            .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(TOPIC)
                                    .setPartitionIndexes(List.of(0))))));
            case CREATE_TOPICS -> {
                CreateTopicsRequestData.CreatableTopicCollection topics = new CreateTopicsRequestData.CreatableTopicCollection();
                topics.add(new CreateTopicsRequestData.CreatableTopic().setName("fuzz-created").setNumPartitions(1)
                        .setReplicationFactor((short) 1));
                yield new CreateTopicsRequestData().setTopics(topics).setTimeoutMs(1000).setValidateOnly(true);
            }
            case CREATE_PARTITIONS -> {
                CreatePartitionsRequestData.CreatePartitionsTopicCollection topics =
                        new CreatePartitionsRequestData.CreatePartitionsTopicCollection();
                topics.add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(TOPIC).setCount(3));
                yield new CreatePartitionsRequestData().setTopics(topics).setTimeoutMs(1000).setValidateOnly(true);
            }
            case DELETE_RECORDS -> new DeleteRecordsRequestData().setTimeoutMs(1000).setTopics(List.of(
                    new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC).setPartitions(List.of(
                            new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(0)))));
            case DESCRIBE_CONFIGS -> new DescribeConfigsRequestData().setResources(List.of(
                    new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                            .setResourceName(TOPIC).setConfigurationKeys(List.of("retention.ms"))));
            case INCREMENTAL_ALTER_CONFIGS -> {
                IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection resources =
                        new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
                IncrementalAlterConfigsRequestData.AlterableConfigCollection configs =
                        new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
                configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                        .setConfigOperation((byte) 0).setValue("600000"));
                resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                        .setResourceName(TOPIC).setConfigs(configs));
                yield new IncrementalAlterConfigsRequestData().setResources(resources).setValidateOnly(true);
            }
            case ELECT_LEADERS -> new ElectLeadersRequestData().setElectionType((byte) 0).setTimeoutMs(1000)
                    .setTopicPartitions(new ElectLeadersRequestData.TopicPartitionsCollection(List.of(
                            new ElectLeadersRequestData.TopicPartitions().setTopic(TOPIC).setPartitions(List.of(0)))
                            .iterator()));
            case DESCRIBE_LOG_DIRS -> {
                DescribeLogDirsRequestData.DescribableLogDirTopicCollection topics =
                        new DescribeLogDirsRequestData.DescribableLogDirTopicCollection();
                topics.add(new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic(TOPIC).setPartitions(List.of(0)));
                yield new DescribeLogDirsRequestData().setTopics(topics);
            }
            case INIT_PRODUCER_ID -> new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000)
                    .setProducerId(-1).setProducerEpoch((short) -1);
            default -> api.messageType.newRequest();
        };
    }
}
