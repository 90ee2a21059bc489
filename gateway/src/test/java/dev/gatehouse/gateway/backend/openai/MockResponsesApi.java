package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link MockOpenAi}'s POST /v1/responses, as OpenAI's Responses API answers: a response object with
 * a reasoning item (which Gatehouse's own encoder never makes, so a client that sees it got OpenAI's
 * answer unchanged) and a message of {@link #REPLY}, or {@link MockOpenAi#CALLS} as function_call
 * items when the request has tools and no function_call_output yet; streamed as response.created ...
 * response.completed with sequence numbers.
 */
final class MockResponsesApi {
    static final String REPLY = "Hello from the Responses API.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private MockResponsesApi() {}

    static void answer(HttpExchange ex, JsonNode body) throws IOException {
        boolean results = false;
        for (JsonNode item : body.path("input")) {
            results |= item.path("type").asText().equals("function_call_output");
        }
        List<ObjectNode> output = new ArrayList<>();
        output.add(JSON.createObjectNode().put("id", "rs_68af4030592c81938ec0a5fbab4a3e9f").put("type", "reasoning")
                .set("summary", JSON.createArrayNode()));
        if (!body.path("tools").isEmpty() && !results) {
            for (int i = 0; i < MockOpenAi.CALLS.size(); i++) {
                List<String> c = MockOpenAi.CALLS.get(i);
                output.add(JSON.createObjectNode().put("id", "fc_" + i).put("type", "function_call").put("status", "completed")
                        .put("arguments", c.get(2)).put("call_id", c.get(0)).put("name", c.get(1)));
            }
        } else {
            ObjectNode message = JSON.createObjectNode().put("id", "msg_68af40337e5c8193").put("type", "message")
                    .put("status", "completed").put("role", "assistant");
            ObjectNode part = message.putArray("content").addObject().put("type", "output_text")
                    .put("text", results ? MockOpenAi.TOOL_ANSWER : REPLY);
            part.putArray("annotations");
            part.putArray("logprobs");
            output.add(message);
        }
        String model = body.path("model").asText();
        if (!body.path("stream").asBoolean(false)) {
            byte[] bytes = JSON.writeValueAsBytes(response(model, "completed", output));
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
            return;
        }
        ex.getResponseHeaders().add("Content-Type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            int[] seq = {0};
            event(out, seq, "response.created", e -> e.set("response", response(model, "in_progress", List.of())));
            for (int i = 0; i < output.size(); i++) {
                ObjectNode item = output.get(i);
                int index = i;
                event(out, seq, "response.output_item.added", e -> e.put("output_index", index).set("item", item));
                if (item.path("type").asText().equals("message")) {
                    JsonNode part = item.path("content").get(0);
                    String text = part.path("text").asText();
                    String id = item.path("id").asText();
                    event(out, seq, "response.content_part.added", e -> e.put("item_id", id).put("output_index", index)
                            .put("content_index", 0).set("part", ((ObjectNode) part.deepCopy()).put("text", "")));
                    for (int at = 0; at < text.length(); at += 5) {
                        String piece = text.substring(at, Math.min(text.length(), at + 5));
                        event(out, seq, "response.output_text.delta", e -> e.put("item_id", id).put("output_index", index)
                                .put("content_index", 0).put("delta", piece).set("logprobs", JSON.createArrayNode()));
                    }
                    event(out, seq, "response.output_text.done", e -> e.put("item_id", id).put("output_index", index)
                            .put("content_index", 0).put("text", text).set("logprobs", JSON.createArrayNode()));
                    event(out, seq, "response.content_part.done", e -> e.put("item_id", id).put("output_index", index)
                            .put("content_index", 0).set("part", part));
                } else if (item.path("type").asText().equals("function_call")) {
                    String arguments = item.path("arguments").asText();
                    for (int at = 0; at < arguments.length(); at += 7) {
                        String piece = arguments.substring(at, Math.min(arguments.length(), at + 7));
                        event(out, seq, "response.function_call_arguments.delta", e -> e.put("item_id",
                                item.path("id").asText()).put("output_index", index).put("delta", piece));
                    }
                    event(out, seq, "response.function_call_arguments.done", e -> e.put("item_id", item.path("id").asText())
                            .put("output_index", index).put("name", item.path("name").asText()).put("arguments", arguments));
                }
                event(out, seq, "response.output_item.done", e -> e.put("output_index", index).set("item", item));
            }
            event(out, seq, "response.completed", e -> e.set("response", response(model, "completed", output)));
        }
    }

    private static ObjectNode response(String model, String status, List<ObjectNode> output) {
        ObjectNode r = JSON.createObjectNode().put("id", "resp_68af4030592c81938ec0a5fbab4a3e9f").put("object", "response")
                .put("created_at", 1756315696).put("status", status).put("background", false).putNull("error")
                .putNull("incomplete_details").putNull("instructions").putNull("max_output_tokens").put("model", model);
        ArrayNode items = r.putArray("output");
        output.forEach(items::add);
        r.put("parallel_tool_calls", true).putNull("previous_response_id").put("store", false).put("temperature", 1.0);
        r.putObject("text").putObject("format").put("type", "text");
        r.put("tool_choice", "auto").put("top_p", 1.0).put("truncation", "disabled").putNull("user");
        r.putArray("tools");
        r.putObject("metadata");
        if (status.equals("completed")) {
            ObjectNode u = r.putObject("usage").put("input_tokens", 36);
            u.putObject("input_tokens_details").put("cached_tokens", 0).put("cache_write_tokens", 0);
            u.put("output_tokens", 87);
            u.putObject("output_tokens_details").put("reasoning_tokens", 64);
            u.put("total_tokens", 123);
        } else {
            r.putNull("usage");
        }
        return r;
    }

    private static void event(OutputStream out, int[] seq, String type, java.util.function.Consumer<ObjectNode> fill)
            throws IOException {
        ObjectNode e = JSON.createObjectNode().put("type", type).put("sequence_number", seq[0]++);
        fill.accept(e);
        out.write(("event: " + type + "\ndata: " + JSON.writeValueAsString(e) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
