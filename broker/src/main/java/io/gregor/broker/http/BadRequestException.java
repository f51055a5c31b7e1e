package io.gregor.broker.http;

/** Thrown by a route's handler for input it cannot take; the listener answers 400 with the message. */
public final class BadRequestException extends RuntimeException {
    public BadRequestException(String message) {
        super(message, null, false, false);
    }
}
