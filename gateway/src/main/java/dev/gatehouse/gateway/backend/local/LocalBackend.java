package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.CapacityException;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.text.ChatMessage;

import java.util.ArrayList;
import java.util.List;

/** A model of the local store, served by its batching engine. */
public final class LocalBackend implements Backend {
    private final Engine engine;

    public LocalBackend(Engine engine) {
        this.engine = engine;
    }

    public Engine engine() {
        return engine;
    }

    /** Plain text for now: tool calling and structured output on local models are their own work (issue 15). */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false, false, false, engine.maxModelLength());
    }

    @Override
    public Capacity capacity() {
        return engine.capacity();
    }

    @Override
    public ChatStream open(ChatRequest request) {
        int maxWaiting = engine.capacity().maxWaiting();
        if (request.choices() > maxWaiting) { // could never be queued at once: a 503 would invite endless retries;
            // another target may serve it, and it is refused before any prompt is tokenized
            throw ApiException.unsupportedValue(request.isChat() ? "n" : "prompt", "This request asks for " + request.choices()
                    + " generations (prompts times n); this model queues at most " + maxWaiting + " at once.");
        }
        LocalModel model = engine.model();
        List<int[]> prompts = tokenize(request, model);
        int context = engine.maxModelLength();
        for (int[] prompt : prompts) {
            checkContext(request, prompt, context);
        }
        // every prompt's n choices are queued at once, so the engine batches them together
        List<RequestHandle> handles = new ArrayList<>();
        List<String> echoes = new ArrayList<>();
        try {
            for (int p = 0; p < prompts.size(); p++) {
                int[] prompt = prompts.get(p);
                int maxTokens = request.maxTokens() == null ? context - prompt.length : request.maxTokens();
                for (int i = 0; i < request.n(); i++) { // choice p * n + i, as OpenAI numbers them
                    handles.add(engine.submit(prompt, params(request, maxTokens, i)));
                    echoes.add(request.echo() && !request.isChat() ? request.prompts().get(p) : null);
                }
            }
        } catch (CapacityException e) {
            handles.forEach(RequestHandle::cancel);
            long waitSeconds = Math.max(1, (engine.capacity().estimatedWaitMillis() + 999) / 1000);
            throw ApiException.overloaded(e.getMessage(), (int) Math.min(waitSeconds, 60));
        } catch (IllegalArgumentException e) {
            handles.forEach(RequestHandle::cancel);
            throw ApiException.invalid(null, e.getMessage());
        } catch (IllegalStateException e) { // the engine is draining (shutdown): go elsewhere, not a 500
            handles.forEach(RequestHandle::cancel);
            throw ApiException.shuttingDown(e.getMessage());
        }
        int promptTokens = prompts.stream().mapToInt(p -> p.length).sum(); // each prompt once, whatever n
        return new LocalChatStream(handles, promptTokens, model.tokenizer(), echoes);
    }

    private static void checkContext(ChatRequest request, int[] prompt, int context) {
        int room = context - prompt.length;
        if (room <= 0 || (request.maxTokens() != null && request.maxTokens() > room)) {
            int asked = request.maxTokens() == null ? 1 : request.maxTokens();
            String input = request.isChat() ? "messages" : "prompt";
            throw ApiException.contextLength(input, "This model's maximum context length is " + context + " tokens. However, you requested "
                    + ((long) prompt.length + asked) + " tokens (" + prompt.length + " in the " + input
                    + ", " + asked + " in the completion). Please reduce the length of the " + input + " or completion.");
        }
    }

    /** The prompt's tokens as this model reads them: the chat template rendered and tokenized (count_tokens). */
    public int promptTokens(ChatRequest request) {
        return tokenize(request, engine.model()).stream().mapToInt(p -> p.length).sum();
    }

    /** The rendered chat, or each prompt of a completion request. */
    private static List<int[]> tokenize(ChatRequest request, LocalModel model) {
        try {
            if (request.isChat()) {
                List<ChatMessage> messages = request.messages().stream().map(m -> new ChatMessage(m.role(), m.text())).toList();
                String text = model.chatTemplate().render(messages, true);
                return List.of(model.tokenizer().encode(text, false)); // the template wrote the special tokens itself
            }
            return request.prompts().stream().map(model::encodePrompt).toList();
        } catch (IllegalArgumentException e) { // the template's raise_exception (roles out of order), or an empty prompt
            throw ApiException.invalid(request.isChat() ? "messages" : "prompt", e.getMessage());
        }
    }

    /** Sample {@code i} of each prompt gets seed + i: n choices differ yet repeat, and a prompt answers alike alone or in a list. */
    private static SamplingParams params(ChatRequest request, int maxTokens, int choice) {
        ChatRequest.Sampling s = request.sampling();
        return new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(),
                s.presencePenalty(), s.frequencyPenalty(), s.seed() == null ? null : s.seed() + choice, maxTokens,
                s.stop(), s.logprobs(), s.topLogprobs(), false);
    }
}
