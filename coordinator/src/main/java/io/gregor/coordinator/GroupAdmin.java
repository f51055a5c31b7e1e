package io.gregor.coordinator;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentMap;

/** Group administration: ListGroups, DescribeGroups and DeleteGroups. Each group is read under its monitor. */
final class GroupAdmin {
    private static final Logger log = LoggerFactory.getLogger(GroupAdmin.class);
    /** Group operations Kafka reports as authorized without an authorizer: READ, DELETE, DESCRIBE. */
    private static final int GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

    private final GroupStore store;
    private final ConcurrentMap<String, ClassicGroup> groups;
    private final Time time;

    GroupAdmin(GroupStore store, ConcurrentMap<String, ClassicGroup> groups, Time time) {
        this.store = store;
        this.groups = groups;
        this.time = time;
    }

    /** {@code states} and {@code types} filter as ListGroups v4/v5 define them (empty = all). */
    List<ListedGroup> listGroups(Collection<String> states, Collection<String> types, short version) {
        boolean classic = types.isEmpty() || types.stream().anyMatch(t -> t.equalsIgnoreCase("classic"));
        boolean consumer = types.isEmpty() || types.stream().anyMatch(t -> t.equalsIgnoreCase("consumer"));
        List<ListedGroup> out = new ArrayList<>();
        for (ClassicGroup group : groups.values()) {
            synchronized (group) {
                if (group.is(GroupState.DEAD) || !(group.consumer == null ? classic : consumer)) {
                    continue;
                }
                String state = group.consumer == null ? group.state.wireName() : group.consumer.state().wireName();
                if (!states.isEmpty() && states.stream().noneMatch(state::equalsIgnoreCase)) {
                    continue;
                }
                ListedGroup listed = new ListedGroup().setGroupId(group.groupId)
                        .setProtocolType(group.protocolType == null ? "" : group.protocolType);
                if (version >= 4) {
                    listed.setGroupState(state);
                }
                if (version >= 5) {
                    listed.setGroupType(group.consumer == null ? "classic" : "consumer");
                }
                out.add(listed);
            }
        }
        out.sort(Comparator.comparing(ListedGroup::groupId));
        return out;
    }

    DescribedGroup describeGroup(String groupId, short version, boolean includeAuthorizedOperations) {
        DescribedGroup described = new DescribedGroup().setGroupId(groupId);
        if (version >= 3) {
            described.setAuthorizedOperations(includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : Integer.MIN_VALUE);
        }
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return notFound(described, groupId, version);
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return notFound(described, groupId, version);
            }
            if (group.consumer != null) {
                // as Kafka: a consumer-protocol group is described by ConsumerGroupDescribe only
                described.setGroupState(GroupState.DEAD.wireName()).setProtocolType("").setProtocolData("");
                if (version >= 6) {
                    described.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                            .setErrorMessage("Group " + groupId + " is not a classic group.");
                }
                return described;
            }
            boolean stable = group.is(GroupState.STABLE);
            described.setGroupState(group.state.wireName())
                    .setProtocolType(group.protocolType == null ? "" : group.protocolType)
                    .setProtocolData(stable ? group.protocolName : "");
            for (GroupMember m : group.members.values()) {
                DescribedGroupMember dm = new DescribedGroupMember().setMemberId(m.memberId)
                        .setClientId(m.clientId).setClientHost(m.clientHost)
                        // Metadata and assignment only of a Stable group, as Kafka.
                        .setMemberMetadata(stable ? m.metadata(group.protocolName) : GroupMember.EMPTY)
                        .setMemberAssignment(stable ? m.assignment : GroupMember.EMPTY);
                if (version >= 4) {
                    dm.setGroupInstanceId(m.groupInstanceId);
                }
                described.members().add(dm);
            }
            return described;
        }
    }

    private static DescribedGroup notFound(DescribedGroup described, String groupId, short version) {
        described.setGroupState(GroupState.DEAD.wireName()).setProtocolType("").setProtocolData("");
        if (version >= 6) {
            described.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + groupId + " not found.");
        }
        return described;
    }

    DeletableGroupResult deleteGroup(String groupId) {
        DeletableGroupResult result = new DeletableGroupResult().setGroupId(groupId);
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return result.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return result.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
            }
            if (!group.is(GroupState.EMPTY)) {
                return result.setErrorCode(Errors.NON_EMPTY_GROUP.code());
            }
            List<CoordinatorRecord> tombstones = new ArrayList<>();
            for (TopicPartition tp : group.offsets.keySet()) {
                tombstones.add(GroupStore.offsetTombstone(groupId, tp));
            }
            tombstones.add(GroupStore.groupTombstone(groupId));
            if (group.consumer != null) {
                tombstones.addAll(io.gregor.coordinator.consumer.ConsumerGroupRecords.groupTombstones(group.consumer));
            }
            try {
                store.append(groupId, tombstones);
            } catch (RuntimeException e) {
                log.warn("Deleting group {} failed: {}", groupId, e.toString());
                return result.setErrorCode(GroupStore.appendError(e).code());
            }
            group.offsets.clear();
            if (group.consumer != null) {
                group.consumer.markDead();
            }
            group.transitionTo(GroupState.DEAD, time.milliseconds());
            groups.remove(groupId, group);
            log.info("Deleted group {}", groupId);
            return result;
        }
    }

}
