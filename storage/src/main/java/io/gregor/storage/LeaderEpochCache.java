package io.gregor.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * (epoch, start offset) pairs persisted as Kafka's {@code leader-epoch-checkpoint}: version 0, count, then
 * one {@code epoch startOffset} line each. Changes are rare (a new leader epoch), so each one is written
 * through at once.
 */
final class LeaderEpochCache {
    static final String FILE_NAME = "leader-epoch-checkpoint";

    record EpochEntry(int epoch, long startOffset) {
    }

    private final Path file;
    private final List<EpochEntry> entries = new ArrayList<>(); // guarded by this

    LeaderEpochCache(Path dir) {
        this.file = dir.resolve(FILE_NAME);
        load();
    }

    private void load() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.size() < 2 || !lines.get(0).trim().equals("0")) {
                return;
            }
            int n = Integer.parseInt(lines.get(1).trim());
            for (int i = 0; i < n && i + 2 < lines.size(); i++) {
                String[] parts = lines.get(i + 2).trim().split("\\s+");
                entries.add(new EpochEntry(Integer.parseInt(parts[0]), Long.parseLong(parts[1])));
            }
        } catch (IOException | RuntimeException e) {
            // an unreadable checkpoint is rebuilt from the batches we append or recover
            entries.clear();
        }
    }

    synchronized int latestEpoch() {
        return entries.isEmpty() ? -1 : entries.get(entries.size() - 1).epoch();
    }

    /** Records a new epoch starting at startOffset if it is above the latest. Returns true if it changed. */
    synchronized boolean assign(int epoch, long startOffset, boolean persist) {
        if (epoch < 0 || epoch <= latestEpoch()) {
            return false;
        }
        entries.add(new EpochEntry(epoch, startOffset));
        if (persist) {
            write();
        }
        return true;
    }

    /** Drops epochs that start at or after endOffset (log truncated to endOffset). */
    synchronized void truncateFromEnd(long endOffset) {
        boolean changed = false;
        while (!entries.isEmpty() && entries.get(entries.size() - 1).startOffset() >= endOffset) {
            entries.remove(entries.size() - 1);
            changed = true;
        }
        if (changed) {
            write();
        }
    }

    /** Log start moved: drop epochs wholly below it, and start the one covering it at startOffset. */
    synchronized void truncateFromStart(long startOffset) {
        boolean changed = false;
        while (entries.size() > 1 && entries.get(1).startOffset() <= startOffset) {
            entries.remove(0);
            changed = true;
        }
        if (!entries.isEmpty() && entries.get(0).startOffset() < startOffset) {
            entries.set(0, new EpochEntry(entries.get(0).epoch(), startOffset));
            changed = true;
        }
        if (changed) {
            write();
        }
    }

    /** Forgets every epoch (the log was emptied) and writes the empty checkpoint through. */
    synchronized void clear() {
        entries.clear();
        write();
    }

    synchronized void write() {
        StringBuilder sb = new StringBuilder();
        sb.append("0\n").append(entries.size()).append('\n');
        for (EpochEntry e : entries) {
            sb.append(e.epoch()).append(' ').append(e.startOffset()).append('\n');
        }
        FileUtil.writeAtomically(file, sb.toString());
    }

    /**
     * See {@link PartitionLog#endOffsetForEpoch}; {@code logEndOffset} ends the latest epoch. An epoch above
     * the latest is unknown (undefined); one below the first ends where the first starts, as in Kafka.
     */
    synchronized PartitionLog.EpochEndOffset endOffsetFor(int epoch, long logEndOffset) {
        if (epoch < 0 || entries.isEmpty()) {
            return PartitionLog.EpochEndOffset.UNDEFINED;
        }
        EpochEntry latest = entries.get(entries.size() - 1);
        if (epoch == latest.epoch()) {
            return new PartitionLog.EpochEndOffset(epoch, logEndOffset);
        }
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).epoch() > epoch) {
                int found = i == 0 ? epoch : entries.get(i - 1).epoch();
                return new PartitionLog.EpochEndOffset(found, entries.get(i).startOffset());
            }
        }
        return PartitionLog.EpochEndOffset.UNDEFINED;
    }

    synchronized List<EpochEntry> entries() {
        return List.copyOf(entries);
    }
}
