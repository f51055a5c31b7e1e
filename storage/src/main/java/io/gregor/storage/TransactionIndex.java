package io.gregor.storage;

import io.gregor.storage.errors.KafkaStorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A segment's aborted transactions, {@code <base>.txnindex} in Kafka's format: 34-byte entries of version
 * int16 (0), producer id int64, first offset int64, last offset int64, last stable offset int64, in the order
 * their abort markers were written. As in Kafka the file only exists once the segment has an aborted
 * transaction. Entries are also kept in memory (aborts are rare; fetches read them without I/O); appends
 * come from the log's single writer.
 */
final class TransactionIndex {
    static final String SUFFIX = ".txnindex";
    static final int ENTRY_SIZE = 2 + 8 + 8 + 8 + 8;
    private static final short VERSION = 0;

    private volatile Path path;
    private FileChannel channel; // opened on the first append, as Kafka creates the file lazily
    private final List<AbortedTxn> entries = new CopyOnWriteArrayList<>();

    TransactionIndex(Path path) {
        this.path = path;
        if (Files.exists(path)) {
            load();
        }
    }

    /** Reads the entries of an existing file; a torn last entry (a crash mid-write) is cut off. */
    private void load() {
        try {
            byte[] bytes = Files.readAllBytes(path);
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            int whole = bytes.length / ENTRY_SIZE * ENTRY_SIZE;
            for (int p = 0; p < whole; p += ENTRY_SIZE) {
                if (buf.getShort(p) != VERSION) {
                    throw new KafkaStorageException("Unknown version " + buf.getShort(p) + " in " + path);
                }
                entries.add(new AbortedTxn(buf.getLong(p + 2), buf.getLong(p + 10), buf.getLong(p + 18),
                        buf.getLong(p + 26)));
            }
            if (whole != bytes.length) {
                channel().truncate(whole);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot read " + path, e);
        }
    }

    private FileChannel channel() throws IOException {
        if (channel == null) {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        }
        return channel;
    }

    void append(AbortedTxn txn) {
        ByteBuffer buf = ByteBuffer.allocate(ENTRY_SIZE);
        buf.putShort(VERSION).putLong(txn.producerId()).putLong(txn.firstOffset()).putLong(txn.lastOffset())
                .putLong(txn.lastStableOffset()).flip();
        try {
            FileChannel ch = channel();
            long pos = (long) entries.size() * ENTRY_SIZE;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Write to " + path + " failed", e);
        }
        entries.add(txn);
    }

    List<AbortedTxn> entries() {
        return entries;
    }

    /**
     * Adds to {@code out} the aborted transactions that overlap [fetchOffset, upperBoundOffset) (Kafka's
     * collectAbortedTxns). True when an entry's last stable offset reached the upper bound: no later segment
     * can hold a transaction that started below it.
     */
    boolean collect(long fetchOffset, long upperBoundOffset, List<AbortedTxn> out) {
        for (AbortedTxn txn : entries) {
            if (txn.lastOffset() >= fetchOffset && txn.firstOffset() < upperBoundOffset) {
                out.add(txn);
            }
            if (txn.lastStableOffset() >= upperBoundOffset) {
                return true;
            }
        }
        return false;
    }

    /** Forgets every entry (the segment is being recovered; its aborts are indexed again). */
    void reset() {
        entries.clear();
        try {
            if (channel != null) {
                channel.truncate(0);
            } else {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot truncate " + path, e);
        }
    }

    Path path() {
        return path;
    }

    void renameTo(Path target) throws IOException {
        if (Files.exists(path)) {
            FileUtil.moveReplacing(path, target);
        }
        path = target;
    }

    void flush() throws IOException {
        if (channel != null) {
            channel.force(true);
        }
    }

    void close() {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // closing is best effort
        }
    }

    void deleteFile() throws IOException {
        close();
        Files.deleteIfExists(path);
    }
}
