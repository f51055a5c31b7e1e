package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Kafka's "uniform" server assignor (the default): spreads all subscribed partitions as evenly as the
 * subscriptions allow, keeping each partition with its previous owner where balance permits (sticky), so a
 * member joining or leaving moves as few partitions as possible.
 */
final class UniformAssignor implements Assignor {
    @Override
    public String name() {
        return "uniform";
    }

    @Override
    public Map<String, Map<Uuid, Set<Integer>>> assign(List<MemberSubscription> members, Map<Uuid, Integer> partitionCounts,
                                                       Map<String, Map<Uuid, Set<Integer>>> current) {
        Map<String, Map<Uuid, Set<Integer>>> out = new LinkedHashMap<>();
        Map<String, Integer> load = new HashMap<>();
        Map<String, MemberSubscription> byId = new HashMap<>();
        for (MemberSubscription m : members) {
            out.put(m.memberId(), new TreeMap<>());
            load.put(m.memberId(), 0);
            byId.put(m.memberId(), m);
        }
        if (members.isEmpty()) {
            return out;
        }
        int total = 0;
        for (Map.Entry<Uuid, Integer> e : partitionCounts.entrySet()) {
            for (MemberSubscription m : members) {
                if (m.topicIds().contains(e.getKey())) {
                    total += e.getValue();
                    break;
                }
            }
        }
        // With equal subscriptions nobody holds more than this; with unequal ones it is a first cap, evened out below.
        int cap = (total + members.size() - 1) / members.size();
        Map<Uuid, Set<Integer>> taken = new HashMap<>();
        // 1. Stickiness: a member keeps what it had, while it still subscribes to the topic and is under the cap.
        for (MemberSubscription m : members) {
            Map<Uuid, Set<Integer>> previous = current.get(m.memberId());
            if (previous == null) {
                continue;
            }
            for (Map.Entry<Uuid, Set<Integer>> e : new TreeMap<>(previous).entrySet()) {
                Integer count = partitionCounts.get(e.getKey());
                if (count == null || !m.topicIds().contains(e.getKey())) {
                    continue;
                }
                for (int p : e.getValue()) {
                    if (p < count && load.get(m.memberId()) < cap
                            && taken.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(p)) {
                        give(out, load, m.memberId(), e.getKey(), p);
                    }
                }
            }
        }
        // 2. The rest to the least loaded subscribed member.
        Comparator<MemberSubscription> leastLoaded = Comparator
                .comparingInt((MemberSubscription m) -> load.get(m.memberId()))
                .thenComparing(MemberSubscription::memberId);
        for (Map.Entry<Uuid, Integer> e : new TreeMap<>(partitionCounts).entrySet()) {
            Uuid topic = e.getKey();
            List<MemberSubscription> subscribed = new ArrayList<>();
            for (MemberSubscription m : members) {
                if (m.topicIds().contains(topic)) {
                    subscribed.add(m);
                }
            }
            if (subscribed.isEmpty()) {
                continue;
            }
            Set<Integer> already = taken.getOrDefault(topic, Set.of());
            for (int p = 0; p < e.getValue(); p++) {
                if (!already.contains(p)) {
                    MemberSubscription to = subscribed.stream().min(leastLoaded).orElseThrow();
                    give(out, load, to.memberId(), topic, p);
                }
            }
        }
        // 3. Even out: move partitions from the most to the least loaded member that may take them.
        for (int round = 0; round < total; round++) {
            if (!moveOne(members, out, load, byId)) {
                break;
            }
        }
        return out;
    }

    /**
     * Moves one partition's worth of load from the most loaded member that can shed it to a member at least two
     * below it, along a chain of members when needed (a gives b a partition of a topic b reads, b gives c one of
     * a topic c reads): with different subscriptions the direct move may not exist.
     */
    private static boolean moveOne(List<MemberSubscription> members, Map<String, Map<Uuid, Set<Integer>>> out,
                                   Map<String, Integer> load, Map<String, MemberSubscription> byId) {
        List<MemberSubscription> byLoad = new ArrayList<>(members);
        byLoad.sort(Comparator.comparingInt((MemberSubscription m) -> -load.get(m.memberId()))
                .thenComparing(MemberSubscription::memberId));
        for (MemberSubscription rich : byLoad) {
            int richLoad = load.get(rich.memberId());
            // breadth-first over "can hand a partition to", remembering the topic of each hop
            Map<String, String> cameFrom = new HashMap<>();
            Map<String, Uuid> viaTopic = new HashMap<>();
            java.util.ArrayDeque<String> queue = new java.util.ArrayDeque<>();
            queue.add(rich.memberId());
            cameFrom.put(rich.memberId(), null);
            String target = null;
            while (!queue.isEmpty() && target == null) {
                String from = queue.poll();
                for (MemberSubscription to : members) {
                    if (cameFrom.containsKey(to.memberId())) {
                        continue;
                    }
                    Uuid topic = null;
                    for (Map.Entry<Uuid, Set<Integer>> e : new TreeMap<>(out.get(from)).entrySet()) {
                        if (!e.getValue().isEmpty() && to.topicIds().contains(e.getKey())) {
                            topic = e.getKey();
                            break;
                        }
                    }
                    if (topic == null) {
                        continue;
                    }
                    cameFrom.put(to.memberId(), from);
                    viaTopic.put(to.memberId(), topic);
                    if (load.get(to.memberId()) <= richLoad - 2) {
                        target = to.memberId();
                        break;
                    }
                    queue.add(to.memberId());
                }
            }
            if (target == null) {
                continue;
            }
            for (String to = target; cameFrom.get(to) != null; to = cameFrom.get(to)) {
                String from = cameFrom.get(to);
                Uuid topic = viaTopic.get(to);
                TreeSet<Integer> partitions = (TreeSet<Integer>) out.get(from).get(topic);
                int p = partitions.last();
                partitions.remove(p);
                if (partitions.isEmpty()) {
                    out.get(from).remove(topic);
                }
                load.merge(from, -1, Integer::sum);
                give(out, load, to, topic, p);
            }
            return true;
        }
        return false;
    }

    private static void give(Map<String, Map<Uuid, Set<Integer>>> out, Map<String, Integer> load, String memberId,
                             Uuid topic, int partition) {
        out.get(memberId).computeIfAbsent(topic, k -> new TreeSet<>()).add(partition);
        load.merge(memberId, 1, Integer::sum);
    }
}
