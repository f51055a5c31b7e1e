package io.gregor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a process's resident memory and CPU time from Linux's /proc. */
final class ProcStat {
    /** Clock ticks per second of utime/stime in /proc/PID/stat; 100 on every mainstream Linux build. */
    static final long CLOCK_TICKS = clockTicks();

    private ProcStat() {
    }

    /** VmRSS in KiB, from /proc/PID/status. */
    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/status", e);
        }
        throw new IllegalStateException("no VmRSS for pid " + pid);
    }

    /** utime + stime in seconds, from /proc/PID/stat (all threads of the process). */
    static double cpuSeconds(long pid) {
        try {
            return cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))) / (double) CLOCK_TICKS;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/stat", e);
        }
    }

    /** stime alone in seconds: the part of {@link #cpuSeconds} spent in the kernel on the process's behalf. */
    static double kernelCpuSeconds(long pid) {
        try {
            return kernelTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))) / (double) CLOCK_TICKS;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/stat", e);
        }
    }

    /** Fields 14 and 15 (utime + stime) of a stat line. */
    static long cpuTicks(String statLine) {
        return field(statLine, 14) + field(statLine, 15);
    }

    /** Field 15 (stime) of a stat line. */
    static long kernelTicks(String statLine) {
        return field(statLine, 15);
    }

    /** Field N (1-based) of a stat line; the command name (field 2) may hold spaces, so count after its ')'. */
    private static long field(String statLine, int n) {
        String[] f = statLine.substring(statLine.lastIndexOf(')') + 2).trim().split("\\s+");
        return Long.parseLong(f[n - 3]); // f[0] is field 3 (state)
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() == 0 && out.matches("\\d+")) {
                return Long.parseLong(out);
            }
        } catch (IOException e) {
            // fall through to the usual value
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
