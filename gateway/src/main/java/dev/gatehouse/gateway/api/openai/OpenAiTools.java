package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolChoice;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * OpenAI's {@code tools}, {@code tool_choice}, the legacy {@code functions} / {@code function_call},
 * and {@code response_format} -> the internal request's. Each mistake is a 400 naming the param
 * ({@code tools[1].function.parameters}).
 */
final class OpenAiTools {
    static final int MAX_TOOLS = 128; // OpenAI's own limit
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    private OpenAiTools() {}

    /** {@code tools}, else the legacy {@code functions}; empty when neither is given. */
    static List<Tool> tools(RequestReader r) {
        JsonNode tools = r.node("tools");
        JsonNode functions = r.node("functions");
        if (tools != null && functions != null && !functions.isEmpty()) {
            throw ApiException.invalid("functions", "Send 'tools' or the older 'functions', not both.");
        }
        String field = tools != null ? "tools" : "functions";
        JsonNode list = tools != null ? tools : functions;
        if (list == null) {
            return List.of();
        }
        if (!list.isArray()) {
            throw RequestReader.wrongType(field, "an array");
        }
        if (list.size() > MAX_TOOLS) {
            throw ApiException.invalid(field, "'" + field + "' has " + list.size() + " items; at most " + MAX_TOOLS + " are allowed.");
        }
        List<Tool> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = field + "[" + i + "]";
            JsonNode function;
            if (tools != null) {
                RequestReader tool = RequestReader.at(list.get(i), where);
                if (!tool.string("type", "function").equals("function")) {
                    throw ApiException.invalid(where + ".type", "Invalid value for '" + where + ".type': only 'function' is supported.");
                }
                where += ".function";
                function = list.get(i).get("function");
            } else {
                function = list.get(i);
            }
            RequestReader f = RequestReader.at(function, where);
            String name = f.requiredString("name");
            if (!NAME.matcher(name).matches()) {
                throw ApiException.invalid(where + ".name", "Invalid '" + where + ".name': a function name is 1 to 64 "
                        + "letters, digits, underscores and dashes.");
            }
            if (names.contains(name)) {
                throw ApiException.invalid(where + ".name", "Two tools are named '" + name + "'; tool names must be unique.");
            }
            names.add(name);
            out.add(new Tool(name, f.string("description", null), parameters(f.node("parameters"), where + ".parameters"),
                    f.node("strict") == null ? null : f.bool("strict", false)));
        }
        return out;
    }

    /**
     * A JSON-schema object ({@code "type": "object"}, or no type, as in {@code {}}); a function
     * without parameters takes an empty object.
     */
    private static JsonNode parameters(JsonNode schema, String where) {
        if (schema == null) {
            ObjectNode empty = OpenAiJson.MAPPER.createObjectNode().put("type", "object");
            empty.putObject("properties");
            return empty;
        }
        if (!schema.isObject() || schema.has("type") && !schema.path("type").asText("").equals("object")) {
            throw ApiException.invalid(where, "Invalid schema for '" + where + "': it must be a JSON schema of "
                    + "\"type\": \"object\".");
        }
        return schema;
    }

    /** {@code tool_choice}, else the legacy {@code function_call}; null when neither is given. */
    static ToolChoice toolChoice(RequestReader r, List<Tool> tools) {
        String field = r.node("tool_choice") != null ? "tool_choice" : "function_call";
        JsonNode choice = r.node(field);
        if (choice == null) {
            return null;
        }
        ToolChoice out;
        if (choice.isTextual()) {
            out = switch (choice.asText()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> ToolChoice.AUTO;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw ApiException.invalid(field, "Invalid value for '" + field + "': '" + choice.asText()
                        + "'. Supported values are: 'none', 'auto', 'required' or a named function.");
            };
        } else {
            RequestReader named = RequestReader.at(choice, field);
            // tool_choice: {"type": "function", "function": {"name": ...}}; function_call: {"name": ...}
            String name = field.equals("tool_choice")
                    ? RequestReader.at(choice.get("function"), field + ".function").requiredString("name")
                    : named.requiredString("name");
            out = ToolChoice.named(name);
        }
        if (out.mode() != ToolChoice.Mode.NONE && out.mode() != ToolChoice.Mode.AUTO && tools.isEmpty()) {
            throw ApiException.invalid(field, "'" + field + "' asks for a tool call, but the request has no 'tools'.");
        }
        if (out.mode() == ToolChoice.Mode.NAMED && tools.stream().noneMatch(t -> t.name().equals(out.name()))) {
            throw ApiException.invalid(field, "'" + field + "' names the tool '" + out.name() + "', which is not in 'tools'.");
        }
        return out;
    }

    /** {@code response_format}: null for text. */
    static ResponseFormat responseFormat(RequestReader r) {
        RequestReader format = r.object("response_format");
        if (format == null) {
            return null;
        }
        String type = format.requiredString("type");
        return switch (type) {
            case "text" -> null;
            case "json_object" -> ResponseFormat.JSON_OBJECT;
            case "json_schema" -> {
                RequestReader spec = format.object("json_schema");
                if (spec == null) {
                    throw ApiException.invalid("response_format.json_schema",
                            "Missing required parameter: 'response_format.json_schema'.");
                }
                JsonNode schema = spec.node("schema");
                if (schema == null) {
                    throw ApiException.invalid("response_format.json_schema.schema",
                            "Missing required parameter: 'response_format.json_schema.schema'.");
                }
                if (!schema.isObject()) {
                    throw RequestReader.wrongType("response_format.json_schema.schema", "a JSON schema object");
                }
                String name = spec.requiredString("name");
                if (!NAME.matcher(name).matches()) {
                    throw ApiException.invalid("response_format.json_schema.name", "Invalid 'response_format.json_schema.name': "
                            + "1 to 64 letters, digits, underscores and dashes.");
                }
                yield new ResponseFormat(ResponseFormat.Type.JSON_SCHEMA, name, spec.string("description", null), schema,
                        spec.node("strict") == null ? null : spec.bool("strict", false));
            }
            default -> throw ApiException.invalid("response_format.type", "Invalid value for 'response_format.type': '"
                    + type + "'. Supported values are: 'text', 'json_object' and 'json_schema'.");
        };
    }
}
