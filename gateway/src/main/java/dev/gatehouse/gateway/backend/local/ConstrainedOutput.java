package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolChoice;
import dev.gatehouse.serving.constrain.CompiledGrammar;
import dev.gatehouse.serving.constrain.Constraints;
import dev.gatehouse.serving.constrain.UnsupportedSchemaException;

import java.util.ArrayList;
import java.util.List;

/**
 * The grammar a local model's answer is held to by constrained decoding: a forced tool call
 * ({@code tool_choice} "required" or a named function) written in the model's {@link ToolFormat}, else the
 * {@code response_format} (any JSON object, or JSON valid under a schema), else none. A schema that uses a
 * keyword constrained decoding does not support is a 400 naming the keyword.
 */
final class ConstrainedOutput {
    private ConstrainedOutput() {}

    /** The grammar for {@code request}, or null when its answer is free text. */
    static CompiledGrammar of(ChatRequest request, Constraints constraints, ToolFormat format) {
        if (!request.isChat()) {
            return null;
        }
        ToolChoice choice = request.toolChoice();
        boolean forced = choice != null && (choice.mode() == ToolChoice.Mode.REQUIRED || choice.mode() == ToolChoice.Mode.NAMED);
        if (forced && !request.tools().isEmpty()) {
            return toolCall(request, choice, constraints, format);
        }
        ResponseFormat f = request.responseFormat();
        if (f == null) {
            return null;
        }
        if (f.type() == ResponseFormat.Type.JSON_OBJECT) {
            return constraints.jsonObject();
        }
        if (f.schema() == null) {
            throw ApiException.invalid("response_format.json_schema.schema", "A json_schema response format needs a schema.");
        }
        try {
            return constraints.jsonSchema(f.schema());
        } catch (UnsupportedSchemaException e) {
            throw ApiException.invalid("response_format.json_schema.schema", "Invalid schema for response_format: " + e.getMessage() + ".");
        }
    }

    private static CompiledGrammar toolCall(ChatRequest request, ToolChoice choice, Constraints constraints, ToolFormat format) {
        List<Constraints.Tool> tools = new ArrayList<>();
        for (int i = 0; i < request.tools().size(); i++) {
            Tool t = request.tools().get(i);
            if (choice.mode() == ToolChoice.Mode.REQUIRED || t.name().equals(choice.name())) {
                tools.add(new Constraints.Tool(t.name(), t.parameters()));
            }
        }
        if (tools.isEmpty()) {
            throw ApiException.invalid("tool_choice", "tool_choice names the function '" + choice.name()
                    + "', which is not among the request's tools.");
        }
        try {
            return switch (format) {
                case HERMES -> constraints.toolCall(tools, "arguments", "<tool_call>\n", "\n</tool_call>");
                case LLAMA3_JSON -> constraints.toolCall(tools, "parameters", "", "");
                case MISTRAL -> constraints.toolCall(tools, "arguments", "[", "]");
            };
        } catch (UnsupportedSchemaException e) {
            throw ApiException.invalid("tools", "Invalid schema for a tool's parameters: " + e.getMessage() + ".");
        }
    }
}
