package io.gregor.broker.handlers;

import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.acl.AclOperation;
import io.gregor.broker.Topics;
import io.gregor.broker.metrics.TopicMetrics;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.AppendResult;
import io.gregor.storage.VerificationGuard;
import io.gregor.storage.errors.InvalidRecordException;
import io.gregor.storage.errors.InvalidTimestampException;
import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.BatchIndexAndErrorMessage;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;

/**
 * Produce: appends each partition's record batches to its log, as the client sent them but for the
 * fields the broker sets. acks=0 gets no answer; acks=1 is answered once the leader appended; acks=all
 * once the high watermark passed the records (every ISR member has them), without a thread waiting.
 * With fewer in-sync replicas than min.insync.replicas, acks=all is refused before the append.
 */
public final class ProduceHandler {
    private static final Logger log = LoggerFactory.getLogger(ProduceHandler.class);
    /** Kafka lets only this client id write to internal topics, for repair tools. */
    private static final String ADMIN_CLIENT_ID = "__admin_client";
    /** Record batch header offsets (Kafka's v2 batch format): attributes, producer id and epoch. */
    private static final int ATTRIBUTES_OFFSET = 21;
    private static final int PRODUCER_ID_OFFSET = 43;
    private static final int PRODUCER_EPOCH_OFFSET = 51;
    private static final int BASE_SEQUENCE_OFFSET = 53;
    private static final int BATCH_HEADER_SIZE = 61;
    private static final short TRANSACTIONAL_FLAG = 0x10;

    /** Asks the transaction coordinator about a transactional batch's partition (KIP-890). */
    public interface TransactionVerifier {
        CompletableFuture<Errors> verify(String transactionalId, long producerId, short producerEpoch,
                                         TopicPartition partition, boolean verifyOnly);

        /**
         * As above, running {@code beforeEachAttempt} before each question to the coordinator: a verifier that asks
         * again (the previous transaction still writing its markers) runs it again.
         */
        default CompletableFuture<Errors> verify(String transactionalId, long producerId, short producerEpoch,
                                                 TopicPartition partition, boolean verifyOnly, Runnable beforeEachAttempt) {
            beforeEachAttempt.run();
            return verify(transactionalId, producerId, producerEpoch, partition, verifyOnly);
        }
    }

    private final Topics topics;
    private final Time time;
    private final TransactionVerifier verifier;
    /** transaction.partition.verification.enable: v1 transactions are verified too (v2 ones always add). */
    private final boolean verifyTransactionsV1;
    /** Appends waiting for (or behind) a transaction verification, by partition and producer. */
    private final Map<PendingKey, CompletableFuture<Void>> pendingVerifications = new ConcurrentHashMap<>();
    /**
     * Append errors FailedProduceRequestsPerSec does not count, as Kafka's ReplicaManager: it counts the broker's
     * unexpected failures and invalid records, not these.
     */
    private static final java.util.Set<Errors> EXPECTED_APPEND_ERRORS = java.util.EnumSet.of(
            Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.NOT_LEADER_OR_FOLLOWER, Errors.MESSAGE_TOO_LARGE,
            Errors.RECORD_LIST_TOO_LARGE, Errors.CORRUPT_MESSAGE, Errors.KAFKA_STORAGE_ERROR,
            // a producer's own state, answered as Kafka answers it
            Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, Errors.DUPLICATE_SEQUENCE_NUMBER, Errors.INVALID_PRODUCER_EPOCH,
            Errors.PRODUCER_FENCED, Errors.UNKNOWN_PRODUCER_ID, Errors.INVALID_TXN_STATE);

    private final TopicMetrics topicMetrics;

