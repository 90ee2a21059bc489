package dev.gatehouse.gateway.hub;

/** A pull or store operation failed for a reason the user can act on; the message says what to do. */
public final class HubException extends RuntimeException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
