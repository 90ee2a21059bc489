package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** OpenAI's response, chunk and error bodies, built explicitly field by field. */
public final class OpenAiJson {
    /** Trailing tokens fail: "{...} garbage" or two objects back to back are malformed, not the first object. */
    public static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private OpenAiJson() {}

    static ObjectNode error(ApiException e) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        error.put("param", e.param());
        error.put("code", e.code());
        return root;
    }

    static ObjectNode usage(ChatEvent.Usage u) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("prompt_tokens", u.promptTokens());
        n.put("completion_tokens", u.completionTokens());
        n.put("total_tokens", u.totalTokens());
        return n;
    }

    static ObjectNode envelope(String id, String object, long created, String model) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("id", id);
        n.put("object", object);
        n.put("created", created);
        n.put("model", model);
        return n;
    }

    /** Chat logprobs: {"content": [{token, logprob, bytes, top_logprobs: [...]}], "refusal": null}. */
    static ObjectNode chatLogprobs(List<ChatEvent.TokenLogprob> tokens) {
        ObjectNode n = MAPPER.createObjectNode();
        ArrayNode content = n.putArray("content");
        for (ChatEvent.TokenLogprob t : tokens) {
            ObjectNode item = tokenLogprob(t.token(), t.logprob());
            ArrayNode top = item.putArray("top_logprobs");
            t.top().forEach(alt -> top.add(tokenLogprob(alt.token(), alt.logprob())));
            content.add(item);
        }
        n.putNull("refusal");
        return n;
    }

    private static ObjectNode tokenLogprob(String token, float logprob) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("token", token);
        n.put("logprob", logprob);
        ArrayNode bytes = n.putArray("bytes");
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xFF);
        }
        return n;
    }

    /** Legacy completions logprobs: parallel arrays of tokens, their logprobs, top alternatives and text offsets. */
    static ObjectNode completionLogprobs(List<ChatEvent.TokenLogprob> tokens, List<Integer> textOffsets) {
        ObjectNode n = MAPPER.createObjectNode();
        ArrayNode names = n.putArray("tokens");
        ArrayNode logprobs = n.putArray("token_logprobs");
        ArrayNode top = n.putArray("top_logprobs");
        ArrayNode offsets = n.putArray("text_offset");
        for (ChatEvent.TokenLogprob t : tokens) {
            names.add(t.token());
            logprobs.add(t.logprob());
            ObjectNode alternatives = top.addObject();
            t.top().forEach(alt -> alternatives.put(alt.token(), alt.logprob()));
        }
        textOffsets.forEach(offsets::add);
        return n;
    }

    public static byte[] bytes(Object node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
