package io.gregor.wire;

import org.apache.kafka.common.protocol.ApiMessage;

/**
 * What an interceptor decides for an answer on its way out: send it (as it is, or replaced by another
 * answer to the same request), possibly after a delay.
 */
public final class ResponseAction {
    private static final ResponseAction SEND = new ResponseAction(null, 0);

    private final ApiMessage replacement;
    private final long delayMillis;

    private ResponseAction(ApiMessage replacement, long delayMillis) {
        this.replacement = replacement;
        this.delayMillis = delayMillis;
    }

    public static ResponseAction send() {
        return SEND;
    }

    public static ResponseAction replace(ApiMessage response) {
        if (response == null) {
            throw new IllegalArgumentException("a replacement needs a response");
        }
        return new ResponseAction(response, 0);
    }

    /** Sends the answer {@code millis} late; later answers of the connection wait behind it. */
    public static ResponseAction delay(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("delay must not be negative: " + millis);
        }
        return new ResponseAction(null, millis);
    }

    /** This action, with its answer sent {@code millis} late. */
    public ResponseAction delayedBy(long millis) {
        return millis == 0 ? this : new ResponseAction(replacement, delayMillis + millis);
    }

    /** The answer to send instead, or null to send the one given. */
    public ApiMessage replacement() {
        return replacement;
    }

    public long delayMillis() {
        return delayMillis;
    }
}
