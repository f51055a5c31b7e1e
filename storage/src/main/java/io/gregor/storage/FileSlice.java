package io.gregor.storage;

import java.nio.channels.FileChannel;

/**
 * A run of whole record batches inside a segment file, handed to the network layer so it can send
 * them with sendfile. The channel stays open until the segment is deleted, which is delayed by
 * {@code file.delete.delay.ms} so in-flight sends finish.
 */
public record FileSlice(FileChannel channel, long position, int size) {
    public static final FileSlice EMPTY = new FileSlice(null, 0, 0);

    public boolean isEmpty() {
        return size == 0;
    }
}
