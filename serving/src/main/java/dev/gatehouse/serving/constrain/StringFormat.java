package dev.gatehouse.serving.constrain;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The string formats a constrained answer can be held to, each as a pattern over plain ASCII (no escapes).
 * A text being written is a possible start of the format while the pattern, run over it, either matches or
 * ran out of input ({@link Matcher#hitEnd}). Every pattern bounds its own length, so a text that may still
 * grow can always be completed. Dates are held to days every month has, or 29/30/31 in the
 * months that have them (never 29 February), so every date written is a real one; an email address ends in one
 * of a few common top-level domains, since validators check it against the real list; a time zone offset is
 * within the real ones (-14:00 .. +14:00).
 */
public enum StringFormat {
    DATE("date", Patterns.DATE, 10),
    DATE_TIME("date-time", Patterns.DATE + "T" + Patterns.TIME, 35),
    UUID("uuid", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", 36),
    EMAIL("email", "[A-Za-z0-9_+-]{1,20}(?:\\.[A-Za-z0-9_+-]{1,20}){0,2}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,22}[A-Za-z0-9])?"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,22}[A-Za-z0-9])?){0,2}\\."
            + "(?:com|org|net|edu|gov|io|dev|app|info|ai|uk|de|fr|jp)", 160);

    private final String keyword;
    private final Pattern pattern;
    /** Longer than any text the pattern takes: a guard, never the reason a text cannot be completed. */
    final int maxLength;

    StringFormat(String keyword, String regex, int maxLength) {
        this.keyword = keyword;
        this.pattern = Pattern.compile(regex);
        this.maxLength = maxLength;
    }

    /** The format named by a schema's {@code format}, or null when it is not one of these. */
    static StringFormat of(String keyword) {
        for (StringFormat f : values()) {
            if (f.keyword.equals(keyword)) {
                return f;
            }
        }
        return null;
    }

    static String supported() {
        return "date-time, date, uuid, email";
    }

    /** Whether {@code text} may still grow into a string of this format. */
    boolean mayStart(String text) {
        if (text.length() > maxLength) {
            return false;
        }
        Matcher m = pattern.matcher(text);
        return m.matches() || m.hitEnd();
    }

    boolean matches(String text) {
        return pattern.matcher(text).matches();
    }

    private static final class Patterns {
        static final String DATE = "[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
                + "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)";
        static final String TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?"
                + "(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))";
    }
}
