package dev.gatehouse.serving.text;

import java.util.List;

/**
 * Applies stop strings to streamed text. Text that cannot be the start of a stop string is
 * emitted at once; a tail that might be is held back until the next delta decides. When a stop
 * string completes, only the text before it is emitted and the matcher reports stopped; the stop
 * string itself is never emitted.
 *
 * <p>Not thread-safe: one per generated sequence.
 */
public final class StopMatcher {

    /**
     * @param emit text safe to send to the client now, possibly ""
     * @param stopped true when a stop string completed: generation should end
     */
    public record Result(String emit, boolean stopped) {}

    private final List<String> stops;
    private String held = "";
    private boolean stopped;
    private String matched;

    /** @param stops stop strings; null or empty ones are ignored */
    public StopMatcher(List<String> stops) {
        this.stops = stops == null ? List.of()
                : stops.stream().filter(s -> s != null && !s.isEmpty()).toList();
    }

    /** Feeds newly generated text. After a stop, further text is ignored. */
    public Result push(String delta) {
        if (stopped) {
            return new Result("", true);
        }
        String text = held + delta;
        int stopAt = firstStop(text);
        if (stopAt >= 0) {
            stopped = true;
            matched = stopAt(text, stopAt);
            held = "";
            return new Result(text.substring(0, stopAt), true);
        }
        int keep = longestPartialStop(text);
        held = text.substring(text.length() - keep);
        return new Result(text.substring(0, text.length() - keep), false);
    }

    /** The stop string that ended the text; null while none has. */
    public String matched() {
        return matched;
    }

    /** At the end of generation without a stop: the held-back text. */
    public String flush() {
        String rest = held;
        held = "";
        return rest;
    }

    /** Where the earliest complete stop string starts, or -1. */
    private int firstStop(String text) {
        int first = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /** The stop string that starts at {@code at} (the longest, when several do). */
    private String stopAt(String text, int at) {
        String found = null;
        for (String stop : stops) {
            if (text.startsWith(stop, at) && (found == null || stop.length() > found.length())) {
                found = stop;
            }
        }
        return found;
    }

    /** Length of the longest end of text that is the beginning of some stop string. */
    private int longestPartialStop(String text) {
        int longest = 0;
        for (String stop : stops) {
            for (int n = Math.min(stop.length() - 1, text.length()); n > longest; n--) {
                if (text.endsWith(stop.substring(0, n))) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }
}
