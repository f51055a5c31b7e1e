package io.gregor.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs Kafka's DumpLogSegments over files a (stopped) broker wrote and fails on anything it complains about. */
final class SegmentDumps {
    // DumpLogSegments' own words for broken files.
    private static final List<String> PROBLEMS = List.of("Mismatches in", "mismatch in", "not found in",
            "invalid bytes", "isvalid: false", "out of order", "Exception", "is corrupt");

    private SegmentDumps() {
    }

    /** Dumps one file; asserts exit code 0 and no complaint. */
    static ToolRunner.Result dumpClean(Path file, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("--files", file.toString()));
        args.addAll(List.of(extraArgs));
        ToolRunner.Result result = ToolRunner.runTool(ToolRunner.DUMP_LOG_SEGMENTS, args.toArray(String[]::new));
        assertThat(result.exitCode()).as(result.describe()).isZero();
        for (String problem : PROBLEMS) {
            assertThat(result.stdout() + result.stderr()).as(result.describe()).doesNotContain(problem);
        }
        return result;
    }

    /** Dumps every segment, offset index and time index of a partition dir in one tool run. */
    static ToolRunner.Result dumpPartitionClean(Path partitionDir) {
        List<String> files;
        try (Stream<Path> list = Files.list(partitionDir)) {
            files = list.map(Path::toString)
                    .filter(n -> n.endsWith(".log") || n.endsWith(".index") || n.endsWith(".timeindex"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(files).as("segment files in %s", partitionDir).isNotEmpty();
        ToolRunner.Result result = ToolRunner.runTool(ToolRunner.DUMP_LOG_SEGMENTS, "--files", String.join(",", files));
        assertThat(result.exitCode()).as(result.describe()).isZero();
        for (String problem : PROBLEMS) {
            assertThat(result.stdout() + result.stderr()).as(result.describe()).doesNotContain(problem);
        }
        return result;
    }
}
