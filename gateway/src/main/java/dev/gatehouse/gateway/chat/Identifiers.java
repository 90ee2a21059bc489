package dev.gatehouse.gateway.chat;

/**
 * The longest name a client may give for anything that ends up in a log row, a metric label or the
 * usage log (a model, a user, a key's name, a JWT's user) or is matched against every generated
 * token (a stop string): longer ones are a 400 naming the field, so no client sizes a log line, a
 * database row or a label set.
 */
public final class Identifiers {
    public static final int MAX_LENGTH = 256;

    private Identifiers() {}

    /** {@code value}, or a 400 naming {@code param} when it is longer than {@link #MAX_LENGTH} characters. */
    public static String requireShort(String value, String param) {
        if (value != null && value.length() > MAX_LENGTH) {
            throw ApiException.invalid(param, "'" + param + "' is " + value.length() + " characters long; at most "
                    + MAX_LENGTH + " are allowed.");
        }
        return value;
    }
}
