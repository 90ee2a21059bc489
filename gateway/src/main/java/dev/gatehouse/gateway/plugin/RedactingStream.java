package dev.gatehouse.gateway.plugin;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An answer with its PII redacted as it streams. A phone number may arrive split over several
 * deltas, so each choice's text is passed on only up to where no pattern could still match: the
 * tail that might be the start of an email, phone or card number (at most {@link #MAX_HOLD}
 * characters) waits for the next delta, and is flushed, redacted, when the choice finishes.
 *
 * <p>Logprobs travel with the text of their token; the tokens that spelled a redacted piece are
 * dropped, since their text is the PII.
 */
final class RedactingStream implements ChatStream {
    /** The longest tail held back; PII longer than this that is still growing may slip through unredacted. */
    static final int MAX_HOLD = 128;

    private final ChatStream inner;
    private final PiiRedactor redactor;
    private final Map<Integer, Choice> choices = new HashMap<>();
    private final ArrayDeque<ChatEvent> ready = new ArrayDeque<>();

    /** One choice's text not passed on yet, after one character of what was, for context. */
    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        long base; // the position of text[0] in the choice's whole text
        int start; // where the text not yet passed on begins in {@code text}
        int checked; // in {@code text}: no match tried from before here can be changed by more text
        final List<Token> tokens = new ArrayList<>(); // logprobs waiting for their text
        boolean logprobs; // the backend sends logprobs: every delta passed on carries a list
    }

    /** A token's logprob with where its text ends in the choice's whole text. */
    private record Token(ChatEvent.TokenLogprob logprob, long end) {}

    RedactingStream(ChatStream inner, PiiRedactor redactor) {
        this.inner = inner;
        this.redactor = redactor;
    }

    @Override
    public ChatEvent next() throws InterruptedException {
        while (ready.isEmpty()) {
            ChatEvent e = inner.next();
            if (e == null) {
                choices.keySet().stream().sorted().forEach(index -> pass(index, true)); // a choice that never finished
                return ready.poll();
            }
            switch (e) {
                case ChatEvent.Delta d -> {
                    add(d);
                    pass(d.index(), false);
                }
                case ChatEvent.Finish f -> {
                    pass(f.index(), true);
                    ready.add(f);
                }
                // tool calls pass as they are: the text before them goes first, whole
                case ChatEvent.ToolCallStart t -> {
                    pass(t.index(), true);
                    ready.add(t);
                }
                case ChatEvent.ToolCallDelta t -> ready.add(t);
                case ChatEvent.ToolCallEnd t -> ready.add(t);
                case ChatEvent.Usage u -> {
                    choices.keySet().stream().sorted().forEach(index -> pass(index, true));
                    ready.add(u);
                }
                case ChatEvent.Raw r -> { } // never here (plugins drop the original body); would carry unredacted text
            }
        }
        return ready.poll();
    }

    private void add(ChatEvent.Delta d) {
        Choice c = choices.computeIfAbsent(d.index(), i -> new Choice());
        long end = c.base + c.text.length();
        c.text.append(d.text());
        if (d.logprobs() != null) {
            c.logprobs = true;
            long deltaEnd = end + d.text().length();
            for (ChatEvent.TokenLogprob t : d.logprobs()) {
                end = Math.min(end + t.token().length(), deltaEnd);
                c.tokens.add(new Token(t, end));
            }
        }
    }

    /** Passes on the choice's text that is settled, redacted; all of it when {@code all}. */
    private void pass(int index, boolean all) {
        Choice c = choices.get(index);
        if (c == null) {
            return;
        }
        int to = c.text.length();
        int cut = all ? to : redactor.holdFrom(c.text, c.start, to, MAX_HOLD, c.checked);
        c.checked = cut;
        List<PiiRedactor.Span> spans = redactor.find(c.text, c.start, to);
        for (PiiRedactor.Span s : spans) {
            if (s.start() < cut && s.end() > cut) { // never cut through a piece of PII
                cut = s.start();
            }
        }
        if (cut == c.start && (!all || c.tokens.isEmpty())) {
            return;
        }
        String text = PiiRedactor.replace(c.text, c.start, cut, spans);
        List<ChatEvent.TokenLogprob> logprobs = c.logprobs ? settledTokens(c, cut, spans) : null;
        ready.add(new ChatEvent.Delta(index, text, logprobs));
        int keep = Math.max(cut - 1, 0); // one character stays as context for the next match
        c.text.delete(0, keep);
        c.base += keep;
        c.start = cut - keep;
        c.checked -= keep;
    }

    /** The tokens whose text ends before {@code cut}, without those that spelled PII. */
    private static List<ChatEvent.TokenLogprob> settledTokens(Choice c, int cut, List<PiiRedactor.Span> spans) {
        long cutAt = c.base + cut;
        List<ChatEvent.TokenLogprob> out = new ArrayList<>();
        while (!c.tokens.isEmpty() && c.tokens.getFirst().end() <= cutAt) {
            Token t = c.tokens.removeFirst();
            long start = t.end() - t.logprob().token().length();
            if (!overlapsSpan(spans, c.base, start, t.end())) {
                out.add(t.logprob());
            }
        }
        return out;
    }

    /** Whether {@code [start, end)} of the whole text overlaps one of {@code spans} (in order, not overlapping). */
    private static boolean overlapsSpan(List<PiiRedactor.Span> spans, long base, long start, long end) {
        int lo = 0;
        int hi = spans.size();
        while (lo < hi) { // the first span that starts at or after end
            int mid = (lo + hi) >>> 1;
            if (base + spans.get(mid).start() < end) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo > 0 && base + spans.get(lo - 1).end() > start;
    }

    @Override
    public void close() {
        inner.close();
    }
}
