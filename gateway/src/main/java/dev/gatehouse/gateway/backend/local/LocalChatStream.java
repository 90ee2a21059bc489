package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.backend.local.tools.ToolCallParser;
import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.serving.engine.EngineEvent;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.text.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.logging.Logger;

/**
 * Merges the engine streams of a request's choices into one ChatEvent stream. One virtual thread
 * per choice moves its events into a small bounded queue, so a slow client still slows the engine
 * (the queue fills, the pump blocks, the engine pauses the sequence). An engine failure reaches the
 * client as a plain 500; what went wrong is logged here, never sent.
 */
final class LocalChatStream implements ChatStream {
    private static final Logger LOG = Logger.getLogger(LocalChatStream.class.getName());

    private record Failure(long requestId, String message) {}

    private final List<RequestHandle> handles;
    private final int promptTokens;
    private final Tokenizer tokenizer;
    private final ToolFormat toolFormat;
    private final BlockingQueue<Object> events = new ArrayBlockingQueue<>(64);
    private final List<Thread> pumps = new ArrayList<>();
    private int finished;
    private int completionTokens;
    private boolean done;

    /**
     * @param handles     one per choice, in choice order
     * @param promptTokens all prompts' tokens together, for the usage
     * @param echoes      per choice, the prompt text to send before its tokens, or null
     * @param toolFormat  the format tool calls are parsed from the text in; null to send the text as it is
     */
    LocalChatStream(List<RequestHandle> handles, int promptTokens, Tokenizer tokenizer, List<String> echoes,
                    ToolFormat toolFormat) {
        this.handles = handles;
        this.promptTokens = promptTokens;
        this.tokenizer = tokenizer;
        this.toolFormat = toolFormat;
        for (int i = 0; i < handles.size(); i++) {
            int index = i;
            pumps.add(Thread.ofVirtual().name("choice-" + i).start(() -> pump(index, handles.get(index), echoes.get(index))));
        }
    }

    private void pump(int index, RequestHandle handle, String echo) {
        try {
            if (echo != null) {
                events.put(new ChatEvent.Delta(index, echo, null));
            }
            ToolCallParser calls = toolFormat == null ? null : new ToolCallParser(index, toolFormat);
            while (true) {
                switch (handle.next()) {
                    case EngineEvent.Token t -> {
                        List<ChatEvent.TokenLogprob> logprobs = logprobs(t.token());
                        if (calls == null) {
                            events.put(new ChatEvent.Delta(index, t.text(), logprobs));
                        } else {
                            put(calls.feed(t.text()), index, logprobs);
                        }
                    }
                    case EngineEvent.Finished f -> {
                        if (calls != null) {
                            put(calls.finish(), index, null);
                        }
                        events.put(f);
                        boolean length = f.reason() == dev.gatehouse.serving.engine.FinishReason.LENGTH;
                        FinishReason reason = length ? FinishReason.LENGTH
                                : calls != null && calls.calledTools() ? FinishReason.TOOL_CALLS : FinishReason.STOP;
                        events.put(new ChatEvent.Finish(index, reason, reason == FinishReason.STOP ? f.stopSequence() : null));
                        return;
                    }
                    case EngineEvent.Failed f -> {
                        events.put(new Failure(handle.id(), f.message()));
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            handle.cancel(); // the client went away
        }
    }

    /**
     * The parser's events for one token; the token's logprobs go with the first text it released, or
     * alone in an empty delta when it released none (held back, or part of a call), so none are lost.
     */
    private void put(List<ChatEvent> parsed, int index, List<ChatEvent.TokenLogprob> logprobs) throws InterruptedException {
        for (ChatEvent e : parsed) {
            if (logprobs != null && e instanceof ChatEvent.Delta d) {
                e = new ChatEvent.Delta(index, d.text(), logprobs);
                logprobs = null;
            }
            events.put(e);
        }
        if (logprobs != null) {
            events.put(new ChatEvent.Delta(index, "", logprobs));
        }
    }

    private List<ChatEvent.TokenLogprob> logprobs(SampledToken token) {
        if (Float.isNaN(token.logprob())) {
            return null;
        }
        List<ChatEvent.TopLogprob> top = token.topLogprobs().stream()
                .map(t -> new ChatEvent.TopLogprob(tokenizer.tokenText(t.tokenId()), t.logprob())).toList();
        return List.of(new ChatEvent.TokenLogprob(tokenizer.tokenText(token.tokenId()), token.logprob(), top));
    }

    @Override
    public ChatEvent next() throws InterruptedException {
        while (!done) {
            Object e = events.take();
            if (e instanceof EngineEvent.Finished f) {
                completionTokens += f.usage().completionTokens();
            } else if (e instanceof ChatEvent.Finish finish) {
                if (++finished == handles.size()) {
                    done = true;
                    events.add(new ChatEvent.Usage(promptTokens, completionTokens));
                }
                return finish;
            } else if (e instanceof Failure f) {
                close();
                // the engine's message may name internals (native errors, paths): the log has it, the client a plain 500
                LOG.warning("engine request " + f.requestId() + " failed: " + f.message());
                throw new ApiException(500, "server_error", null, null,
                        "The server had an error while generating the response.", null);
            } else {
                return (ChatEvent) e;
            }
        }
        Object last = events.poll();
        return last instanceof ChatEvent.Usage u ? u : null;
    }

    @Override
    public void close() {
        handles.forEach(RequestHandle::cancel);
        pumps.forEach(Thread::interrupt);
    }
}
