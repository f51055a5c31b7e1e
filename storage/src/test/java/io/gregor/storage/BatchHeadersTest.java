package io.gregor.storage;

import io.gregor.storage.errors.CorruptRecordException;
import io.gregor.storage.errors.InvalidRecordException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static io.gregor.storage.TestSupport.batch;
import static io.gregor.storage.TestSupport.concat;
import static io.gregor.storage.TestSupport.idempotent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The batch header cursor and validator that every walk over batches (append, replication, recovery) uses. */
class BatchHeadersTest {
    private static final LogConfig CONFIG = TestSupport.config(1 << 20, 4096);

    @Test
    void aBufferWalkVisitsEachBatchWithItsHeaderFields() {
        ByteBuffer buf = concat(batch(5, 0, 3), idempotent(77, (short) 2, 10, 3, 2), batch(9, 5, 1));
        BatchHeaders b = new BatchHeaders().over(buf, 0, buf.limit());
        List<String> seen = new ArrayList<>();
        while (b.next()) {
            assertThat(b.headerFits()).isTrue();
            assertThat(b.batchFits()).isTrue();
            seen.add(b.recordCount() + "/" + b.lastOffsetDelta() + "/" + b.producerId() + "/" + b.producerEpoch()
                    + "/" + b.baseSequence() + "-" + b.lastSequence());
        }
        assertThat(seen).containsExactly("3/2/-1/-1/-1--1", "2/1/77/2/10-11", "1/0/-1/-1/-1--1");
        assertThat(b.endOfPrevious()).isEqualTo(buf.limit());
    }

    @Test
    void trailingBytesShorterThanAHeaderAreATruncatedBatch() {
        ByteBuffer one = batch(5, 0, 3);
        ByteBuffer buf = concat(one, ByteBuffer.wrap(new byte[7]));
        BatchHeaders b = new BatchHeaders().over(buf, 0, buf.limit());
        BatchValidator validator = new BatchValidator();
        assertThat(b.next()).isTrue();
        validator.validateLeaderBatch(b, CONFIG, 0, BatchValidator.Origin.CLIENT, 0L);
        assertThat(b.next()).isTrue();
        assertThat(b.headerFits()).isFalse();
        assertThatThrownBy(() -> validator.validateLeaderBatch(b, CONFIG, 3, BatchValidator.Origin.CLIENT, 0L))
                .isInstanceOf(CorruptRecordException.class).hasMessageContaining("truncated: 7 bytes");
    }

    @Test
    void aBatchLongerThanTheBufferDoesNotFit() {
        ByteBuffer whole = batch(5, 0, 3);
        ByteBuffer cut = whole.duplicate().limit(whole.limit() - 1);
        BatchHeaders b = new BatchHeaders().over(cut, 0, cut.limit());
        assertThat(b.next()).isTrue();
        assertThat(b.headerFits()).isTrue();
        assertThat(b.batchFits()).isFalse();
        assertThatThrownBy(() -> new BatchValidator().validateLeaderBatch(b, CONFIG, 0, BatchValidator.Origin.CLIENT, 0L))
                .isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void onlyTheCoordinatorOriginMayWriteControlBatches() {
        ByteBuffer marker = org.apache.kafka.common.record.internal.MemoryRecords.withEndTransactionMarker(0L, 1L, 0,
                5L, (short) 0, new org.apache.kafka.common.record.internal.EndTransactionMarker(
                        org.apache.kafka.common.record.internal.ControlRecordType.COMMIT, 0)).buffer();
        BatchHeaders b = new BatchHeaders().over(marker, 0, marker.limit());
        b.next();
        assertThatThrownBy(() -> new BatchValidator().validateLeaderBatch(b, CONFIG, 0,
                BatchValidator.Origin.CLIENT, 0L)).isInstanceOf(InvalidRecordException.class);
        new BatchValidator().validateLeaderBatch(b, CONFIG, 0, BatchValidator.Origin.COORDINATOR, 0L);
        assertThat(BatchHeaders.markerType(b.controlMarker())).isEqualTo(BatchHeaders.COMMIT);
    }
}
