package io.gregor.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cleaner swap leaves the replaced segment's files as "N.log.deleted" with their delete pending (at once when
 * file.delete.delay.ms=0); a full truncation right after renames the cleaned segment, same base offset, onto those
 * very names. The pending delete and the rename then race on one name, as on a follower truncating fully after a
 * cleaning round.
 */
class SegmentDeletionRaceTest {
    private static final LogConfig CONFIG = TestSupport.config(1024, 64);

    @TempDir
    Path dir;

    @Test
    void renamingOntoDeletedFilesWhosePendingDeleteRunsMeanwhileNeverFails() throws Exception {
        ExecutorService pendingDeletes = Executors.newSingleThreadExecutor();
        CyclicBarrier bothReady = new CyclicBarrier(2);
        try {
            // each round lines the two up on a barrier; before the fix (REPLACE_EXISTING stats and unlinks the
            // target, then renames) the delete landed in between by round 1, 10, 15 and 47 of four runs
            for (int round = 0; round < 500; round++) {
                Path roundDir = Files.createDirectory(dir.resolve("r" + round));
                LogSegment replaced = LogSegment.create(roundDir, 0, CONFIG, 0);
                replaced.renameToDeleted();
                LogSegment cleaned = LogSegment.create(roundDir, 0, CONFIG, 0);
                Future<?> delete = pendingDeletes.submit(() -> {
                    bothReady.await();
                    replaced.deleteFiles();
                    return null;
                });
                bothReady.await(10, TimeUnit.SECONDS);
                try {
                    cleaned.renameToDeleted();
                } catch (RuntimeException e) {
                    throw new AssertionError("round " + round, e);
                }
                delete.get(10, TimeUnit.SECONDS);
                cleaned.deleteFiles();
                try (var left = Files.list(roundDir)) {
                    assertThat(left).isEmpty();
                }
            }
        } finally {
            pendingDeletes.shutdownNow();
        }
    }
}
