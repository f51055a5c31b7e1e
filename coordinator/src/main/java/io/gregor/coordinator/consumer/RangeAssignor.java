package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kafka's "range" server assignor: per topic, the subscribed members (ordered by instance id, then member id)
 * each get a contiguous range of partitions, the first ones one more when the count does not divide evenly.
 * Members subscribed to the same topics with equal partition counts get the same partition numbers
 * (co-partitioning), which is what the range strategy is chosen for.
 */
final class RangeAssignor implements Assignor {
    @Override
    public String name() {
        return "range";
    }

    @Override
    public Map<String, Map<Uuid, Set<Integer>>> assign(List<MemberSubscription> members, Map<Uuid, Integer> partitionCounts,
                                                       Map<String, Map<Uuid, Set<Integer>>> current) {
        Map<String, Map<Uuid, Set<Integer>>> out = new HashMap<>();
        for (MemberSubscription m : members) {
            out.put(m.memberId(), new HashMap<>());
        }
        Comparator<MemberSubscription> order = Comparator
                .comparing((MemberSubscription m) -> m.instanceId() == null ? "" : m.instanceId())
                .thenComparing(MemberSubscription::memberId);
        partitionCounts.forEach((topicId, count) -> {
            List<MemberSubscription> subscribed = new ArrayList<>();
            for (MemberSubscription m : members) {
                if (m.topicIds().contains(topicId)) {
                    subscribed.add(m);
                }
            }
            if (subscribed.isEmpty()) {
                return;
            }
            subscribed.sort(order);
            int per = count / subscribed.size();
            int extra = count % subscribed.size();
            int next = 0;
            for (int i = 0; i < subscribed.size(); i++) {
                int n = per + (i < extra ? 1 : 0);
                if (n == 0) {
                    continue;
                }
                Set<Integer> partitions = new TreeSet<>();
                for (int p = next; p < next + n; p++) {
                    partitions.add(p);
                }
                next += n;
                out.get(subscribed.get(i).memberId()).put(topicId, partitions);
            }
        });
        return out;
    }
}
