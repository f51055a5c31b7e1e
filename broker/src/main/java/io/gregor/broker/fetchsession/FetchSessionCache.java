package io.gregor.broker.fetchsession;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchRequestData.ForgottenTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchMetadata;
import org.apache.kafka.common.utils.internals.ImplicitLinkedHashCollection;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The broker's incremental fetch sessions (KIP-227), at most {@code max.incremental.fetch.session.cache.slots}.
 * When the cache is full a new session takes the place of one that is stale (unused for the eviction time),
 * else of the least worth among those older than the eviction time (a consumer's before a follower's, then
 * the one with fewest partitions) if the new one is worth at least as much; a follower may also take a
 * consumer's newer session. Otherwise the client gets no session and keeps sending full fetches. These are
 * Kafka's rules; a size-bounded cache such as Caffeine decides evictions by its own policy, so the rules are
 * kept here in two ordered maps, as Kafka does. (Kafka 3.8+ also splits its cache into 8 shards of slots/8
 * each, only to spread lock contention; this cache is one shard holding all the slots.)
 */
public final class FetchSessionCache {
    private static final Logger log = LoggerFactory.getLogger(FetchSessionCache.class);

    private final int maxSlots;
    private final long evictionMs;
    private final Time time;
    private final Runnable onEviction;
    private final Map<Integer, FetchSession> sessions = new HashMap<>();
    private final TreeMap<FetchSession.LastUsedKey, FetchSession> lastUsed = new TreeMap<>();
    /** Sessions older than the eviction time: any new session may take their place if worth more. */
    private final TreeMap<FetchSession.EvictableKey, FetchSession> evictableByAll = new TreeMap<>();
    /** Those plus every consumer's session: a follower's new session may take their place. */
    private final TreeMap<FetchSession.EvictableKey, FetchSession> evictableByPrivileged = new TreeMap<>();
    private long partitionsCached;

    /**
     * @param evictionMs how long a session must be unused to be stale, and how old before a bigger one may
     *                   take its place (Kafka's fixed 120 s)
     * @param onEviction told of each eviction (the IncrementalFetchSessionEvictionsPerSec meter)
     */
    public FetchSessionCache(int maxSlots, long evictionMs, Time time, Runnable onEviction) {
        this.maxSlots = maxSlots;
        this.evictionMs = evictionMs;
        this.time = time;
        this.onEviction = onEviction;
    }

    /** NumIncrementalFetchSessions. */
    public synchronized int size() {
        return sessions.size();
    }

    /** NumIncrementalFetchPartitionsCached. */
    public synchronized long partitionsCached() {
        return partitionsCached;
    }

    /**
     * What a fetch request reads and how it is answered, from its session id and epoch: a session error, a
     * fetch without a session (epoch -1, or Fetch before v7), a full fetch that may open a session (epoch 0;
     * it closes the session it names), or an incremental fetch of a session's partitions (whose epoch moves
     * on now, so a duplicate of this request gets INVALID_FETCH_SESSION_EPOCH).
     */
    public FetchContext newContext(short version, FetchRequestData request, boolean follower) {
        int sessionId = request.sessionId();
        int epoch = version >= 7 ? request.sessionEpoch() : FetchMetadata.FINAL_EPOCH;
        boolean usesTopicIds = version >= 13;
        if (epoch == FetchMetadata.INITIAL_EPOCH || epoch == FetchMetadata.FINAL_EPOCH) {
            if (sessionId != FetchMetadata.INVALID_SESSION_ID) {
                remove(sessionId);
            }
            return epoch == FetchMetadata.FINAL_EPOCH
                    ? FetchContext.sessionless(request.topics())
                    : FetchContext.full(this, request.topics(), usesTopicIds, follower);
        }
        FetchSession session;
        synchronized (this) {
            session = sessions.get(sessionId);
            if (session == null) {
                log.debug("Fetch session {} not found", sessionId);
                return FetchContext.error(Errors.FETCH_SESSION_ID_NOT_FOUND);
            }
            synchronized (session) {
                if (session.epoch != epoch) {
                    log.debug("Fetch session {} expected epoch {}, got {}", sessionId, session.epoch, epoch);
                    return FetchContext.error(Errors.INVALID_FETCH_SESSION_EPOCH);
                }
                if (session.usesTopicIds != usesTopicIds) {
                    return FetchContext.error(Errors.FETCH_SESSION_TOPIC_ID_ERROR);
                }
                update(session, request);
                if (session.partitions.isEmpty()) {
                    // every partition forgotten: the session closes and this fetch is answered without one
                    remove(session);
                    return FetchContext.sessionless(request.topics());
                }
                touch(session, time.milliseconds());
                session.epoch = FetchMetadata.nextEpoch(session.epoch);
                return FetchContext.incremental(session, epoch, snapshot(session));
            }
        }
    }

