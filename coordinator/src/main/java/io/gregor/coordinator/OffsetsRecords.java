package io.gregor.coordinator;

import org.apache.kafka.common.Uuid;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Byte encodings of {@code __consumer_offsets} records with Kafka's schemas: an int16 version, then the
 * fields. The key version doubles as the record type: 0 and 1 are offset commits, 2 is group metadata,
 * higher ones are KIP-848 records this coordinator skips. Values are written as OffsetCommitValue v4 (what
 * Kafka 4.4 writes without an expire timestamp: flexible, with the topic id as tagged field 0 when the commit
 * named it) and GroupMetadataValue v3; v0-v4 are read.
 */
public final class OffsetsRecords {
    public static final short OFFSET_COMMIT_KEY_VERSION = 1;
    public static final short GROUP_METADATA_KEY_VERSION = 2;
    public static final short OFFSET_COMMIT_VALUE_VERSION = 4;
    private static final int TOPIC_ID_TAG = 0;
    public static final short GROUP_METADATA_VALUE_VERSION = 3;

    private OffsetsRecords() {
    }

    /** A decoded key: an offset commit (topic set) or group metadata (topic null). */
    public record Key(String group, String topic, int partition) {
        public boolean isOffsetCommit() {
            return topic != null;
        }
    }

    /** A member in a GroupMetadata value. */
    public record MemberRecord(String memberId, String groupInstanceId, String clientId, String clientHost,
                               int rebalanceTimeoutMs, int sessionTimeoutMs, byte[] subscription,
                               byte[] assignment) {
    }

    /** A decoded GroupMetadata value. */
    public record GroupRecord(String protocolType, int generation, String protocol, String leader,
                              long currentStateTimestamp, List<MemberRecord> members) {
    }

    // ------------------------------------------------------------------ encoding

    public static byte[] offsetCommitKey(String group, String topic, int partition) {
        ByteBuffer buf = ByteBuffer.allocate(2 + sizeOf(group) + sizeOf(topic) + 4);
        buf.putShort(OFFSET_COMMIT_KEY_VERSION);
        putString(buf, group);
        putString(buf, topic);
        buf.putInt(partition);
        return buf.array();
    }

    /** @param topicId the committed topic's id as the commit named it (OffsetCommit v10), or {@link Uuid#ZERO_UUID} */
    public static byte[] offsetCommitValue(CommittedOffset offset, Uuid topicId) {
        byte[] metadata = (offset.metadata() == null ? "" : offset.metadata()).getBytes(StandardCharsets.UTF_8);
        boolean withTopicId = !Uuid.ZERO_UUID.equals(topicId);
        int taggedSize = withTopicId ? 1 + 1 + 1 + 16 : 1;
        ByteBuffer buf = ByteBuffer.allocate(2 + 8 + 4 + varintSize(metadata.length + 1) + metadata.length + 8 + taggedSize);
        buf.putShort(OFFSET_COMMIT_VALUE_VERSION);
        buf.putLong(offset.offset());
        buf.putInt(offset.leaderEpoch());
        putUnsignedVarint(buf, metadata.length + 1);
        buf.put(metadata);
        buf.putLong(offset.commitTimestamp());
        if (withTopicId) {
            putUnsignedVarint(buf, 1);
            putUnsignedVarint(buf, TOPIC_ID_TAG);
            putUnsignedVarint(buf, 16);
            buf.putLong(topicId.getMostSignificantBits()).putLong(topicId.getLeastSignificantBits());
        } else {
            putUnsignedVarint(buf, 0);
        }
        return buf.array();
    }

    private static int varintSize(int value) {
        int bytes = 1;
        while ((value & 0xffffff80) != 0) {
            bytes++;
            value >>>= 7;
        }
        return bytes;
    }

    private static void putUnsignedVarint(ByteBuffer buf, int value) {
        while ((value & 0xffffff80) != 0) {
            buf.put((byte) ((value & 0x7f) | 0x80));
            value >>>= 7;
        }
        buf.put((byte) value);
    }

    public static byte[] groupMetadataKey(String group) {
        ByteBuffer buf = ByteBuffer.allocate(2 + sizeOf(group));
        buf.putShort(GROUP_METADATA_KEY_VERSION);
        putString(buf, group);
        return buf.array();
    }

