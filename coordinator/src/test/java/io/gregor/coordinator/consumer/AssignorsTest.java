package io.gregor.coordinator.consumer;

import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The server-side assignors' promises: every subscribed partition to exactly one member, balanced, sticky. */
class AssignorsTest {
    private final Uuid t1 = Uuid.randomUuid();
    private final Uuid t2 = Uuid.randomUuid();

    private static Assignor.MemberSubscription member(String id, Uuid... topics) {
        return new Assignor.MemberSubscription(id, null, Set.of(topics));
    }

    private static int count(Map<Uuid, Set<Integer>> assignment) {
        return assignment.values().stream().mapToInt(Set::size).sum();
    }

    private static void assertEachPartitionOnce(Map<String, Map<Uuid, Set<Integer>>> assignment, Map<Uuid, Integer> counts) {
        Map<Uuid, List<Integer>> seen = new HashMap<>();
        assignment.values().forEach(a -> a.forEach((t, ps) -> seen.computeIfAbsent(t, k -> new ArrayList<>()).addAll(ps)));
        counts.forEach((t, n) -> {
            assertThat(seen.get(t)).hasSize(n);
            assertThat(new HashSet<>(seen.get(t))).hasSize(n);
        });
    }

    @Test
    void uniformBalancesAndKeepsPartitionsWhereTheyAre() {
        Assignor uniform = Assignors.byName("uniform");
        Map<Uuid, Integer> counts = Map.of(t1, 4);
        var two = uniform.assign(List.of(member("a", t1), member("b", t1)), counts, Map.of());
        assertEachPartitionOnce(two, counts);
        assertThat(count(two.get("a"))).isEqualTo(2);
        assertThat(count(two.get("b"))).isEqualTo(2);

        var three = uniform.assign(List.of(member("a", t1), member("b", t1), member("c", t1)), counts, two);
        assertEachPartitionOnce(three, counts);
        assertThat(List.of(count(three.get("a")), count(three.get("b")), count(three.get("c"))))
                .containsExactlyInAnyOrder(2, 1, 1);
        // sticky: a and b keep what they keep, c gets what they gave up
        assertThat(two.get("a").get(t1)).containsAll(three.get("a").get(t1));
        assertThat(two.get("b").get(t1)).containsAll(three.get("b").get(t1));

        var afterLeave = uniform.assign(List.of(member("b", t1), member("c", t1)), counts, three);
        assertEachPartitionOnce(afterLeave, counts);
        assertThat(afterLeave.get("b").get(t1)).containsAll(three.get("b").get(t1));
        assertThat(afterLeave.get("c").get(t1)).containsAll(three.get("c").get(t1));
        assertThat(count(afterLeave.get("b"))).isEqualTo(2);
    }

    @Test
    void uniformRespectsDifferentSubscriptions() {
        Assignor uniform = Assignors.byName("uniform");
        Map<Uuid, Integer> counts = Map.of(t1, 3, t2, 3);
        var out = uniform.assign(List.of(member("a", t1), member("b", t1, t2), member("c", t2)), counts, Map.of());
        assertEachPartitionOnce(out, counts);
        assertThat(out.get("a")).doesNotContainKey(t2);
        assertThat(out.get("c")).doesNotContainKey(t1);
        assertThat(List.of(count(out.get("a")), count(out.get("b")), count(out.get("c")))).containsOnly(2);
    }

    @Test
    void rangeGivesContiguousRangesFirstMembersOneMore() {
        Assignor range = Assignors.byName("org.apache.kafka.coordinator.group.assignor.RangeAssignor");
        assertThat(range.name()).isEqualTo("range");
        Map<Uuid, Integer> counts = Map.of(t1, 4, t2, 4);
        var out = range.assign(List.of(member("a", t1, t2), member("b", t1, t2), member("c", t1, t2)), counts, Map.of());
        assertThat(out.get("a")).isEqualTo(Map.of(t1, Set.of(0, 1), t2, Set.of(0, 1)));
        assertThat(out.get("b")).isEqualTo(Map.of(t1, Set.of(2), t2, Set.of(2)));
        assertThat(out.get("c")).isEqualTo(Map.of(t1, Set.of(3), t2, Set.of(3)));
        assertThat(Assignors.byName("sticky")).isNull();
    }
}
