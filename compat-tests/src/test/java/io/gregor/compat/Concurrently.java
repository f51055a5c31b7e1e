package io.gregor.compat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Independent pieces of test work that mostly wait on child JVMs (broker starts, tool runs), done at once: a JVM's
 * startup dominates each, so they need not queue. Results come back in order; a failure is rethrown as thrown.
 */
final class Concurrently {
    private Concurrently() {
    }

    static <T> List<T> run(List<Supplier<T>> work) {
        List<CompletableFuture<T>> started = work.stream()
                .map(w -> CompletableFuture.supplyAsync(w, task -> {
                    Thread t = new Thread(task, "concurrent-test-work");
                    t.setDaemon(true);
                    t.start();
                })).toList();
        return started.stream().map(Concurrently::join).toList();
    }

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
