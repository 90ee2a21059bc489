package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

/**
 * A streamed answer that survives its target breaking after the first words (mid-stream failover):
 * when the target fails (a reset, a stall, an error event: a 429 or 5xx) before the answer's
 * Finish, the next targets are asked to continue the text sent so far ({@link Continuation}), and
 * their events follow on the same stream, so the client sees one answer with one Finish. The Usage
 * is the continuation's plus an estimate of the broken attempt's (its own never came): its
 * completion at 4 characters a token, its prompt the continuation's less that text.
 * Not once a tool call has started (half a call cannot be continued), nor for an answer passed
 * through in the client's own dialect ({@link ChatEvent.Raw}), nor after the Finish, nor past
 * {@link #MAX_PARTIAL_CHARS} of text (which is not kept): then the error ends the stream as before.
 * Continuing again, should the continuation break too, is the continuation's own FailoverStream's
 * business; this one fails over once.
 */
final class FailoverStream implements ChatStream {
    /** Past this much text (a quarter of a million tokens or so) an answer is not kept to be continued. */
    static final int MAX_PARTIAL_CHARS = 1 << 20;

    /** Opens the continuation of {@code partial} on the targets not tried yet; throws when none takes it. */
    interface Resume {
        ChatStream open(String partial) throws InterruptedException;
    }

    private final String before; // what earlier targets wrote, which this one continued
    private final Resume resume;
    private final Runnable onResume;
    private final StringBuilder text = new StringBuilder();
    private ChatStream current;
    private boolean toolCall;
    private boolean raw; // the client is being sent the provider's own events, which another target's cannot continue
    private boolean finished;
    private boolean resumed;
    private boolean trimNextSpace; // the partial answer ended in whitespace: the continuation should not repeat it

    /** @param onResume counts the failover (metrics) */
    FailoverStream(ChatStream stream, String before, Resume resume, Runnable onResume) {
        this.current = stream;
        this.before = before;
        this.resume = resume;
        this.onResume = onResume;
    }

    @Override
    public ChatEvent next() throws InterruptedException {
        while (true) {
            ChatEvent e;
            try {
                e = current.next();
            } catch (ApiException broken) {
                if (resumed || toolCall || raw || finished || text.length() > MAX_PARTIAL_CHARS
                        || !(broken.status() == 429 || broken.status() >= 500)) {
                    throw broken;
                }
                current.close();
                String partial = before + text;
                try {
                    current = resume.open(partial);
                } catch (ApiException | RouteFailed none) {
                    throw broken; // no one could go on: the client hears what broke, as without failover
                }
                resumed = true;
                trimNextSpace = !partial.isEmpty() && Character.isWhitespace(partial.charAt(partial.length() - 1));
                onResume.run();
                continue;
            }
            if (!resumed) {
                switch (e) {
                    case ChatEvent.Delta d -> {
                        if (text.length() <= MAX_PARTIAL_CHARS) {
                            text.append(d.text());
                        }
                    }
                    case ChatEvent.ToolCallStart s -> toolCall = true;
                    case ChatEvent.Raw r -> raw = true;
                    case ChatEvent.Finish f -> finished = true;
                    case null, default -> { }
                }
                return e;
            }
            if (trimNextSpace && e instanceof ChatEvent.Delta d) {
                String t = d.text().stripLeading();
                trimNextSpace = t.isEmpty();
                if (t.isEmpty()) {
                    continue;
                }
                return new ChatEvent.Delta(d.index(), t, d.logprobs());
            }
            if (e instanceof ChatEvent.Usage u) {
                // the continuation's prompt is the broken attempt's plus the text it wrote
                int partial = Continuation.tokens(text.toString());
                return new ChatEvent.Usage(u.promptTokens() + Math.max(0, u.promptTokens() - partial), u.completionTokens() + partial);
            }
            return e;
        }
    }

    @Override
    public boolean ready() {
        return current.ready();
    }

    @Override
    public void close() {
        current.close();
    }
}