    public static byte[] groupMetadataValue(GroupRecord group) {
        int size = 2 + sizeOf(group.protocolType()) + 4 + sizeOf(group.protocol()) + sizeOf(group.leader()) + 8 + 4;
        for (MemberRecord m : group.members()) {
            size += sizeOf(m.memberId()) + sizeOf(m.groupInstanceId()) + sizeOf(m.clientId()) + sizeOf(m.clientHost())
                    + 4 + 4 + 4 + m.subscription().length + 4 + m.assignment().length;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.putShort(GROUP_METADATA_VALUE_VERSION);
        putString(buf, group.protocolType());
        buf.putInt(group.generation());
        putString(buf, group.protocol());
        putString(buf, group.leader());
        buf.putLong(group.currentStateTimestamp());
        buf.putInt(group.members().size());
        for (MemberRecord m : group.members()) {
            putString(buf, m.memberId());
            putString(buf, m.groupInstanceId());
            putString(buf, m.clientId());
            putString(buf, m.clientHost());
            buf.putInt(m.rebalanceTimeoutMs());
            buf.putInt(m.sessionTimeoutMs());
            buf.putInt(m.subscription().length).put(m.subscription());
            buf.putInt(m.assignment().length).put(m.assignment());
        }
        return buf.array();
    }

    private static int sizeOf(String s) {
        return 2 + (s == null ? 0 : utf8Length(s));
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** int16 length + UTF-8, or length -1 for null (nullable fields). */
    private static void putString(ByteBuffer buf, String s) {
        if (s == null) {
            buf.putShort((short) -1);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        buf.putShort((short) bytes.length).put(bytes);
    }

    // ------------------------------------------------------------------ decoding

    /** Decodes a key; returns null for record types a classic coordinator does not keep (KIP-848 records). */
    public static Key readKey(ByteBuffer key) {
        ByteBuffer buf = key.duplicate();
        short version = buf.getShort();
        if (version == 0 || version == 1) {
            String group = readString(buf, false);
            String topic = readString(buf, false);
            return new Key(group, topic, buf.getInt());
        } else if (version == 2) {
            return new Key(readString(buf, false), null, -1);
        }
        return null;
    }

    public static CommittedOffset readOffsetValue(ByteBuffer value) {
        ByteBuffer buf = value.duplicate();
        short version = buf.getShort();
        boolean flexible = version >= 4;
        long offset = buf.getLong();
        int leaderEpoch = version >= 3 ? buf.getInt() : -1;
        String metadata = readString(buf, flexible);
        long commitTimestamp = buf.getLong();
        long expireTimestamp = version == 1 ? buf.getLong() : -1L;
        return new CommittedOffset(offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp);
    }

    public static GroupRecord readGroupValue(ByteBuffer value) {
        ByteBuffer buf = value.duplicate();
        short version = buf.getShort();
        boolean flexible = version >= 4;
        String protocolType = readString(buf, flexible);
        int generation = buf.getInt();
        String protocol = readString(buf, flexible);
        String leader = readString(buf, flexible);
        long currentStateTimestamp = version >= 2 ? buf.getLong() : -1L;
        int count = flexible ? readUnsignedVarint(buf) - 1 : buf.getInt();
        List<MemberRecord> members = new ArrayList<>(Math.max(count, 0));
        for (int i = 0; i < count; i++) {
            String memberId = readString(buf, flexible);
            String instanceId = version >= 3 ? readString(buf, flexible) : null;
            String clientId = readString(buf, flexible);
            String clientHost = readString(buf, flexible);
            int rebalanceTimeout = version >= 1 ? buf.getInt() : -1;
            int sessionTimeout = buf.getInt();
            byte[] subscription = readBytes(buf, flexible);
            byte[] assignment = readBytes(buf, flexible);
            if (flexible) {
                skipTaggedFields(buf);
            }
            members.add(new MemberRecord(memberId, instanceId, clientId, clientHost,
                    rebalanceTimeout == -1 ? sessionTimeout : rebalanceTimeout, sessionTimeout, subscription, assignment));
        }
        return new GroupRecord(protocolType, generation, protocol, leader, currentStateTimestamp, members);
    }

    private static String readString(ByteBuffer buf, boolean compact) {
        int length = compact ? readUnsignedVarint(buf) - 1 : buf.getShort();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(ByteBuffer buf, boolean compact) {
        int length = compact ? readUnsignedVarint(buf) - 1 : buf.getInt();
        byte[] bytes = new byte[Math.max(length, 0)];
        buf.get(bytes);
        return bytes;
    }

    private static void skipTaggedFields(ByteBuffer buf) {
        int count = readUnsignedVarint(buf);
        for (int i = 0; i < count; i++) {
            readUnsignedVarint(buf);
            int size = readUnsignedVarint(buf);
            buf.position(buf.position() + size);
        }
    }

    private static int readUnsignedVarint(ByteBuffer buf) {
        int value = 0;
        int shift = 0;
        byte b;
        do {
            b = buf.get();
            value |= (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return value;
    }
}
