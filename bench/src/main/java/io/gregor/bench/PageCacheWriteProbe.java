package io.gregor.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What the machine charges in kernel time to write into fresh page-cache pages, with no broker involved: 16,000 B
 * positional writes from a direct buffer, round-robin over 8 new files (about what a produce of 1 KiB records to 8
 * partitions does), kernel CPU seconds per GiB, synced after each GiB. On the VM of BENCHMARKS.md the same loop costs
 * 0.6 s in most GiB and about 2.8 s in others; a broker's "in kernel" CPU rows move with it.
 *
 * <p>{@code bench/page-cache-probe [GiB] [dir]}: 6 GiB in a temporary directory under bench/out by default; the
 * files are deleted at the end.
 */
public final class PageCacheWriteProbe {
    private static final int FILES = 8;
    private static final int WRITE_BYTES = 16_000;
    private static final long GIB = 1L << 30;

    private PageCacheWriteProbe() {
    }

    public static void main(String[] args) throws IOException {
        int gib = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        Path parent = Path.of(args.length > 1 ? args[1] : "bench/out");
        Files.createDirectories(parent);
        Path dir = Files.createTempDirectory(parent, "page-cache-probe");
        long pid = ProcessHandle.current().pid();
        FileChannel[] files = new FileChannel[FILES];
        long[] positions = new long[FILES];
        ByteBuffer chunk = ByteBuffer.allocateDirect(WRITE_BYTES);
        try {
            for (int f = 0; f < FILES; f++) {
                files[f] = FileChannel.open(dir.resolve(f + ".log"), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
            }
            int next = 0;
            for (int g = 1; g <= gib; g++) {
                ProcStat.Cpu before = ProcStat.cpu(pid);
                long startNs = System.nanoTime();
                for (long written = 0; written < GIB; written += WRITE_BYTES) {
                    FileChannel file = files[next];
                    chunk.clear();
                    while (chunk.hasRemaining()) {
                        positions[next] += file.write(chunk, positions[next]);
                    }
                    next = (next + 1) % FILES;
                }
                ProcStat.Cpu used = ProcStat.cpu(pid).minus(before);
                System.out.printf("GiB %d: %.2f s wall, %.2f s CPU in kernel%n", g,
                        (System.nanoTime() - startNs) / 1e9, used.kernel());
                for (FileChannel file : files) {
                    file.force(false); // the next GiB starts with nothing left to write back
                }
            }
        } finally {
            for (int f = 0; f < FILES; f++) {
                if (files[f] != null) {
                    files[f].close();
                }
                Files.deleteIfExists(dir.resolve(f + ".log"));
            }
            Files.deleteIfExists(dir);
        }
    }
}
