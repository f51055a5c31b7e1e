package io.gregor.broker.fetchsession;

import org.apache.kafka.common.requests.FetchMetadata;
import org.apache.kafka.common.utils.internals.ImplicitLinkedHashCollection;

/**
 * An incremental fetch session (KIP-227): its partitions in the order they are read (a partition that returned
 * records moves to the end, so a size-limited answer rotates through all of them), and the epoch the next
 * request must carry. Its own lock guards the partitions and the epoch; the cache's lock is never taken
 * while holding it.
 */
final class FetchSession {
    final int id;
    /** A follower's session: followers may evict consumers' sessions. */
    final boolean privileged;
    final boolean usesTopicIds;
    final long creationMs;
    final ImplicitLinkedHashCollection<CachedPartition> partitions;
    /** Guarded by the cache: the keys it is filed under. */
    long lastUsedMs;
    int cachedSize = -1;
    /** Guarded by this. */
    int epoch = FetchMetadata.nextEpoch(FetchMetadata.INITIAL_EPOCH);

    FetchSession(int id, boolean privileged, boolean usesTopicIds, long now,
                 ImplicitLinkedHashCollection<CachedPartition> partitions) {
        this.id = id;
        this.privileged = privileged;
        this.usesTopicIds = usesTopicIds;
        this.creationMs = now;
        this.lastUsedMs = now;
        this.partitions = partitions;
    }

    synchronized int size() {
        return partitions.size();
    }

    LastUsedKey lastUsedKey() {
        return new LastUsedKey(lastUsedMs, id);
    }

    EvictableKey evictableKey() {
        return new EvictableKey(privileged, cachedSize, id);
    }

    record LastUsedKey(long lastUsedMs, int id) implements Comparable<LastUsedKey> {
        @Override
        public int compareTo(LastUsedKey o) {
            int c = Long.compare(lastUsedMs, o.lastUsedMs);
            return c != 0 ? c : Integer.compare(id, o.id);
        }
    }

    /** Kafka's order of worth: a consumer's before a follower's, then fewer partitions, then the id. */
    record EvictableKey(boolean privileged, int size, int id) implements Comparable<EvictableKey> {
        @Override
        public int compareTo(EvictableKey o) {
            int c = Boolean.compare(privileged, o.privileged);
            if (c == 0) {
                c = Integer.compare(size, o.size);
            }
            return c != 0 ? c : Integer.compare(id, o.id);
        }
    }
}
