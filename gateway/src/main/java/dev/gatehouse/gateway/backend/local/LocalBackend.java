package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.gateway.backend.local.tools.ToolPrompt;
import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ToolChoice;
import dev.gatehouse.serving.constrain.CompiledGrammar;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.CapacityException;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model of the local store, served by its batching engine. Tools reach the model through its own
 * template's {@code tools}, or through the fallback system message of {@link ToolPrompt} when the
 * template has no tool support (unless its settings refuse); calls are parsed from the answer in the
 * model's {@link ToolFormat}. A response format or a forced tool call holds the answer to a grammar
 * ({@link ConstrainedOutput}).
 */
public final class LocalBackend implements Backend {
    private final Engine engine;
    private final ToolSettings toolSettings;
    /** Whether the model's own template renders tools; else the fallback does. */
    private final boolean templateHasTools;
    private final ToolFormat toolFormat;

    public LocalBackend(Engine engine) {
        this(engine, ToolSettings.DEFAULTS);
    }

    public LocalBackend(Engine engine, ToolSettings toolSettings) {
        this.engine = engine;
        this.toolSettings = toolSettings;
        String template = engine.model().tokenizerConfig().chatTemplate();
        this.templateHasTools = ToolPrompt.templateHasTools(template);
        // the fallback asks for Hermes calls, so only a template that renders tools itself sets the format
        this.toolFormat = toolSettings.parser() != null ? toolSettings.parser()
                : templateHasTools ? ToolFormat.detect(template, engine.model().tokenizer()) : ToolFormat.HERMES;
    }

    /** The format this model's tool calls are parsed in. */
    public ToolFormat toolFormat() {
        return toolFormat;
    }

    public Engine engine() {
        return engine;
    }

    /**
     * Tools unless the template has no tool support and the settings refuse the fallback; JSON output
     * (json_object, json_schema) by constrained decoding ({@link ConstrainedOutput}).
     */
    @Override
    public Capabilities capabilities() {
        boolean tools = templateHasTools || !toolSettings.refuseWithoutTemplate();
        return new Capabilities(tools, false, true, true, engine.maxModelLength());
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
        CompiledGrammar grammar = ConstrainedOutput.of(request, model.constraints(), toolFormat);
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
                    handles.add(engine.submit(prompt, params(request, maxTokens, i), grammar));
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
        // tool_choice "none" renders the tools but never parses calls
        boolean parseCalls = request.isChat() && !request.tools().isEmpty()
                && (request.toolChoice() == null || request.toolChoice().mode() != ToolChoice.Mode.NONE);
        return new LocalChatStream(handles, promptTokens, model.tokenizer(), echoes, parseCalls ? toolFormat : null);
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
    private List<int[]> tokenize(ChatRequest request, LocalModel model) {
        try {
            if (request.isChat()) {
                // a conversation that ends with the assistant's own words is continued from them (a prefill,
                // as Anthropic and Ollama do): the template opens the assistant's turn, the words follow unclosed
                String prefill = prefill(request.messages());
                List<Message> messages = prefill == null ? request.messages()
                        : request.messages().subList(0, request.messages().size() - 1);
                String text;
                if (templateHasTools || !request.usesTools()) {
                    Map<String, Object> variables = new HashMap<>();
                    variables.put("tools", ToolPrompt.tools(request.tools()));
                    text = model.chatTemplate().render(ToolPrompt.messages(messages), true, variables);
                } else {
                    text = model.chatTemplate().render(ToolPrompt.fallbackMessages(messages, request.tools()), true, Map.of());
                }
                if (prefill != null) {
                    text += prefill;
                }
                return List.of(model.tokenizer().encode(text, false)); // the template wrote the special tokens itself
            }
            return request.prompts().stream().map(model::encodePrompt).toList();
        } catch (IllegalArgumentException e) { // the template's raise_exception (roles out of order), or an empty prompt
            throw ApiException.invalid(request.isChat() ? "messages" : "prompt", e.getMessage());
        }
    }

    /** The text of a final assistant message without tool calls, which the answer continues; null when there is none. */
    private static String prefill(List<Message> messages) {
        Message last = messages.isEmpty() ? null : messages.getLast();
        return last != null && Message.ASSISTANT.equals(last.role()) && last.toolCalls().isEmpty() && !last.text().isEmpty()
                && messages.size() > 1 ? last.text() : null;
    }

    @Override
    public boolean prefills(String model) {
        return true;
    }

    /** Sample {@code i} of each prompt gets seed + i: n choices differ yet repeat, and a prompt answers alike alone or in a list. */
    private static SamplingParams params(ChatRequest request, int maxTokens, int choice) {
        ChatRequest.Sampling s = request.sampling();
        return new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(),
                s.presencePenalty(), s.frequencyPenalty(), s.seed() == null ? null : s.seed() + choice, maxTokens,
                s.stop(), s.logprobs(), s.topLogprobs(), false);
    }
}
