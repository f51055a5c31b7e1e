package io.gregor.broker.console;

import io.gregor.broker.console.ConsoleModel.HeaderRow;
import io.gregor.broker.console.ConsoleModel.RecordRow;
import io.gregor.broker.console.ConsoleModel.Shown;
import io.gregor.storage.FileSlice;
import io.gregor.storage.PartitionLog;
import io.gregor.storage.ReadResult;
import io.gregor.storage.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a page of records from a partition log for people to look at: whole batches are read from the
 * segment files (decompressed by kafka-clients' record classes), control batches (transaction markers)
 * are skipped, and keys, values and header values are shown as text or hex.
 */
final class RecordReader {
    /** How much one page reads from disk at most, so a page of huge records stays cheap. */
    private static final int MAX_PAGE_BYTES = 4 * 1024 * 1024;
    private static final int READ_BYTES = 1024 * 1024;
    /** Longer values are cut for display; valueSize tells the real length. */
    static final int MAX_SHOWN_BYTES = 4096;

    enum Format {
        AUTO, TEXT, HEX;

        static Format parse(String s) {
            if (s == null || s.isEmpty()) {
                return AUTO;
            }
            return switch (s) {
                case "auto" -> AUTO;
                case "text" -> TEXT;
                case "hex" -> HEX;
                default -> throw new IllegalArgumentException("format must be auto, text or hex, not \"" + s + "\"");
            };
        }
    }

    record Page(List<RecordRow> records, long nextOffset) {
    }

    Page read(PartitionLog log, long from, long end, int limit, Format format) {
        List<RecordRow> out = new ArrayList<>();
        long position = from;
        long bytesRead = 0;
        while (out.size() < limit && position < end && bytesRead < MAX_PAGE_BYTES) {
            ReadResult read;
            try {
                read = log.read(position, READ_BYTES, end, true);
            } catch (OffsetOutOfRangeException e) {
                break; // retention or a truncation moved the log under us: what was read stays shown
            }
            if (read.records().isEmpty()) {
                break;
            }
            ByteBuffer buffer = load(read.records());
            bytesRead += buffer.remaining();
            long next = position;
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(buffer).batches()) {
                next = Math.max(next, batch.lastOffset() + 1);
                if (batch.isControlBatch()) {
                    continue;
                }
                for (Record r : batch) {
                    if (r.offset() < position || r.offset() >= end) {
                        continue;
                    }
                    if (out.size() == limit) {
                        return new Page(out, r.offset());
                    }
                    out.add(row(r, batch.timestampType().toString(), format));
                }
            }
            if (next <= position) {
                break;
            }
            position = next;
        }
        return new Page(out, Math.min(position, end));
    }

    private static RecordRow row(Record r, String timestampType, Format format) {
        List<HeaderRow> headers = new ArrayList<>();
        for (Header h : r.headers()) {
            headers.add(new HeaderRow(h.key(), show(h.value() == null ? null : ByteBuffer.wrap(h.value()), format)));
        }
        return new RecordRow(r.offset(), r.timestamp(), timestampType, show(r.key(), format), show(r.value(), format),
                r.valueSize(), headers);
    }

    private static ByteBuffer load(FileSlice slice) {
        ByteBuffer buffer = ByteBuffer.allocate(slice.size());
        try {
            while (buffer.hasRemaining()) {
                int n = slice.channel().read(buffer, slice.position() + buffer.position());
                if (n < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Reading the log failed", e);
        }
        buffer.flip();
        return buffer;
    }

    /** Text when asked for or when the bytes are printable UTF-8 (invalid sequences then show as U+FFFD), else hex. */
    static Shown show(ByteBuffer bytes, Format format) {
        if (bytes == null) {
            return Shown.NULL;
        }
        ByteBuffer b = bytes.duplicate();
        boolean cut = b.remaining() > MAX_SHOWN_BYTES;
        if (cut) {
            b.limit(b.position() + MAX_SHOWN_BYTES);
        }
        if (format != Format.HEX) {
            String text = printableText(b.duplicate(), format == Format.TEXT);
            // the cut may have split a character of up to 4 bytes
            for (int trim = 1; text == null && cut && trim <= 3; trim++) {
                ByteBuffer shorter = b.duplicate();
                shorter.limit(shorter.limit() - trim);
                text = printableText(shorter, false);
            }
            if (text != null) {
                return new Shown(text, false);
            }
        }
        StringBuilder hex = new StringBuilder(b.remaining() * 2);
        while (b.hasRemaining()) {
            int v = b.get() & 0xff;
            hex.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 0xf, 16));
        }
        return new Shown(hex.toString(), true);
    }

    private static String printableText(ByteBuffer b, boolean forced) {
        CodingErrorAction onError = forced ? CodingErrorAction.REPLACE : CodingErrorAction.REPORT;
        String text;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(onError)
                    .onUnmappableCharacter(onError).decode(b);
            text = chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        if (!forced) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t') {
                    return null;
                }
            }
        }
        return text;
    }
}
