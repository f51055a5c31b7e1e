package io.gregor.coordinator;

import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** A member of a classic group. Guarded by its group's lock. */
final class GroupMember {
    static final byte[] EMPTY = new byte[0];

    String memberId;
    final String groupInstanceId;
    String clientId;
    String clientHost;
    int rebalanceTimeoutMs;
    int sessionTimeoutMs;
    /** Protocol name to metadata, in the member's order of preference. */
    Map<String, byte[]> protocols;
    byte[] assignment = EMPTY;
    /** The JoinGroup request version, so a rejoining static leader is told to skip assignment only if it can (v9). */
    short joinVersion;
    CompletableFuture<JoinGroupResponseData> awaitingJoin;
    CompletableFuture<SyncGroupResponseData> awaitingSync;
    /** When the session ends without a heartbeat (ms since the epoch). */
    long sessionDeadlineMs;
    /**
     * A member whose first join has not completed: it cannot heartbeat yet, so instead of its session it gets
     * the new member join timeout, which holds even while its JoinGroup is parked (Kafka's isNew).
     */
    boolean isNew;
    /** Whether a session check is scheduled; one at a time per member, moved forward lazily. */
    boolean sessionCheckScheduled;
    java.util.concurrent.ScheduledFuture<?> sessionCheck;

    GroupMember(String memberId, String groupInstanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
                int sessionTimeoutMs, Map<String, byte[]> protocols) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.protocols = protocols;
    }

    byte[] metadata(String protocol) {
        byte[] m = protocols.get(protocol);
        return m == null ? EMPTY : m;
    }

    boolean isStatic() {
        return groupInstanceId != null;
    }

    /** Same protocols, in the same order, with the same metadata bytes. */
    boolean sameProtocols(Map<String, byte[]> other) {
        if (other.size() != protocols.size()) {
            return false;
        }
        var a = protocols.entrySet().iterator();
        var b = other.entrySet().iterator();
        while (a.hasNext()) {
            var x = a.next();
            var y = b.next();
            if (!x.getKey().equals(y.getKey()) || !Arrays.equals(x.getValue(), y.getValue())) {
                return false;
            }
        }
        return true;
    }

    static Map<String, byte[]> protocolsOf(Iterable<org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol> list) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (var p : list) {
            out.put(p.name(), p.metadata());
        }
        return out;
    }
}
