package io.gregor.broker.fetchsession;

import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Kafka's eviction rules for incremental fetch sessions, on a clock the test moves. */
class FetchSessionCacheTest {
    private static final long EVICTION_MS = 120_000;
    private static final short VERSION = 12;

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AtomicInteger evictions = new AtomicInteger();
    private final Time time = new Time() {
        @Override
        public long milliseconds() {
            return now.get();
        }

        @Override
        public long nanoseconds() {
            return now.get() * 1_000_000;
        }

        @Override
        public void sleep(long ms) {
            now.addAndGet(ms);
        }
    };

    private static FetchRequestData full(String topic, int partitions) {
        List<FetchPartition> ps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            ps.add(new FetchPartition().setPartition(p).setFetchOffset(0).setPartitionMaxBytes(1024));
        }
        return new FetchRequestData().setSessionId(0).setSessionEpoch(0)
                .setTopics(new ArrayList<>(List.of(new FetchTopic().setTopic(topic).setPartitions(ps))));
    }

    /** What the handler would answer after reading: each partition with high watermark {@code hw}, no records. */
    private static FetchResponseData read(FetchContext context, long hw) {
        FetchResponseData response = new FetchResponseData();
        for (FetchTopic t : context.topics()) {
            FetchableTopicResponse rt = new FetchableTopicResponse().setTopic(t.topic()).setTopicId(t.topicId());
            for (FetchPartition p : t.partitions()) {
                rt.partitions().add(new PartitionData().setPartitionIndex(p.partition()).setHighWatermark(hw)
                        .setLastStableOffset(hw).setLogStartOffset(0).setRecords(MemoryRecords.EMPTY));
            }
            response.responses().add(rt);
        }
        return response;
    }

    private int open(FetchSessionCache cache, String topic, int partitions, boolean follower) {
        FetchContext context = cache.newContext(VERSION, full(topic, partitions), follower);
        return context.answer(read(context, 5)).sessionId();
    }

    private static Errors incremental(FetchSessionCache cache, int sessionId, int epoch) {
        FetchContext context = cache.newContext(VERSION, new FetchRequestData().setSessionId(sessionId)
                .setSessionEpoch(epoch), false);
        return context.error();
    }

    @Test
    void aFullCacheRefusesNewSessionsUntilOldOnesAreOlderThanTheEvictionTimeThenTheSmallestGoes() {
        FetchSessionCache cache = new FetchSessionCache(2, EVICTION_MS, time, evictions::incrementAndGet);
        int small = open(cache, "a", 3, false);
        int big = open(cache, "b", 10, false);
        assertThat(small).isPositive();
        assertThat(big).isPositive();
        assertThat(open(cache, "c", 20, false)).as("both sessions are new").isZero();

        now.addAndGet(EVICTION_MS / 2);
        assertThat(incremental(cache, small, 1)).isEqualTo(Errors.NONE);
        assertThat(incremental(cache, big, 1)).isEqualTo(Errors.NONE);
        now.addAndGet(EVICTION_MS / 2 + 1);
        assertThat(incremental(cache, small, 2)).isEqualTo(Errors.NONE);
        assertThat(incremental(cache, big, 2)).isEqualTo(Errors.NONE);
        assertThat(open(cache, "d", 2, false)).as("fewer partitions than any: worth less").isZero();
        int bigger = open(cache, "c", 20, false);
        assertThat(bigger).isPositive();
        assertThat(incremental(cache, small, 3)).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        assertThat(incremental(cache, big, 3)).isEqualTo(Errors.NONE);
        assertThat(evictions).hasValue(1);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.partitionsCached()).isEqualTo(30);
    }

    @Test
    void aStaleSessionGivesWayToAnyNewOne() {
        FetchSessionCache cache = new FetchSessionCache(1, EVICTION_MS, time, evictions::incrementAndGet);
        int first = open(cache, "a", 10, false);
        now.addAndGet(EVICTION_MS + 1);
        int second = open(cache, "b", 1, false);
        assertThat(second).isPositive();
        assertThat(incremental(cache, first, 1)).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
    }

    @Test
    void aFollowerTakesTheSlotOfAConsumerButNotTheReverse() {
        FetchSessionCache cache = new FetchSessionCache(1, EVICTION_MS, time, evictions::incrementAndGet);
        int consumer = open(cache, "a", 10, false);
        int follower = open(cache, "b", 1, true);
        assertThat(follower).isPositive();
        assertThat(incremental(cache, consumer, 1)).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        now.addAndGet(EVICTION_MS + 1);
        assertThat(incremental(cache, follower, 1)).isEqualTo(Errors.NONE);
        assertThat(open(cache, "c", 100, false)).as("a consumer never takes a follower's slot").isZero();
    }

    @Test
    void aRepeatedEpochIsRefusedAndEpochMinusOneClosesTheSession() {
        FetchSessionCache cache = new FetchSessionCache(10, EVICTION_MS, time, evictions::incrementAndGet);
        int session = open(cache, "a", 2, false);
        assertThat(incremental(cache, session, 1)).isEqualTo(Errors.NONE);
        assertThat(incremental(cache, session, 1)).isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
        assertThat(incremental(cache, session, 2)).isEqualTo(Errors.NONE);
        FetchContext close = cache.newContext(VERSION, new FetchRequestData().setSessionId(session).setSessionEpoch(-1), false);
        assertThat(close.answer(read(close, 5)).sessionId()).isZero();
        assertThat(incremental(cache, session, 3)).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        assertThat(cache.size()).isZero();
    }

    @Test
    void anIncrementalAnswerCarriesOnlyPartitionsWithNews() {
        FetchSessionCache cache = new FetchSessionCache(10, EVICTION_MS, time, evictions::incrementAndGet);
        int session = open(cache, "a", 3, false);
        FetchContext context = cache.newContext(VERSION, new FetchRequestData().setSessionId(session).setSessionEpoch(1), false);
        assertThat(context.topics()).singleElement().satisfies(t -> assertThat(t.partitions()).hasSize(3));
        FetchResponseData answer = read(context, 5);
        answer.responses().get(0).partitions().get(1).setHighWatermark(6);
        assertThat(context.answer(answer).responses()).singleElement()
                .satisfies(t -> assertThat(t.partitions()).extracting(PartitionData::partitionIndex).containsExactly(1));
    }
}
