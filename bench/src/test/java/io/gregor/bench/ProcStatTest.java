package io.gregor.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProcStatTest {

    @Test
    void statFieldsAreCountedAfterACommandNameWithSpacesAndParens() {
        String line = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 123 45 0 0 20 0 30 0 99 0 0";
        assertThat(ProcStat.cpuTicks(line)).isEqualTo(168);
        assertThat(ProcStat.kernelTicks(line)).isEqualTo(45);
    }

    @Test
    void ownProcessShowsResidentMemoryAndCpuThatGrowsWithWork() {
        long pid = ProcessHandle.current().pid();
        assertThat(ProcStat.rssKib(pid)).isGreaterThan(1024);
        double before = ProcStat.cpuSeconds(pid);
        long deadline = System.nanoTime() + 300_000_000L;
        long x = 0;
        while (System.nanoTime() < deadline) {
            x += Long.numberOfTrailingZeros(x ^ System.nanoTime());
        }
        assertThat(x).isNotNegative();
        assertThat(ProcStat.cpuSeconds(pid) - before).isGreaterThanOrEqualTo(0.1);
    }
}
