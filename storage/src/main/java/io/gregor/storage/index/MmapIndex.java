package io.gregor.storage.index;

import io.gregor.storage.errors.KafkaStorageException;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A fixed-width-entry index file, memory-mapped. One writer (the log's appender or loader); readers use
 * absolute gets below the published entry count, so they need no lock. The file is preallocated while
 * the segment is active and trimmed to its entries when the segment rolls or closes; the mapping is not
 * shrunk because readers never touch bytes past the entries.
 */
public abstract class MmapIndex implements AutoCloseable {
    protected final long baseOffset;
    private final int entrySize;
    private volatile Path path;
    private FileChannel channel;
    protected volatile MappedByteBuffer mmap;
    /** Published after an entry's bytes are written, so readers see whole entries. */
    protected volatile int entries;
    private int maxEntries;
    /** Length of the file as found on open, before any resize, for the sanity check. */
    private final long lengthAtOpen;

    protected MmapIndex(Path path, long baseOffset, int maxIndexSize, boolean writable, int entrySize) {
        this.path = path;
        this.baseOffset = baseOffset;
        this.entrySize = entrySize;
        try {
            boolean existed = Files.exists(path);
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            lengthAtOpen = channel.size();
            int existingEntries = (int) (lengthAtOpen / entrySize);
            entries = existed ? existingEntries : 0;
            int mapLen = writable ? Math.max(roundDown(maxIndexSize), existingEntries * entrySize)
                    : existingEntries * entrySize;
            map(mapLen);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot open index " + path, e);
        }
    }

    private int roundDown(int size) {
        return size - size % entrySize;
    }

    private void map(int length) throws IOException {
        if (channel.size() != length) {
            if (channel.size() > length) {
                channel.truncate(length);
            } else {
                // extend with a single byte write at the end; the file system allocates sparsely
                channel.write(java.nio.ByteBuffer.wrap(new byte[1]), length - 1);
            }
        }
        mmap = channel.map(FileChannel.MapMode.READ_WRITE, 0, length);
        maxEntries = length / entrySize;
    }

    public Path path() {
        return path;
    }

    public int entries() {
        return entries;
    }

    public int maxEntries() {
        return maxEntries;
    }

    public boolean isFull() {
        return entries >= maxEntries;
    }

    public long lengthAtOpen() {
        return lengthAtOpen;
    }

    public boolean fileLengthValid() {
        return lengthAtOpen % entrySize == 0;
    }

    /** Makes room for up to maxIndexSize bytes again (before a rebuild or when becoming active). */
    public void resize(int maxIndexSize) {
        try {
            map(Math.max(roundDown(maxIndexSize), entries * entrySize));
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot resize index " + path, e);
        }
    }

    /** Shrinks the file to its entries; the mapping stays, readers only read below the entry count. */
    public void trimToValidSize() {
        try {
            int len = entries * entrySize;
            if (channel.size() != len) {
                channel.truncate(len);
            }
            maxEntries = entries;
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot trim index " + path, e);
        }
    }

    /** Drops all entries (rebuild). */
    public void reset() {
        entries = 0;
        onReset();
    }

    protected void onReset() {
    }

    protected final void published(int newEntries) {
        entries = newEntries;
    }

    public void flush() {
        mmap.force();
    }

    public void renameTo(Path target) throws IOException {
        io.gregor.storage.FileUtil.moveReplacing(path, target);
        path = target;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do on close failure
        }
        // the mapping itself is released by the GC; forcing an unmap could crash a concurrent reader
    }

    public void deleteFile() throws IOException {
        close();
        Files.deleteIfExists(path);
    }
}
