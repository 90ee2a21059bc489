package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;
import dev.gatehouse.gateway.chat.ToolChoice;
import dev.gatehouse.gateway.config.ProviderType;

/**
 * ChatRequest -> the body of POST /chat/completions (a conversation) or /completions (a raw prompt).
 * Only fields that differ from OpenAI's defaults are sent, so models that refuse some parameters
 * (temperature on reasoning models) still answer requests that leave them alone.
 */
final class OpenAiRequestTranslator {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private OpenAiRequestTranslator() {}

    /**
     * OpenAI itself prefers max_completion_tokens; Azure names the model in the URL (the deployment);
     * both reject vLLM's extra sampling fields, which other OpenAI-compatible servers may take.
     */
    static ObjectNode body(ChatRequest request, ProviderType type) {
        boolean openAiItself = type == ProviderType.OPENAI;
        boolean strict = type != ProviderType.OPENAI_COMPATIBLE;
        ObjectNode body = MAPPER.createObjectNode();
        if (type != ProviderType.AZURE_OPENAI) {
            body.put("model", request.model());
        }
        if (request.isChat()) {
            ArrayNode messages = body.putArray("messages");
            request.messages().forEach(m -> messages.add(message(m)));
            tools(body, request);
        } else {
            if (request.prompts().size() == 1) {
                body.put("prompt", request.prompts().get(0));
            } else {
                request.prompts().forEach(body.putArray("prompt")::add);
            }
            if (request.echo()) {
                body.put("echo", true);
            }
        }
        if (request.maxTokens() != null) {
            body.put(request.isChat() && openAiItself ? "max_completion_tokens" : "max_tokens", request.maxTokens());
        }
        if (request.n() != 1) {
            body.put("n", request.n());
        }
        sampling(body, request, strict);
        if (request.user() != null) {
            body.put("user", request.user());
        }
        if (request.stream()) {
            body.put("stream", true);
            body.putObject("stream_options").put("include_usage", true); // usage is counted whatever the client asked
        }
        // what Gatehouse does not interpret goes on as the client sent it (reasoning_effort, metadata, store, ...)
        request.passthrough().forEach((field, value) -> {
            if (!body.has(field)) {
                body.set(field, value);
            }
        });
        return body;
    }

    /** One turn in OpenAI's shape: text as a string, parts as a list, tool calls and results by id. */
    private static ObjectNode message(Message m) {
        ObjectNode out = MAPPER.createObjectNode().put("role", m.role());
        if (m.content().isEmpty()) {
            out.putNull("content"); // an assistant turn that only calls tools
        } else if (m.content().size() == 1 && m.content().getFirst() instanceof ContentPart.Text t) {
            out.put("content", t.text());
        } else {
            ArrayNode parts = out.putArray("content");
            for (ContentPart p : m.content()) {
                switch (p) {
                    case ContentPart.Text t -> parts.addObject().put("type", "text").put("text", t.text());
                    case ContentPart.Image i -> {
                        ObjectNode image = parts.addObject().put("type", "image_url").putObject("image_url").put("url", i.url());
                        if (i.detail() != null) {
                            image.put("detail", i.detail());
                        }
                    }
                }
            }
        }
        if (!m.toolCalls().isEmpty()) {
            ArrayNode calls = out.putArray("tool_calls");
            for (ToolCall c : m.toolCalls()) {
                ObjectNode call = calls.addObject().put("id", c.id()).put("type", "function");
                call.putObject("function").put("name", c.name()).put("arguments", c.arguments());
            }
        }
        if (m.toolCallId() != null) {
            out.put("tool_call_id", m.toolCallId());
        }
        return out;
    }

    /** tools, tool_choice, parallel_tool_calls and response_format, as OpenAI names them. */
    private static void tools(ObjectNode body, ChatRequest request) {
        if (!request.tools().isEmpty()) {
            ArrayNode tools = body.putArray("tools");
            for (Tool t : request.tools()) {
                ObjectNode function = tools.addObject().put("type", "function").putObject("function").put("name", t.name());
                if (t.description() != null) {
                    function.put("description", t.description());
                }
                function.set("parameters", t.parameters());
                if (t.strict() != null) {
                    function.put("strict", t.strict());
                }
            }
            ToolChoice choice = request.toolChoice();
            if (choice != null) { // OpenAI refuses a tool_choice without tools
                switch (choice.mode()) {
                    case NONE -> body.put("tool_choice", "none");
                    case AUTO -> body.put("tool_choice", "auto");
                    case REQUIRED -> body.put("tool_choice", "required");
                    case NAMED -> body.putObject("tool_choice").put("type", "function")
                            .putObject("function").put("name", choice.name());
                }
            }
            if (request.parallelToolCalls() != null) {
                body.put("parallel_tool_calls", request.parallelToolCalls());
            }
        }
        ResponseFormat format = request.responseFormat();
        if (format != null) {
            ObjectNode f = body.putObject("response_format");
            if (format.type() == ResponseFormat.Type.JSON_OBJECT) {
                f.put("type", "json_object");
            } else {
                ObjectNode spec = f.put("type", "json_schema").putObject("json_schema").put("name", format.name());
                if (format.description() != null) {
                    spec.put("description", format.description());
                }
                spec.set("schema", format.schema());
                if (format.strict() != null) {
                    spec.put("strict", format.strict());
                }
            }
        }
    }

    private static void sampling(ObjectNode body, ChatRequest request, boolean strict) {
        ChatRequest.Sampling s = request.sampling();
        if (s.temperature() != 1f) {
            body.put("temperature", s.temperature());
        }
        if (s.topP() != 1f) {
            body.put("top_p", s.topP());
        }
        if (s.presencePenalty() != 0f) {
            body.put("presence_penalty", s.presencePenalty());
        }
        if (s.frequencyPenalty() != 0f) {
            body.put("frequency_penalty", s.frequencyPenalty());
        }
        if (s.seed() != null) {
            body.put("seed", s.seed());
        }
        if (!s.stop().isEmpty()) {
            ArrayNode stop = body.putArray("stop");
            s.stop().forEach(stop::add);
        }
        if (s.logprobs()) {
            if (request.isChat()) {
                body.put("logprobs", true);
                if (s.topLogprobs() > 0) {
                    body.put("top_logprobs", s.topLogprobs());
                }
            } else {
                body.put("logprobs", s.topLogprobs());
            }
        }
        // vLLM's extras: an OpenAI-compatible server may take them; OpenAI and Azure would answer 400
        extra(body, "top_k", s.topK() > 0, s.topK(), strict);
        extra(body, "min_p", s.minP() > 0f, s.minP(), strict);
        extra(body, "repetition_penalty", s.repetitionPenalty() != 1f, s.repetitionPenalty(), strict);
    }

    private static void extra(ObjectNode body, String field, boolean set, Number value, boolean strict) {
        if (!set) {
            return;
        }
        if (strict) {
            throw ApiException.unsupported(field, "'" + field + "' is not supported by this model's provider.");
        }
        body.putPOJO(field, value);
    }
}
