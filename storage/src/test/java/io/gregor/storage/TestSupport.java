package io.gregor.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builds batches with kafka-clients (as a producer would) and decodes what the log hands out. */
final class TestSupport {
    static final TopicPartition TP = new TopicPartition("orders", 0);

    private TestSupport() {
    }

    static LogConfig config(int segmentBytes, int indexIntervalBytes) {
        return new LogConfig(segmentBytes, Long.MAX_VALUE, -1, -1, indexIntervalBytes, 10 * 1024 * 1024,
                Long.MAX_VALUE, Long.MAX_VALUE, 1024 * 1024 + 12, false, 0, false, true);
    }

    static StorageSettings settings(Path dir) {
        return new StorageSettings(List.of(dir), 1, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    static SimpleRecord rec(long ts, String key, String value) {
        return new SimpleRecord(ts, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8));
    }

    /** One uncompressed batch with records k{first}..k{first+count-1}. */
    static ByteBuffer batch(long ts, int first, int count) {
        SimpleRecord[] recs = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            recs[i] = rec(ts + i, "k" + (first + i), "v" + (first + i));
        }
        return MemoryRecords.withRecords(Compression.NONE, recs).buffer();
    }

    static ByteBuffer batch(Compression compression, SimpleRecord... recs) {
        return MemoryRecords.withRecords(compression, recs).buffer();
    }

    static ByteBuffer idempotent(long pid, short epoch, int seq, int first, int count) {
        SimpleRecord[] recs = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            recs[i] = rec(1000 + i, "k" + (first + i), "v" + (first + i));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, pid, epoch, seq, recs).buffer();
    }

    static ByteBuffer concat(ByteBuffer... parts) {
        int size = 0;
        for (ByteBuffer p : parts) {
            size += p.remaining();
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (ByteBuffer p : parts) {
            out.put(p.duplicate());
        }
        return out.flip();
    }

    /** Bytes of a slice, read through its channel as sendfile would send them. */
    static ByteBuffer bytesOf(FileSlice slice) {
        ByteBuffer buf = ByteBuffer.allocate(slice.size());
        try {
            while (buf.hasRemaining()) {
                int n = slice.channel().read(buf, slice.position() + buf.position());
                if (n < 0) {
                    throw new IllegalStateException("slice beyond end of file");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.flip();
    }

    static List<RecordBatch> batchesOf(FileSlice slice) {
        List<RecordBatch> out = new ArrayList<>();
        if (slice.isEmpty()) {
            return out;
        }
        MemoryRecords.readableRecords(bytesOf(slice)).batches().forEach(out::add);
        return out;
    }

    /** offset:key:value of every record in the slice; each batch is CRC-checked first. */
    static List<String> recordsOf(FileSlice slice) {
        List<String> out = new ArrayList<>();
        for (RecordBatch b : batchesOf(slice)) {
            b.ensureValid();
            for (Record r : b) {
                out.add(r.offset() + ":" + str(r.key()) + ":" + str(r.value()));
            }
        }
        return out;
    }

    static String str(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** All records from fetchOffset to the log end, fetching repeatedly as a consumer would. */
    static List<String> readAll(PartitionLog log, long from) {
        List<String> out = new ArrayList<>();
        long next = from;
        while (next < log.logEndOffset()) {
            ReadResult r = log.read(next, 1 << 20, Long.MAX_VALUE, true);
            List<RecordBatch> batches = batchesOf(r.records());
            if (batches.isEmpty()) {
                throw new IllegalStateException("empty read at " + next);
            }
            for (String s : recordsOf(r.records())) {
                if (Long.parseLong(s.substring(0, s.indexOf(':'))) >= next) {
                    out.add(s);
                }
            }
            next = batches.get(batches.size() - 1).lastOffset() + 1;
        }
        return out;
    }
}
