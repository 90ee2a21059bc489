package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Consumer;

/**
 * Passes a backend's events through unchanged and hands the whole list on once the generation has
 * ended cleanly: every choice finished and the stream read to its end. A failure, or a stream closed
 * before its end (client gone, cancelled), records nothing.
 */
final class RecordingStream implements ChatStream {
    private final ChatStream inner;
    private final int choices;
    private final Consumer<List<ChatEvent>> onComplete;
    private final List<ChatEvent> events = new ArrayList<>();
    private final BitSet finished = new BitSet();
    private boolean failed;
    private boolean recorded;

    RecordingStream(ChatStream inner, int choices, Consumer<List<ChatEvent>> onComplete) {
        this.inner = inner;
        this.choices = choices;
        this.onComplete = onComplete;
    }

    @Override
    public ChatEvent next() throws InterruptedException {
        ChatEvent e;
        try {
            e = inner.next();
        } catch (RuntimeException | InterruptedException x) {
            failed = true;
            throw x;
        }
        if (e != null) {
            events.add(e);
            if (e instanceof ChatEvent.Finish f) {
                finished.set(f.index());
            }
        } else if (!failed && !recorded && finished.cardinality() == choices) {
            recorded = true;
            onComplete.accept(List.copyOf(events));
        }
        return e;
    }

    @Override
    public void close() {
        inner.close();
    }
}
