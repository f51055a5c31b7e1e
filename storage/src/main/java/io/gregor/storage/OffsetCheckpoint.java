package io.gregor.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Kafka's dir-level offset checkpoint text files (recovery point, log start, high watermark): version 0,
 * entry count, then {@code topic partition offset} lines.
 */
final class OffsetCheckpoint {
    static final String RECOVERY_POINT = "recovery-point-offset-checkpoint";
    static final String LOG_START = "log-start-offset-checkpoint";
    static final String HIGH_WATERMARK = "replication-offset-checkpoint";

    private OffsetCheckpoint() {
    }

    static Map<TopicPartition, Long> read(Path file) {
        Map<TopicPartition, Long> result = new HashMap<>();
        if (!Files.exists(file)) {
            return result;
        }
        try {
            var lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.size() < 2 || !lines.get(0).trim().equals("0")) {
                return result;
            }
            int n = Integer.parseInt(lines.get(1).trim());
            for (int i = 0; i < n && i + 2 < lines.size(); i++) {
                String[] parts = lines.get(i + 2).trim().split(" ");
                if (parts.length == 3) {
                    result.put(new TopicPartition(parts[0], Integer.parseInt(parts[1])), Long.parseLong(parts[2]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // a damaged checkpoint is treated as absent: recovery then starts from the segments themselves
            result.clear();
        }
        return result;
    }

    static void write(Path file, Map<TopicPartition, Long> offsets) {
        StringBuilder sb = new StringBuilder();
        sb.append("0\n").append(offsets.size()).append('\n');
        offsets.forEach((tp, off) -> sb.append(tp.topic()).append(' ').append(tp.partition()).append(' ')
                .append(off).append('\n'));
        FileUtil.writeAtomically(file, sb.toString());
    }
}
