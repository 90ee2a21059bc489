package dev.gatehouse.gateway.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A keep-alive written as Ollama writes it: {@code 30s}, {@code 5m}, {@code 1h}, or whole seconds. */
public final class IdleDuration {
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(s|m|h)?");

    private IdleDuration() {}

    /** The duration; IllegalArgumentException for anything else, zero included (a model is not unloaded at once). */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a positive duration such as 30s, 5m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2) == null ? "s" : m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
