package dev.gatehouse.serving.engine;

/** The engine's waiting queue is full: the request was refused at once and may be retried or sent elsewhere. */
public final class CapacityException extends RuntimeException {
    public CapacityException(String message) {
        super(message);
    }
}
