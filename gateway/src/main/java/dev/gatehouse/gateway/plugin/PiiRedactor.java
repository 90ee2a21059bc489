package dev.gatehouse.gateway.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;

/** Finds the enabled kinds of PII in text and replaces each with its placeholder ({@code [EMAIL]}, ...). */
final class PiiRedactor {
    private final List<PiiKind> kinds;

    /** One piece of PII: {@code [start, end)} of the text searched. */
    record Span(int start, int end, PiiKind kind) {}

    PiiRedactor(Set<PiiKind> kinds) {
        this.kinds = List.copyOf(kinds.stream().sorted().toList()); // enum order: most specific first
    }

    /** {@code text} with every piece of PII replaced. */
    String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        return replace(text, 0, text.length(), find(text, 0, text.length()));
    }

    /**
     * The PII in {@code text[from, to)}, in order, not overlapping. Text before {@code from} and after
     * {@code to} is seen as context (so a number is not taken out of the middle of a bigger one).
     * Spans found so far are kept by start, so checking a match against them costs a lookup, not a
     * pass over all of them (a body of short e-mails has hundreds of thousands).
     */
    List<Span> find(CharSequence text, int from, int to) {
        TreeMap<Integer, Span> found = new TreeMap<>();
        for (PiiKind kind : kinds) {
            Matcher m = matcher(kind, text, from, to);
            while (m.find()) {
                int[] span = kind.validSpan(text, m.start(), m.end());
                if (span != null && !overlaps(found, span[0], span[1])) {
                    found.put(span[0], new Span(span[0], span[1], kind));
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    /** Whether {@code [start, end)} overlaps one of {@code found}, which do not overlap each other. */
    private static boolean overlaps(TreeMap<Integer, Span> found, int start, int end) {
        Map.Entry<Integer, Span> before = found.floorEntry(start);
        Map.Entry<Integer, Span> after = found.ceilingEntry(start);
        return (before != null && before.getValue().end() > start) || (after != null && after.getKey() < end);
    }

    /**
     * Where text still streaming in must be held back: the first position from {@code from} (looking
     * at most {@code maxHold} characters back from {@code to}) at which more text could still make or
     * change a match. {@code to} when nothing needs holding.
     *
     * <p>A match tried from a position that did not read to the end of the text then will not read to
     * the end of a longer text either (it saw none of the new characters), so a caller that passes the
     * previous answer as {@code checkedBefore} has only the positions from there on tried again.
     */
    int holdFrom(CharSequence text, int from, int to, int maxHold, int checkedBefore) {
        for (int p = Math.max(Math.max(from, checkedBefore), to - maxHold); p < to; p++) {
            for (PiiKind kind : kinds) {
                Matcher m = matcher(kind, text, p, to);
                m.lookingAt();
                if (m.hitEnd()) { // the pattern read to the end of the text so far: the next delta decides
                    return p;
                }
            }
        }
        return to;
    }

    /** {@code text[from, to)} with the spans that lie in it replaced by their placeholders. */
    static String replace(CharSequence text, int from, int to, List<Span> spans) {
        StringBuilder out = new StringBuilder();
        int at = from;
        for (Span s : spans) {
            if (s.start() >= from && s.end() <= to) {
                out.append(text, at, s.start()).append(s.kind().placeholder);
                at = s.end();
            }
        }
        return out.append(text, at, to).toString();
    }

    private static Matcher matcher(PiiKind kind, CharSequence text, int from, int to) {
        return kind.pattern.matcher(text).region(from, to).useTransparentBounds(true).useAnchoringBounds(false);
    }
}
