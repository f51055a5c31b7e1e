package io.gregor.broker.fetchsession;

import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchMetadata;
import org.apache.kafka.common.utils.internals.ImplicitLinkedHashCollection;

import java.util.Iterator;
import java.util.List;

/**
 * How one fetch request relates to the session cache: which partitions it reads and how its answer is
 * finished. The handler reads {@link #topics()} (possibly twice, when the fetch waits for data), building one
 * topic response per topic and one partition answer per partition in that order, then {@link #answer}s.
 */
public final class FetchContext {
    private enum Kind { ERROR, SESSIONLESS, FULL, INCREMENTAL }

    private final Kind kind;
    private final Errors error;
    private final List<FetchTopic> topics;
    private final FetchSessionCache cache;
    private final boolean usesTopicIds;
    private final boolean follower;
    private final FetchSession session;
    private final int requestEpoch;
    private final CachedPartition[] order;

    private FetchContext(Kind kind, Errors error, List<FetchTopic> topics, FetchSessionCache cache, boolean usesTopicIds,
                         boolean follower, FetchSession session, int requestEpoch, CachedPartition[] order) {
        this.kind = kind;
        this.error = error;
        this.topics = topics;
        this.cache = cache;
        this.usesTopicIds = usesTopicIds;
        this.follower = follower;
        this.session = session;
        this.requestEpoch = requestEpoch;
        this.order = order;
    }

    record Snapshot(List<FetchTopic> topics, CachedPartition[] order) {
    }

    static FetchContext error(Errors error) {
        return new FetchContext(Kind.ERROR, error, List.of(), null, false, false, null, 0, null);
    }

    static FetchContext sessionless(List<FetchTopic> topics) {
        return new FetchContext(Kind.SESSIONLESS, Errors.NONE, topics, null, false, false, null, 0, null);
    }

    static FetchContext full(FetchSessionCache cache, List<FetchTopic> topics, boolean usesTopicIds, boolean follower) {
        return new FetchContext(Kind.FULL, Errors.NONE, topics, cache, usesTopicIds, follower, null, 0, null);
    }

    static FetchContext incremental(FetchSession session, int requestEpoch, Snapshot snapshot) {
        return new FetchContext(Kind.INCREMENTAL, Errors.NONE, snapshot.topics(), null, session.usesTopicIds, false,
                session, requestEpoch, snapshot.order());
    }

    /** A session error (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, ...), answered at once without partitions. */
    public Errors error() {
        return error;
    }

    /** The answer to a request with a session error: the error, no session, no partitions (Kafka's). */
    public FetchResponseData errorResponse() {
        return new FetchResponseData().setErrorCode(error.code()).setSessionId(FetchMetadata.INVALID_SESSION_ID);
    }

    /** The partitions to read: the request's, or for an incremental fetch all of the session's. */
    public List<FetchTopic> topics() {
        return topics;
    }

    /**
     * Finishes the answer read from {@link #topics()}: a full fetch opens a session with every partition if the
     * cache lets it; an incremental one leaves out the partitions with nothing new for the client and moves
     * those that returned records to the end of the session's order.
     */
    public FetchResponseData answer(FetchResponseData response) {
        switch (kind) {
            case FULL -> response.setSessionId(cache.maybeCreate(follower, usesTopicIds, cachedPartitions(response)));
            case INCREMENTAL -> {
                return incrementalAnswer(response);
            }
            default -> response.setSessionId(FetchMetadata.INVALID_SESSION_ID);
        }
        return response;
    }

    private ImplicitLinkedHashCollection<CachedPartition> cachedPartitions(FetchResponseData response) {
        int count = 0;
        for (FetchTopic t : topics) {
            count += t.partitions().size();
        }
        ImplicitLinkedHashCollection<CachedPartition> cached = new ImplicitLinkedHashCollection<>(count);
        for (int i = 0; i < topics.size(); i++) {
            FetchTopic topic = topics.get(i);
            List<PartitionData> answers = response.responses().get(i).partitions();
            for (int j = 0; j < topic.partitions().size(); j++) {
                FetchPartition p = topic.partitions().get(j);
                CachedPartition c = new CachedPartition(topic.topic(), topic.topicId(), p);
                c.answered(answers.get(j));
                cached.add(c); // a partition named twice is cached once, as Kafka's map of the request keeps one
            }
        }
        return cached;
    }

    private FetchResponseData incrementalAnswer(FetchResponseData response) {
        synchronized (session) {
            if (session.epoch != FetchMetadata.nextEpoch(requestEpoch)) {
                // another request of this session was read meanwhile (a duplicate): this answer would be stale
                return new FetchResponseData().setErrorCode(Errors.INVALID_FETCH_SESSION_EPOCH.code()).setSessionId(session.id);
            }
            int k = 0;
            FetchableTopicResponse previous = null;
            for (Iterator<FetchableTopicResponse> topicIt = response.responses().iterator(); topicIt.hasNext(); ) {
                FetchableTopicResponse topic = topicIt.next();
                for (Iterator<PartitionData> it = topic.partitions().iterator(); it.hasNext(); ) {
                    PartitionData pd = it.next();
                    CachedPartition cached = order[k++];
                    int bytes = pd.records() == null ? 0 : pd.records().sizeInBytes();
                    if (!cached.mustRespond(pd, bytes)) {
                        it.remove();
                    } else if (bytes > 0) {
                        session.partitions.remove(cached);
                        session.partitions.mustAdd(cached);
                    }
                }
                if (topic.partitions().isEmpty()) {
                    topicIt.remove();
                } else if (previous != null && sameTopic(previous, topic)) {
                    // what was between them was left out: one entry per run of a topic, as Kafka's answer has
                    previous.partitions().addAll(topic.partitions());
                    topicIt.remove();
                } else {
                    previous = topic;
                }
            }
            return response.setSessionId(session.id);
        }
    }

    private static boolean sameTopic(FetchableTopicResponse a, FetchableTopicResponse b) {
        return a.topicId().equals(b.topicId()) && a.topic().equals(b.topic());
    }
}
