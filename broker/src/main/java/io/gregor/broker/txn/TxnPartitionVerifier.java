package io.gregor.broker.txn;

import io.gregor.broker.handlers.ProduceHandler;
import io.gregor.broker.interbroker.InterBrokerClient;
import io.gregor.broker.metadata.BrokerInfo;
import io.gregor.broker.metadata.MetadataStore;
import io.gregor.broker.metadata.PartitionState;
import io.gregor.coordinator.txn.TransactionCoordinator;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The partition leader's side of KIP-890 (Kafka's AddPartitionsToTxnManager): before the first transactional
 * batch of a producer's transaction is appended, the transaction coordinator is asked, with the broker form of
 * AddPartitionsToTxn, either to add the partition (transactions v2, whose clients no longer send
 * AddPartitionsToTxn) or to confirm it was added (transactions v1, verifyOnly). The coordinator is called
 * in-process when this broker leads the id's __transaction_state partition, else over the network.
 * The answer is the error the produce gets: coordinator trouble becomes NOT_ENOUGH_REPLICAS, which the
 * producer retries, as Kafka maps it.
 */
public final class TxnPartitionVerifier implements ProduceHandler.TransactionVerifier {
    private static final Logger log = LoggerFactory.getLogger(TxnPartitionVerifier.class);
    /** Kafka's add.partitions.to.txn.retry.backoff.ms and .max.ms: a transaction still completing is waited for. */
    private static final long RETRY_BACKOFF_MS = 20;
    private static final long RETRY_MAX_MS = 100;

    private final int brokerId;
    private final MetadataStore store;
    private final String transactionTopic;
    private final TransactionCoordinator coordinator;
    private final InterBrokerClient network;
    private final ScheduledExecutorService scheduler;
    private final Time time;

    public TxnPartitionVerifier(int brokerId, MetadataStore store, String transactionTopic,
                                TransactionCoordinator coordinator, InterBrokerClient network,
                                ScheduledExecutorService scheduler, Time time) {
        this.brokerId = brokerId;
        this.store = store;
        this.transactionTopic = transactionTopic;
        this.coordinator = coordinator;
        this.network = network;
        this.scheduler = scheduler;
        this.time = time;
    }

    /**
     * Adds ({@code verifyOnly} false) or verifies the partition in the producer's ongoing transaction; the
     * future holds the error for the produce (NONE to append).
     */
    @Override
    public CompletableFuture<Errors> verify(String transactionalId, long producerId, short producerEpoch,
                                            TopicPartition partition, boolean verifyOnly) {
        return verify(transactionalId, producerId, producerEpoch, partition, verifyOnly, () -> { });
    }

    @Override
    public CompletableFuture<Errors> verify(String transactionalId, long producerId, short producerEpoch,
                                            TopicPartition partition, boolean verifyOnly, Runnable beforeEachAttempt) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        attempt(transactionalId, producerId, producerEpoch, partition, verifyOnly, beforeEachAttempt,
                time.milliseconds(), done);
        return done;
    }

    private void attempt(String transactionalId, long producerId, short producerEpoch, TopicPartition partition,
                         boolean verifyOnly, Runnable beforeEachAttempt, long startMs, CompletableFuture<Errors> done) {
        CompletableFuture<Errors> asked;
        try {
            beforeEachAttempt.run();
            asked = ask(transactionalId, producerId, producerEpoch, partition, verifyOnly);
        } catch (RuntimeException e) {
            asked = CompletableFuture.failedFuture(e);
        }
        asked.whenComplete((error, e) -> {
            if (e != null) {
                log.debug("Asking the coordinator of {} about {} failed: {}", transactionalId, partition, e.toString());
            }
            Errors answer = e != null ? Errors.NETWORK_EXCEPTION : error;
            if (answer == Errors.CONCURRENT_TRANSACTIONS && !verifyOnly
                    && time.milliseconds() - startMs + RETRY_BACKOFF_MS <= RETRY_MAX_MS) {
                // the producer's previous transaction is still writing its markers
                scheduler.schedule(() -> attempt(transactionalId, producerId, producerEpoch, partition, verifyOnly,
                        beforeEachAttempt, startMs, done), RETRY_BACKOFF_MS, TimeUnit.MILLISECONDS);
                return;
            }
            if (answer != Errors.NONE) {
                log.debug("{} of {} in the transaction of {} (producer {} epoch {}) failed: {}",
                        verifyOnly ? "Verifying" : "Adding", partition, transactionalId, producerId, producerEpoch, answer);
            }
            done.complete(produceError(answer));
        });
    }

    /** Kafka's mapping of the coordinator's answer to a produce error. */
    static Errors produceError(Errors error) {
        return switch (error) {
            case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS,
                    NETWORK_EXCEPTION, REQUEST_TIMED_OUT, UNKNOWN_SERVER_ERROR -> Errors.NOT_ENOUGH_REPLICAS;
            case PRODUCER_FENCED -> Errors.INVALID_PRODUCER_EPOCH;
            default -> error;
        };
    }

    private CompletableFuture<Errors> ask(String transactionalId, long producerId, short producerEpoch,
                                          TopicPartition partition, boolean verifyOnly) {
        int statePartition = coordinator.partitionFor(transactionalId);
        int leader = store.clustered()
                ? store.partitionState(transactionTopic, statePartition).map(PartitionState::leader).orElse(-1)
                : brokerId;
        if (leader < 0) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        if (leader == brokerId) {
            if (verifyOnly) {
                return CompletableFuture.completedFuture(coordinator.verifyPartitions(transactionalId, producerId,
                        producerEpoch, List.of(partition)).get(partition));
            }
            return coordinator.addPartitions(transactionalId, producerId, producerEpoch, List.of(partition), (short) 2)
                    .thenApply(errors -> errors.get(partition));
        }
        BrokerInfo b = store.liveBrokers().stream().filter(i -> i.id() == leader).findFirst()
                .map(i -> i.on(network.listenerName())).orElse(null);
        if (b == null) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        AddPartitionsToTxnTopicCollection topics = new AddPartitionsToTxnTopicCollection();
        topics.add(new AddPartitionsToTxnTopic().setName(partition.topic()).setPartitions(List.of(partition.partition())));
        AddPartitionsToTxnTransactionCollection transactions = new AddPartitionsToTxnTransactionCollection();
        transactions.add(new AddPartitionsToTxnTransaction().setTransactionalId(transactionalId)
                .setProducerId(producerId).setProducerEpoch(producerEpoch).setVerifyOnly(verifyOnly).setTopics(topics));
        return network.send(new Node(b.id(), b.host(), b.port(), b.rack()), AddPartitionsToTxnRequest.Builder.forBroker(transactions))
                .thenApply(r -> errorFor((AddPartitionsToTxnResponseData) r, transactionalId, partition));
    }

    private static Errors errorFor(AddPartitionsToTxnResponseData response, String transactionalId, TopicPartition tp) {
        if (response.errorCode() != Errors.NONE.code()) {
            return Errors.forCode(response.errorCode());
        }
        AddPartitionsToTxnResult result = response.resultsByTransaction().find(transactionalId);
        if (result != null) {
            AddPartitionsToTxnTopicResult topic = result.topicResults().find(tp.topic());
            if (topic != null) {
                AddPartitionsToTxnPartitionResult p = topic.resultsByPartition().find(tp.partition());
                if (p != null) {
                    return Errors.forCode(p.partitionErrorCode());
                }
            }
        }
        return Errors.UNKNOWN_SERVER_ERROR;
    }
}