    /** The request's partitions replace their cached parameters (or join), then the forgotten ones leave. */
    private static void update(FetchSession session, FetchRequestData request) {
        for (FetchTopic topic : request.topics()) {
            for (FetchPartition p : topic.partitions()) {
                CachedPartition cached = session.partitions.find(new CachedPartition(topic.topic(), topic.topicId(), p.partition()));
                if (cached == null) {
                    session.partitions.mustAdd(new CachedPartition(topic.topic(), topic.topicId(), p));
                } else {
                    cached.update(p);
                }
            }
        }
        for (ForgottenTopic forgotten : request.forgottenTopicsData()) {
            for (int partition : forgotten.partitions()) {
                session.partitions.remove(new CachedPartition(forgotten.topic(), forgotten.topicId(), partition));
            }
        }
    }

    /** The session's partitions as fetch topics to read, consecutive partitions of a topic grouped as Kafka's answer groups them. */
    private static FetchContext.Snapshot snapshot(FetchSession session) {
        CachedPartition[] order = new CachedPartition[session.partitions.size()];
        List<FetchTopic> topics = new ArrayList<>();
        FetchTopic current = null;
        int i = 0;
        for (CachedPartition p : session.partitions) {
            order[i++] = p;
            if (current == null || !sameTopic(current, p)) {
                current = new FetchTopic().setTopic(p.topic).setTopicId(p.topicId);
                topics.add(current);
            }
            current.partitions().add(p.toRequest());
        }
        return new FetchContext.Snapshot(topics, order);
    }

    private static boolean sameTopic(FetchTopic topic, CachedPartition p) {
        return Uuid.ZERO_UUID.equals(p.topicId) ? topic.topic().equals(p.topic) : topic.topicId().equals(p.topicId);
    }

    /** A full fetch's session, if the cache has room or a session it may give up; else {@link FetchMetadata#INVALID_SESSION_ID}. */
    synchronized int maybeCreate(boolean privileged, boolean usesTopicIds, ImplicitLinkedHashCollection<CachedPartition> partitions) {
        long now = time.milliseconds();
        if (maxSlots <= 0) {
            return FetchMetadata.INVALID_SESSION_ID;
        }
        if (sessions.size() >= maxSlots && !tryEvict(privileged, new FetchSession.EvictableKey(privileged, partitions.size(), 0), now)) {
            log.debug("No fetch session created for privileged={}, size={}: the cache is full", privileged, partitions.size());
            return FetchMetadata.INVALID_SESSION_ID;
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        FetchSession session = new FetchSession(id, privileged, usesTopicIds, now, partitions);
        sessions.put(id, session);
        touch(session, now);
        return id;
    }

    private boolean tryEvict(boolean privileged, FetchSession.EvictableKey key, long now) {
        Map.Entry<FetchSession.LastUsedKey, FetchSession> oldest = lastUsed.firstEntry();
        if (oldest == null) {
            return false;
        }
        if (now - oldest.getKey().lastUsedMs() > evictionMs) {
            evict(oldest.getValue());
            return true;
        }
        Map.Entry<FetchSession.EvictableKey, FetchSession> least =
                (privileged ? evictableByPrivileged : evictableByAll).firstEntry();
        if (least == null || key.compareTo(least.getKey()) < 0) {
            return false;
        }
        evict(least.getValue());
        return true;
    }

    private void evict(FetchSession session) {
        log.debug("Evicting fetch session {}", session.id);
        remove(session);
        onEviction.run();
    }

    private synchronized void remove(int sessionId) {
        FetchSession session = sessions.get(sessionId);
        if (session != null) {
            remove(session);
        }
    }

    private void remove(FetchSession session) {
        lastUsed.remove(session.lastUsedKey());
        FetchSession.EvictableKey key = session.evictableKey();
        evictableByAll.remove(key);
        evictableByPrivileged.remove(key);
        if (sessions.remove(session.id) != null) {
            partitionsCached -= session.cachedSize;
        }
    }

    /** Files the session under its new last use and size. */
    private void touch(FetchSession session, long now) {
        lastUsed.remove(session.lastUsedKey());
        session.lastUsedMs = now;
        lastUsed.put(session.lastUsedKey(), session);
        if (session.cachedSize != -1) {
            FetchSession.EvictableKey old = session.evictableKey();
            evictableByAll.remove(old);
            evictableByPrivileged.remove(old);
            partitionsCached -= session.cachedSize;
        }
        session.cachedSize = session.size();
        FetchSession.EvictableKey key = session.evictableKey();
        boolean old = now - session.creationMs > evictionMs;
        if (!session.privileged || old) {
            evictableByPrivileged.put(key, session);
        }
        if (old) {
            evictableByAll.put(key, session);
        }
        partitionsCached += session.cachedSize;
    }
}
