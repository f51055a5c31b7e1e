package io.gregor.broker.intercept;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.FetchMetadata;
import org.apache.kafka.common.requests.FetchResponse;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Faults aimed at one topic of a request that may carry many: the topic's entries are taken out of the
 * request before it is handled, and its error entries are added to the answer. Knows where each
 * supported API keeps its topics; answers are built by kafka-clients' own error responses.
 */
final class TopicFaults {
    static final Set<ApiKeys> SUPPORTED = EnumSet.of(ApiKeys.PRODUCE, ApiKeys.FETCH, ApiKeys.METADATA,
            ApiKeys.LIST_OFFSETS, ApiKeys.OFFSET_COMMIT, ApiKeys.OFFSET_FETCH, ApiKeys.CREATE_TOPICS,
            ApiKeys.DELETE_TOPICS, ApiKeys.DELETE_RECORDS, ApiKeys.OFFSET_FOR_LEADER_EPOCH);

    private TopicFaults() {
    }

    /** Matches a topic entry of any of the supported requests by name, or by id where the version carries ids. */
    record TopicMatch(String name, Uuid id) {
        boolean matches(String entryName, Uuid entryId) {
            return name.equals(entryName) || (entryId != null && !Uuid.ZERO_UUID.equals(entryId) && entryId.equals(id));
        }
    }

    /** Whether the request names the topic. */
    static boolean mentions(ApiKeys api, ApiMessage body, TopicMatch topic) {
        return filter(api, body, topic, Mode.CHECK);
    }

    /**
     * Takes the topic's entries out of {@code body} and returns a request holding only them (null when the
     * request has none).
     */
    static ApiMessage split(ApiKeys api, ApiMessage body, TopicMatch topic) {
        ApiMessage only = (ApiMessage) body.duplicate();
        if (!filter(api, body, topic, Mode.DROP)) {
            return null;
        }
        filter(api, only, topic, Mode.KEEP);
        return only;
    }

    /** Kafka's error answer to a whole request: the top-level error, else every entry's. */
    static ApiMessage errorResponse(ApiKeys api, short version, ApiMessage request, Errors error) {
        AbstractRequest parsed = AbstractRequest.parseRequest(api, version,
                MessageUtil.toByteBufferAccessor(request, version)).request;
        return parsed.getErrorResponse(0, error.exception()).data();
    }

    /** The error entries of the split-off topic, to {@link #merge} into the answer to the rest. */
    static ApiMessage topicErrorResponse(ApiKeys api, short version, ApiMessage onlyTopic, Errors error) {
        // Kafka's error answers to these set the top-level (or group) error, which would also hit the
        // request's other topics: the topic's own entries carry the error instead
        if (api == ApiKeys.OFFSET_FETCH && version >= 8) {
            return offsetFetchGroupsError((OffsetFetchRequestData) onlyTopic, error);
        }
        if (api == ApiKeys.OFFSET_FETCH) {
            return offsetFetchTopicsError((OffsetFetchRequestData) onlyTopic, error);
        }
        if (api == ApiKeys.FETCH) {
            return fetchTopicsError((FetchRequestData) onlyTopic, error);
        }
        return errorResponse(api, version, onlyTopic, error);
    }

    /** Whether nothing is left of the request to handle once the topic is out. */
    static boolean isEmpty(ApiKeys api, ApiMessage body) {
        return switch (api) {
            case PRODUCE -> ((ProduceRequestData) body).topicData().isEmpty();
            case FETCH -> ((FetchRequestData) body).topics().isEmpty();
            // an empty Metadata request still asks for the brokers: a real answer carries them
            case METADATA -> false;
            case LIST_OFFSETS -> ((ListOffsetsRequestData) body).topics().isEmpty();
            case OFFSET_COMMIT -> ((OffsetCommitRequestData) body).topics().isEmpty();
            case OFFSET_FETCH -> false;
            case CREATE_TOPICS -> ((CreateTopicsRequestData) body).topics().isEmpty();
            case DELETE_TOPICS -> ((DeleteTopicsRequestData) body).topics().isEmpty()
                    && ((DeleteTopicsRequestData) body).topicNames().isEmpty();
            case DELETE_RECORDS -> ((DeleteRecordsRequestData) body).topics().isEmpty();
            case OFFSET_FOR_LEADER_EPOCH -> ((OffsetForLeaderEpochRequestData) body).topics().isEmpty();
            default -> throw new IllegalArgumentException(api.name());
        };
    }

