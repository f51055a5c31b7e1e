package io.gregor.coordinator.txn;

import io.gregor.coordinator.CoordinatorLog;
import io.gregor.coordinator.CoordinatorRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The transaction coordinator's state machine against an in-memory __transaction_state with the broker's
 * contract, and a marker sender standing in for the partition leaders (the compat tests use the real ones).
 */
class TransactionCoordinatorTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private final MemoryLog log = new MemoryLog();
    private final Leaders leaders = new Leaders();
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    private final ManualTime time = new ManualTime();
    private final AtomicLong producerIds = new AtomicLong(1000);
    private TransactionCoordinator coordinator;

    private TransactionCoordinator start() {
        coordinator = new TransactionCoordinator(new TransactionConfig(60_000, 3_600_000, 3_600_000, 3_600_000, 10), log,
                producerIds::getAndIncrement, leaders, (topic, p) -> topic.equals("t"),
                group -> new TopicPartition("__consumer_offsets", 0), scheduler, time);
        coordinator.startup();
        return coordinator;
    }

    @AfterEach
    void stop() {
        if (coordinator != null) {
            coordinator.close();
        }
        scheduler.shutdownNow();
    }

    /** A clock the test moves: transaction timeouts and id expiry without waiting. */
    static final class ManualTime implements Time {
        private final AtomicLong nowMs = new AtomicLong(1_700_000_000_000L);

        @Override
        public long milliseconds() {
            return nowMs.get();
        }

        @Override
        public long nanoseconds() {
            return TimeUnit.MILLISECONDS.toNanos(nowMs.get());
        }

        @Override
        public void sleep(long ms) {
            nowMs.addAndGet(ms);
        }
    }

    /** __transaction_state in memory: records appended per partition, replayed in order; appends may fail. */
    static final class MemoryLog implements CoordinatorLog {
        final List<List<CoordinatorRecord>> partitions = new ArrayList<>();
        volatile boolean failAppends;

        MemoryLog() {
            for (int i = 0; i < 50; i++) {
                partitions.add(new ArrayList<>());
            }
        }

        @Override
        public int partitionCount() {
            return 50;
        }

        @Override
        public synchronized CompletableFuture<Void> append(int partition, List<CoordinatorRecord> records) {
            if (failAppends) {
                return CompletableFuture.failedFuture(new NotEnoughReplicasException("ISR too small"));
            }
            partitions.get(partition).addAll(records);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public synchronized void replay(int partition, BiConsumer<ByteBuffer, ByteBuffer> visitor) {
            for (CoordinatorRecord r : partitions.get(partition)) {
                visitor.accept(ByteBuffer.wrap(r.key()), r.value() == null ? null : ByteBuffer.wrap(r.value()));
            }
        }

        synchronized TxnSnapshot last(String id) {
            List<CoordinatorRecord> records = partitions.get(TransactionCoordinator.partitionFor(id, 50));
            CoordinatorRecord r = records.get(records.size() - 1);
            assertThat(TransactionRecords.decodeKey(ByteBuffer.wrap(r.key()))).isEqualTo(id);
            return TransactionRecords.decodeValue(ByteBuffer.wrap(r.value()));
        }
    }

    /** Partition leaders that refuse the first attempt (a leader change) and take the second. */
    static final class Leaders implements MarkerSender {
        final List<WriteTxnMarkersRequestData> received = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<WriteTxnMarkersResponseData> send(WriteTxnMarkersRequestData request) {
            received.add(request);
            Errors error = received.size() == 1 ? Errors.NOT_LEADER_OR_FOLLOWER : Errors.NONE;
            WriteTxnMarkersResponseData response = new WriteTxnMarkersResponseData();
            for (WriteTxnMarkersRequestData.WritableTxnMarker m : request.markers()) {
                WriteTxnMarkersResponseData.WritableTxnMarkerResult r =
                        new WriteTxnMarkersResponseData.WritableTxnMarkerResult().setProducerId(m.producerId());
                for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic t : m.topics()) {
                    WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult tr =
                            new WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult().setName(t.name());
                    for (int p : t.partitionIndexes()) {
                        tr.partitions().add(new WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult()
                                .setPartitionIndex(p).setErrorCode(error.code()));
                    }
                    r.topics().add(tr);
                }
                response.markers().add(r);
            }
            return CompletableFuture.completedFuture(response);
        }
    }

    @Test
    void commitWritesPrepareThenMarkersThenCompleteRetryingALeaderChange() throws Exception {
        start();
        TransactionCoordinator.InitResult init = coordinator.initProducerId("app", 10_000, -1, (short) -1).get(5, TimeUnit.SECONDS);
        assertThat(init.error()).isEqualTo(Errors.NONE);
        assertThat(coordinator.addPartitions("app", init.producerId(), init.producerEpoch(), List.of(TP))
                .get(5, TimeUnit.SECONDS)).containsEntry(TP, Errors.NONE);
        assertThat(log.last("app").state()).isEqualTo(TransactionState.ONGOING);

        assertThat(coordinator.endTransaction("app", init.producerId(), init.producerEpoch(), true).get(5, TimeUnit.SECONDS))
                .isEqualTo(Errors.NONE);
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot("app").state() == TransactionState.COMPLETE_COMMIT);
        assertThat(leaders.received).hasSize(2);
        assertThat(leaders.received.get(1).markers().get(0).transactionResult()).isTrue();
        TxnSnapshot written = log.last("app");
        assertThat(written.state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
        assertThat(written.partitions()).isEmpty();
        // a retried commit is answered again; an abort now is a state error
        assertThat(coordinator.endTransaction("app", init.producerId(), init.producerEpoch(), true).get()).isEqualTo(Errors.NONE);
        assertThat(coordinator.endTransaction("app", init.producerId(), init.producerEpoch(), false).get())
                .isEqualTo(Errors.INVALID_TXN_STATE);
    }

    @Test
    void transactionsV2EndTxnBumpsTheEpochAndRecognisesItsRetry() throws Exception {
        start();
        TransactionCoordinator.InitResult init = coordinator.initProducerId("v2", 10_000, -1, (short) -1).get(5, TimeUnit.SECONDS);
        // the partition leader adds the partition for a v2 producer
        assertThat(coordinator.addPartitions("v2", init.producerId(), init.producerEpoch(), List.of(TP), (short) 2)
                .get(5, TimeUnit.SECONDS)).containsEntry(TP, Errors.NONE);
        TransactionCoordinator.EndResult end = coordinator.endTransaction("v2", init.producerId(), init.producerEpoch(),
                true, (short) 2).get(5, TimeUnit.SECONDS);
        assertThat(end).isEqualTo(new TransactionCoordinator.EndResult(Errors.NONE, init.producerId(),
                (short) (init.producerEpoch() + 1)));
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot("v2").state() == TransactionState.COMPLETE_COMMIT);
        WriteTxnMarkersRequestData.WritableTxnMarker marker = leaders.received.get(leaders.received.size() - 1).markers().get(0);
        assertThat(marker.producerEpoch()).as("markers carry the bumped epoch").isEqualTo(end.producerEpoch());
        assertThat(marker.transactionVersion()).isEqualTo((byte) 2);
        TxnSnapshot written = log.last("v2");
        assertThat(written.producerEpoch()).isEqualTo(end.producerEpoch());
        assertThat(written.transactionVersion()).as("written with the v2 tagged fields").isEqualTo((short) 2);

        // a retry with the epoch before the bump gets the same answer; a commit at the new epoch has nothing to commit
        assertThat(coordinator.endTransaction("v2", init.producerId(), init.producerEpoch(), true, (short) 2).get())
                .isEqualTo(end);
        assertThat(coordinator.endTransaction("v2", init.producerId(), end.producerEpoch(), true, (short) 2).get().error())
                .isEqualTo(Errors.INVALID_TXN_STATE);
        // v2 may abort a transaction no partition joined: the epoch bumps again
        TransactionCoordinator.EndResult abort = coordinator.endTransaction("v2", init.producerId(), end.producerEpoch(),
                false, (short) 2).get(5, TimeUnit.SECONDS);
        assertThat(abort).isEqualTo(new TransactionCoordinator.EndResult(Errors.NONE, init.producerId(),
                (short) (end.producerEpoch() + 1)));
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot("v2").state() == TransactionState.COMPLETE_ABORT);
        // an epoch older than the last bump is a zombie
        assertThat(coordinator.endTransaction("v2", init.producerId(), init.producerEpoch(), false, (short) 2).get().error())
                .isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void transactionsV2MoveToANewProducerIdWhenTheEpochIsExhausted() throws Exception {
        String id = "exhausted";
        short lastEpoch = Short.MAX_VALUE - 1;
        TxnSnapshot ongoing = new TxnSnapshot(7, -1, lastEpoch, (short) -1, 10_000, TransactionState.ONGOING,
                Set.of(TP), time.milliseconds(), time.milliseconds(), -1L, (short) 2);
        log.append(TransactionCoordinator.partitionFor(id, 50), List.of(TransactionRecords.record(id, ongoing)));
        start();
        TransactionCoordinator.EndResult end = coordinator.endTransaction(id, 7, lastEpoch, true, (short) 2)
                .get(5, TimeUnit.SECONDS);
        assertThat(end.error()).isEqualTo(Errors.NONE);
        assertThat(end.producerId()).as("a new producer id").isNotEqualTo(7);
        assertThat(end.producerEpoch()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot(id).state() == TransactionState.COMPLETE_COMMIT);
        WriteTxnMarkersRequestData.WritableTxnMarker marker = leaders.received.get(leaders.received.size() - 1).markers().get(0);
        assertThat(marker.producerId()).as("the transaction's own id ends it").isEqualTo(7);
        assertThat(marker.producerEpoch()).isEqualTo(Short.MAX_VALUE);
        TxnSnapshot complete = log.last(id);
        assertThat(complete.producerId()).isEqualTo(end.producerId());
        assertThat(complete.previousProducerId()).isEqualTo(7);
        assertThat(complete.producerEpoch()).isZero();
        // the producer retrying with its old id and epoch is told the new ones
        assertThat(coordinator.endTransaction(id, 7, lastEpoch, true, (short) 2).get()).isEqualTo(end);
    }

    /** The coordinator fails over: a new one loads the same __transaction_state. */
    private TransactionCoordinator failOver() {
        coordinator.close();
        return start();
    }

    @Test
    void transactionsV2EndTxnRetryIsRecognisedByTheNextCoordinatorAfterAFailover() throws Exception {
        start();
        TransactionCoordinator.InitResult init = coordinator.initProducerId("v2-failover", 10_000, -1, (short) -1)
                .get(5, TimeUnit.SECONDS);
        coordinator.addPartitions("v2-failover", init.producerId(), init.producerEpoch(), List.of(TP), (short) 2)
                .get(5, TimeUnit.SECONDS);
        TransactionCoordinator.EndResult end = coordinator.endTransaction("v2-failover", init.producerId(),
                init.producerEpoch(), true, (short) 2).get(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> coordinator.snapshot("v2-failover").state() == TransactionState.COMPLETE_COMMIT);

        // the answer was lost with the old coordinator; the producer retries EndTxn v5 at the new one
        failOver();
        assertThat(coordinator.endTransaction("v2-failover", init.producerId(), init.producerEpoch(), true, (short) 2)
                .get(5, TimeUnit.SECONDS)).isEqualTo(end);
        assertThat(coordinator.endTransaction("v2-failover", init.producerId(), init.producerEpoch(), false, (short) 2)
                .get(5, TimeUnit.SECONDS).error()).as("a retry with the other result").isEqualTo(Errors.INVALID_TXN_STATE);
        // the producer's next transaction at the bumped epoch proceeds as usual
        coordinator.addPartitions("v2-failover", end.producerId(), end.producerEpoch(), List.of(TP), (short) 2)
                .get(5, TimeUnit.SECONDS);
        assertThat(coordinator.endTransaction("v2-failover", end.producerId(), end.producerEpoch(), false, (short) 2)
                .get(5, TimeUnit.SECONDS)).isEqualTo(new TransactionCoordinator.EndResult(Errors.NONE, end.producerId(),
                (short) (end.producerEpoch() + 1)));
    }

    @Test
    void transactionsV2RetryAfterTheMoveToANewProducerIdIsRecognisedAfterAFailover() throws Exception {
        String id = "exhausted-failover";
        short lastEpoch = Short.MAX_VALUE - 1;
        TxnSnapshot ongoing = new TxnSnapshot(7, -1, lastEpoch, (short) -1, 10_000, TransactionState.ONGOING,
                Set.of(TP), time.milliseconds(), time.milliseconds(), -1L, (short) 2);
        log.append(TransactionCoordinator.partitionFor(id, 50), List.of(TransactionRecords.record(id, ongoing)));
        start();
        TransactionCoordinator.EndResult end = coordinator.endTransaction(id, 7, lastEpoch, true, (short) 2)
                .get(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot(id).state() == TransactionState.COMPLETE_COMMIT);

        failOver();
        // PreviousProducerId (a tagged field of the v1 TransactionLogValue) names the id the producer retries with
        assertThat(coordinator.snapshot(id).previousProducerId()).isEqualTo(7);
        assertThat(coordinator.endTransaction(id, 7, lastEpoch, true, (short) 2).get(5, TimeUnit.SECONDS)).isEqualTo(end);
    }

    @Test
    void theProducerOfATimedOutTransactionIsFencedNotTakenForARetryBeforeAndAfterAFailover() throws Exception {
        start();
        TransactionCoordinator.InitResult init = coordinator.initProducerId("slow", 1_000, -1, (short) -1)
                .get(5, TimeUnit.SECONDS);
        coordinator.addPartitions("slow", init.producerId(), init.producerEpoch(), List.of(TP), (short) 2)
                .get(5, TimeUnit.SECONDS);
        time.sleep(1_001);
        coordinator.abortTimedOutTransactions();
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot("slow").state() == TransactionState.COMPLETE_ABORT);
        short aborted = coordinator.snapshot("slow").producerEpoch();
        assertThat(aborted).as("fenced, then bumped for the abort, as Kafka").isEqualTo((short) (init.producerEpoch() + 2));
        assertThat(leaders.received).last().satisfies(r -> assertThat(r.markers().get(0).producerEpoch()).isEqualTo(aborted));

        for (int round = 0; round < 2; round++) {
            assertThat(coordinator.endTransaction("slow", init.producerId(), init.producerEpoch(), false, (short) 2)
                    .get(5, TimeUnit.SECONDS).error()).as("round %d", round).isEqualTo(Errors.PRODUCER_FENCED);
            assertThat(coordinator.endTransaction("slow", init.producerId(), init.producerEpoch(), true, (short) 2)
                    .get(5, TimeUnit.SECONDS).error()).as("round %d", round).isEqualTo(Errors.PRODUCER_FENCED);
            failOver();
        }
    }

    @Test
    void aTransactionPreparedByThePreviousCoordinatorIsCompletedWhenItsPartitionLoads() throws Exception {
        String id = "failed-over";
        TxnSnapshot prepared = new TxnSnapshot(7, -1, (short) 3, (short) -1, 10_000, TransactionState.PREPARE_ABORT,
                Set.of(TP), time.milliseconds(), time.milliseconds());
        log.append(TransactionCoordinator.partitionFor(id, 50),
                List.of(TransactionRecords.record(id, prepared)));
        start();
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot(id).state() == TransactionState.COMPLETE_ABORT);
        assertThat(leaders.received).last().satisfies(r -> {
            assertThat(r.markers().get(0).producerId()).isEqualTo(7);
            assertThat(r.markers().get(0).producerEpoch()).isEqualTo((short) 3);
            assertThat(r.markers().get(0).transactionResult()).isFalse();
        });
        assertThat(log.last(id).state()).isEqualTo(TransactionState.COMPLETE_ABORT);
    }

    @Test
    void aWriteThatIsNotAcknowledgedChangesNothing() throws Exception {
        start();
        TransactionCoordinator.InitResult init = coordinator.initProducerId("app", 10_000, -1, (short) -1).get(5, TimeUnit.SECONDS);
        log.failAppends = true;
        assertThat(coordinator.initProducerId("app", 10_000, -1, (short) -1).get(5, TimeUnit.SECONDS).error())
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(coordinator.snapshot("app").producerEpoch()).isEqualTo(init.producerEpoch());
        log.failAppends = false;
        TransactionCoordinator.InitResult again = coordinator.initProducerId("app", 10_000, -1, (short) -1).get(5, TimeUnit.SECONDS);
        assertThat(again.producerEpoch()).isEqualTo((short) (init.producerEpoch() + 1));
    }

    @Test
    void idleTransactionalIdsExpire() throws Exception {
        start();
        coordinator.initProducerId("idle", 10_000, -1, (short) -1).get(5, TimeUnit.SECONDS);
        time.sleep(3_600_001);
        coordinator.expireTransactionalIds();
        await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.snapshot("idle") == null);
        List<CoordinatorRecord> records = log.partitions.get(coordinator.partitionFor("idle"));
        assertThat(records.get(records.size() - 1).value()).as("a tombstone").isNull();
        assertThat(coordinator.describe("idle").errorCode()).isEqualTo(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
    }
}