    public ProduceHandler(Topics topics, Time time, TransactionVerifier verifier, boolean verifyTransactionsV1,
                          TopicMetrics topicMetrics) {
        this.topicMetrics = topicMetrics;
        this.topics = topics;
        this.time = time;
        this.verifier = verifier;
        this.verifyTransactionsV1 = verifyTransactionsV1;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.PRODUCE, (short) 3, Short.MAX_VALUE, this::produce);
    }

    private CompletionStage<ProduceResponseData> produce(KafkaRequest request) {
        ProduceRequestData data = request.body();
        if (!request.authorizerEnabled()) {
            return produce(data, request.apiVersion(), request.clientId(), null);
        }
        // a transactional producer needs WRITE on its transactional id, or the whole request is refused
        if (data.transactionalId() != null
                && !request.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
            return CompletableFuture.completedFuture(allPartitions(data, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
        }
        return produce(data, request.apiVersion(), request.clientId(),
                topic -> request.authorize(AclOperation.WRITE, ResourceType.TOPIC, topic));
    }

    private static ProduceResponseData allPartitions(ProduceRequestData data, Errors error) {
        ProduceResponseData response = new ProduceResponseData();
        for (ProduceRequestData.TopicProduceData topicData : data.topicData()) {
            TopicProduceResponse topicResponse = new TopicProduceResponse()
                    .setName(topicData.name()).setTopicId(topicData.topicId());
            response.responses().add(topicResponse);
            for (ProduceRequestData.PartitionProduceData partitionData : topicData.partitionData()) {
                topicResponse.partitionResponses().add(new PartitionProduceResponse().setIndex(partitionData.index())
                        .setErrorCode(error.code()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1));
            }
        }
        return data.acks() == 0 ? null : response;
    }

    /** The answer to a Produce at {@code apiVersion} that may write every topic; null for acks=0. */
    CompletionStage<ProduceResponseData> produce(ProduceRequestData data, short apiVersion, String clientId) {
        return produce(data, apiVersion, clientId, null);
    }

    /**
     * The answer to a Produce at {@code apiVersion}; null for acks=0.
     *
     * @param mayWrite whether the producer may write a topic (by name); null when every topic may be written
     */
    CompletionStage<ProduceResponseData> produce(ProduceRequestData data, short apiVersion, String clientId,
                                                 java.util.function.Predicate<String> mayWrite) {
        short acks = data.acks();
        boolean byId = apiVersion >= 13;
        ProduceResponseData response = new ProduceResponseData();
        long now = time.milliseconds();
        List<CompletableFuture<Void>> replication = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData topicData : data.topicData()) {
            TopicProduceResponse topicResponse = new TopicProduceResponse()
                    .setName(topicData.name()).setTopicId(topicData.topicId());
            response.responses().add(topicResponse);
            // refused before the topic is looked up, so its existence is not revealed; an unknown id has no name to check
            boolean refused = mayWrite != null && (byId
                    ? topics.topic(topicData.topicId()).map(t -> !mayWrite.test(t.name())).orElse(false)
                    : !mayWrite.test(topicData.name()));
            for (ProduceRequestData.PartitionProduceData partitionData : topicData.partitionData()) {
                PartitionProduceResponse result = new PartitionProduceResponse()
                        .setIndex(partitionData.index()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(result);
                if (acks != 0 && acks != 1 && acks != -1) {
                    result.setErrorCode(Errors.INVALID_REQUIRED_ACKS.code());
                    continue;
                }
                if (refused) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                    continue;
                }
                Partition partition = byId
                        ? topics.partition(topicData.topicId(), partitionData.index()).orElse(null)
                        : topics.partition(topicData.name(), partitionData.index()).orElse(null);
                if (partition == null) {
                    Errors unknown = byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    result.setErrorCode((byId ? topics.notHostedError(topicData.topicId(), partitionData.index(), unknown)
                            : topics.notHostedError(topicData.name(), partitionData.index(), unknown)).code());
                    continue;
                }
                if (!partition.isLeader()) {
                    result.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                    continue;
                }
                if (Topic.isInternal(partition.topicPartition().topic()) && !ADMIN_CLIENT_ID.equals(clientId)) {
                    result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
                            .setErrorMessage("Cannot append to internal topic " + partition.topicPartition().topic());
                    continue;
                }
                if (acks == -1 && partition.inSyncReplicaCount() < topics.minInsyncReplicas(partition)) {
                    result.setErrorCode(Errors.NOT_ENOUGH_REPLICAS.code())
                            .setErrorMessage("The ISR has " + partition.inSyncReplicaCount()
                                    + " replica(s), fewer than min.insync.replicas");
                    continue;
                }
                if (!(partitionData.records() instanceof MemoryRecords records) || records.sizeInBytes() == 0) {
                    result.setErrorCode(Errors.CORRUPT_MESSAGE.code()).setErrorMessage("No record batches");
                    continue;
                }
                boolean transactionsV2 = ProduceRequest.isTransactionV2Requested(apiVersion);
                // under verification the log refuses a transactional batch that neither joins a transaction open
                // there nor carries the guard of a verification still current (KIP-890's VerificationGuard)
                VerificationGuard guard = null;
                if ((transactionsV2 || verifyTransactionsV1) && data.transactionalId() != null
                        && isTransactional(records)) {
                    guard = VerificationGuard.SENTINEL;
                    ByteBuffer b = records.buffer();
                    long producerId = b.getLong(b.position() + PRODUCER_ID_OFFSET);
                    PendingKey key = new PendingKey(partition.topicPartition(), producerId);
                    CompletableFuture<Void> ahead = pendingVerifications.get(key);
                    if (needsVerification(partition, records) || (ahead != null && !ahead.isDone())) {
                        // A pipelining producer's later batches wait behind its first one's verification, so
                        // they reach the log in the order they were sent (their sequence numbers need that).
                        CompletableFuture<Void> after = ahead == null ? CompletableFuture.completedFuture(null)
                                : ahead.exceptionally(t -> null);
                        CompletableFuture<Void> mine = after.thenCompose(v -> verifyThenAppend(data, transactionsV2,
                                partition, records, result, acks, clientId));
                        pendingVerifications.put(key, mine);
                        mine.whenComplete((v, t) -> pendingVerifications.remove(key, mine));
                        replication.add(mine);
                        continue;
                    }
                }
                CompletableFuture<Void> appended = append(partition, records, result, acks, data.timeoutMs(), now,
                        clientId, guard);
                if (!appended.isDone()) {
                    replication.add(appended);
                }
            }
        }
        // acks=0: the client reads no answer, so none is written.
        if (replication.isEmpty()) {
            return CompletableFuture.completedFuture(acks == 0 ? null : response);
        }
        return CompletableFuture.allOf(replication.toArray(CompletableFuture[]::new))
                .thenApply(v -> acks == 0 ? null : response);
    }

    /** The first batch of a transaction here: the coordinator adds (v2) or confirms (v1) the partition, then it is appended. */
    private CompletableFuture<Void> verifyThenAppend(ProduceRequestData data, boolean transactionsV2, Partition partition,
                                                     MemoryRecords records, PartitionProduceResponse result, short acks,
                                                     String clientId) {
        if (!needsVerification(partition, records)) {
            // an earlier batch's verification opened the transaction here meanwhile
            return append(partition, records, result, acks, data.timeoutMs(), time.milliseconds(), clientId,
                    VerificationGuard.SENTINEL);
        }
        ByteBuffer b = records.buffer();
        int at = b.position();
        long producerId = b.getLong(at + PRODUCER_ID_OFFSET);
        short producerEpoch = b.getShort(at + PRODUCER_EPOCH_OFFSET);
        int baseSequence = b.getInt(at + BASE_SEQUENCE_OFFSET);
        // taken before each question to the coordinator: a marker written while the answer travels retires it, and
        // the append is refused. Not once for all attempts: the previous transaction's markers, which an attempt
        // answered CONCURRENT_TRANSACTIONS waits for, would retire it too.
        AtomicReference<VerificationGuard> guard = new AtomicReference<>();
        return verifier.verify(data.transactionalId(), producerId, producerEpoch,
                        new TopicPartition(partition.topicPartition().topic(), partition.topicPartition().partition()),
                        !transactionsV2,
                        () -> guard.set(partition.log().verificationGuard(producerId, baseSequence, producerEpoch)))
                .thenCompose(error -> {
                    if (error != Errors.NONE) {
                        result.setErrorCode(error.code()).setErrorMessage(error.message());
                        return CompletableFuture.completedFuture(null);
                    }
                    return append(partition, records, result, acks, data.timeoutMs(), time.milliseconds(), clientId,
                            guard.get());
                });
    }

    private static boolean isTransactional(MemoryRecords records) {
        ByteBuffer b = records.buffer();
        return b.remaining() >= BATCH_HEADER_SIZE && (b.getShort(b.position() + ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG) != 0;
    }

    /** A producer's batches on one partition. */
    private record PendingKey(io.gregor.storage.TopicPartition partition, long producerId) {
    }

    /**
     * Whether the request's first batch is transactional and its producer has no transaction open here at
     * that epoch (Kafka verifies only then: later batches of the transaction are known to the log).
     */
    private static boolean needsVerification(Partition partition, MemoryRecords records) {
        ByteBuffer b = records.buffer();
        int at = b.position();
        if (b.remaining() < BATCH_HEADER_SIZE || (b.getShort(at + ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG) == 0) {
            return false;
        }
        return !partition.log().hasOngoingTransaction(b.getLong(at + PRODUCER_ID_OFFSET), b.getShort(at + PRODUCER_EPOCH_OFFSET));
    }

    /** Appends as leader; completes when acks are satisfied (at once but for acks=all). */
    private CompletableFuture<Void> append(Partition partition, MemoryRecords records, PartitionProduceResponse result,
                                           short acks, int timeoutMs, long now, String clientId,
                                           VerificationGuard guard) {
        try {
            AppendResult appended = partition.appendAsLeader(records.buffer(), now, guard);
            topics.logDirHealth().appendSucceeded(partition.topicPartition());
            // offsets are assigned one per record, so the appended offsets count the records
            topicMetrics.produced(partition.topicPartition().topic(), records.sizeInBytes(),
                    appended.lastOffset() - appended.firstOffset() + 1);
            result.setBaseOffset(appended.firstOffset())
                    .setLogAppendTimeMs(appended.logAppendTimeMs())
                    .setLogStartOffset(appended.logStartOffset());
            if (acks == -1) {
                return partition.awaitReplication(appended.lastOffset() + 1,
                        topics.minInsyncReplicas(partition), timeoutMs).thenAccept(error -> {
                            if (error != Errors.NONE) {
                                result.setErrorCode(error.code()).setErrorMessage(error.message());
                            }
                        });
            }
        } catch (RuntimeException e) {
            Errors error = StorageErrors.toKafka(e);
            topics.logDirHealth().appendFailed(partition.topicPartition(), e);
            if (error == Errors.UNKNOWN_SERVER_ERROR) {
                log.error("Append to {} failed", partition.topicPartition(), e);
            } else if (error == Errors.CORRUPT_MESSAGE || error == Errors.INVALID_RECORD
                    || error == Errors.INVALID_TIMESTAMP) {
                // a client sent a batch no reader could use: one line, no stack trace
                log.warn("Append to {} from client {} rejected with {}: {}", partition.topicPartition(),
                        clientId, error.name(), e.getMessage());
            } else {
                log.debug("Append to {} rejected: {}", partition.topicPartition(), e.toString());
            }
            result.setErrorCode(error.code()).setErrorMessage(e.getMessage());
            if (!EXPECTED_APPEND_ERRORS.contains(error)) {
                topicMetrics.produceFailed(partition.topicPartition().topic());
            }
            if (e instanceof InvalidTimestampException invalid) {
                // Kafka's RecordValidationException: every record out of bounds, each with its own message
                for (int i = 0; i < invalid.recordErrorCount(); i++) {
                    result.recordErrors().add(new BatchIndexAndErrorMessage()
                            .setBatchIndex(invalid.recordIndex(i)).setBatchIndexErrorMessage(invalid.recordMessage(i)));
                }
            } else if (e instanceof InvalidRecordException invalid && invalid.recordIndex() >= 0) {
                // Kafka's record_errors (KIP-467): the producer fails that record with this message
                result.recordErrors().add(new BatchIndexAndErrorMessage()
                        .setBatchIndex(invalid.recordIndex()).setBatchIndexErrorMessage(e.getMessage()));
            }
        }
        return CompletableFuture.completedFuture(null);
    }
}