    /** Adds the topic entries of {@code errors} (an answer to the split-off part) to {@code response}. */
    static void merge(ApiKeys api, ApiMessage response, ApiMessage errors) {
        switch (api) {
            case PRODUCE -> addAll(((ProduceResponseData) response).responses(), ((ProduceResponseData) errors).responses());
            case FETCH -> addAll(((FetchResponseData) response).responses(), ((FetchResponseData) errors).responses());
            case METADATA -> addAll(((MetadataResponseData) response).topics(), ((MetadataResponseData) errors).topics());
            case LIST_OFFSETS -> addAll(((ListOffsetsResponseData) response).topics(), ((ListOffsetsResponseData) errors).topics());
            case OFFSET_COMMIT -> addAll(((OffsetCommitResponseData) response).topics(), ((OffsetCommitResponseData) errors).topics());
            case OFFSET_FETCH -> {
                OffsetFetchResponseData into = (OffsetFetchResponseData) response;
                OffsetFetchResponseData from = (OffsetFetchResponseData) errors;
                addAll(into.topics(), from.topics());
                for (OffsetFetchResponseData.OffsetFetchResponseGroup group : from.groups()) {
                    for (OffsetFetchResponseData.OffsetFetchResponseGroup target : into.groups()) {
                        if (target.groupId().equals(group.groupId())) {
                            addAll(target.topics(), group.topics());
                        }
                    }
                }
            }
            case CREATE_TOPICS -> addAll(((CreateTopicsResponseData) response).topics(), ((CreateTopicsResponseData) errors).topics());
            case DELETE_TOPICS -> addAll(((DeleteTopicsResponseData) response).responses(), ((DeleteTopicsResponseData) errors).responses());
            case DELETE_RECORDS -> addAll(((DeleteRecordsResponseData) response).topics(), ((DeleteRecordsResponseData) errors).topics());
            case OFFSET_FOR_LEADER_EPOCH -> addAll(((OffsetForLeaderEpochResponseData) response).topics(),
                    ((OffsetForLeaderEpochResponseData) errors).topics());
            default -> throw new IllegalArgumentException(api.name());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Message> void addAll(Collection<T> into, Collection<T> from) {
        // entries of Kafka's linked collections belong to one collection at a time: add copies
        for (T entry : from) {
            into.add((T) entry.duplicate());
        }
    }

    /** What {@link #filter} does to a request's topic entries. */
    private enum Mode { CHECK, DROP, KEEP }

    /** Removes the topic's entries (DROP), every other entry (KEEP) or nothing (CHECK); returns whether the topic was there. */
    private static boolean filter(ApiKeys api, ApiMessage body, TopicMatch t, Mode drop) {
        switch (api) {
            case PRODUCE -> {
                return remove(((ProduceRequestData) body).topicData(), e -> t.matches(e.name(), e.topicId()), drop);
            }
            case FETCH -> {
                FetchRequestData d = (FetchRequestData) body;
                boolean found = remove(d.topics(), e -> t.matches(e.topic(), e.topicId()), drop);
                if (found && drop != Mode.CHECK) {
                    // the handler sees only part of the client's fetch: it answers without a fetch session (closing
                    // the one named), else the session would lack the partitions the client was told an error for
                    d.setSessionEpoch(FetchMetadata.FINAL_EPOCH);
                }
                return found;
            }
            case METADATA -> {
                MetadataRequestData d = (MetadataRequestData) body;
                // null asks for every topic: that is not aimed at one topic
                return d.topics() != null && remove(d.topics(), e -> t.matches(e.name(), e.topicId()), drop);
            }
            case LIST_OFFSETS -> {
                return remove(((ListOffsetsRequestData) body).topics(), e -> t.matches(e.name(), null), drop);
            }
            case OFFSET_COMMIT -> {
                return remove(((OffsetCommitRequestData) body).topics(), e -> t.matches(e.name(), e.topicId()), drop);
            }
            case OFFSET_FETCH -> {
                OffsetFetchRequestData d = (OffsetFetchRequestData) body;
                boolean found = d.topics() != null && remove(d.topics(), e -> t.matches(e.name(), null), drop);
                for (OffsetFetchRequestData.OffsetFetchRequestGroup group : d.groups()) {
                    found |= group.topics() != null && remove(group.topics(), e -> t.matches(e.name(), e.topicId()), drop);
                }
                return found;
            }
            case CREATE_TOPICS -> {
                return remove(((CreateTopicsRequestData) body).topics(), e -> t.matches(e.name(), null), drop);
            }
            case DELETE_TOPICS -> {
                DeleteTopicsRequestData d = (DeleteTopicsRequestData) body;
                boolean found = remove(d.topicNames(), name -> t.matches(name, null), drop);
                return remove(d.topics(), e -> t.matches(e.name(), e.topicId()), drop) | found;
            }
            case DELETE_RECORDS -> {
                return remove(((DeleteRecordsRequestData) body).topics(), e -> t.matches(e.name(), null), drop);
            }
            case OFFSET_FOR_LEADER_EPOCH -> {
                return remove(((OffsetForLeaderEpochRequestData) body).topics(), e -> t.matches(e.topic(), null), drop);
            }
            default -> throw new IllegalArgumentException(api.name() + " carries no topics a fault can be aimed at");
        }
    }

    private static <T> boolean remove(Collection<T> entries, Predicate<T> isTopic, Mode mode) {
        boolean found = false;
        for (Iterator<T> it = entries.iterator(); it.hasNext(); ) {
            boolean match = isTopic.test(it.next());
            found |= match;
            if ((mode == Mode.DROP && match) || (mode == Mode.KEEP && !match)) {
                it.remove();
            }
        }
        return found;
    }

    private static FetchResponseData fetchTopicsError(FetchRequestData request, Errors error) {
        FetchResponseData response = new FetchResponseData();
        for (FetchRequestData.FetchTopic topic : request.topics()) {
            FetchResponseData.FetchableTopicResponse t = new FetchResponseData.FetchableTopicResponse()
                    .setTopic(topic.topic()).setTopicId(topic.topicId());
            for (FetchRequestData.FetchPartition p : topic.partitions()) {
                t.partitions().add(FetchResponse.partitionResponse(p.partition(), error));
            }
            response.responses().add(t);
        }
        return response;
    }

    private static OffsetFetchResponseData offsetFetchTopicsError(OffsetFetchRequestData request, Errors error) {
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        for (OffsetFetchRequestData.OffsetFetchRequestTopic topic : request.topics()) {
            OffsetFetchResponseData.OffsetFetchResponseTopic t = new OffsetFetchResponseData.OffsetFetchResponseTopic()
                    .setName(topic.name());
            for (int p : topic.partitionIndexes()) {
                t.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(p)
                        .setCommittedOffset(-1).setErrorCode(error.code()));
            }
            response.topics().add(t);
        }
        return response;
    }

    /** OffsetFetch v8+ answers per group: the topic's partitions each get the error, as a real broker would. */
    private static OffsetFetchResponseData offsetFetchGroupsError(OffsetFetchRequestData request, Errors error) {
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        for (OffsetFetchRequestData.OffsetFetchRequestGroup group : request.groups()) {
            OffsetFetchResponseData.OffsetFetchResponseGroup out = new OffsetFetchResponseData.OffsetFetchResponseGroup()
                    .setGroupId(group.groupId());
            if (group.topics() == null) {
                out.setErrorCode(error.code());
            } else {
                for (OffsetFetchRequestData.OffsetFetchRequestTopics topic : group.topics()) {
                    OffsetFetchResponseData.OffsetFetchResponseTopics t = new OffsetFetchResponseData.OffsetFetchResponseTopics()
                            .setName(topic.name()).setTopicId(topic.topicId());
                    for (int p : topic.partitionIndexes()) {
                        t.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartitions().setPartitionIndex(p)
                                .setCommittedOffset(-1).setErrorCode(error.code()));
                    }
                    out.topics().add(t);
                }
            }
            response.groups().add(out);
        }
        return response;
    }
}
