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

    /** A process's CPU time so far in seconds (all threads): all of it, and the part the kernel spent for it. */
    record Cpu(double total, double kernel) {
        Cpu minus(Cpu earlier) {
            return new Cpu(total - earlier.total, kernel - earlier.kernel);
        }

        double user() {
            return total - kernel;
        }
    }

    /** utime + stime and stime alone, from one read of /proc/PID/stat. */
    static Cpu cpu(long pid) {
        String line;
        try {
            line = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/stat", e);
        }
        return new Cpu(cpuTicks(line) / (double) CLOCK_TICKS, kernelTicks(line) / (double) CLOCK_TICKS);
    }

    /** utime + stime in seconds. */
    static double cpuSeconds(long pid) {
        return cpu(pid).total();
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
