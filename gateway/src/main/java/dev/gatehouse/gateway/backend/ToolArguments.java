package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.IOException;

/**
 * A tool call's arguments (OpenAI's JSON text) as the JSON object that Anthropic, Gemini and
 * Bedrock take; blank arguments are an empty object, anything but an object is a 400 naming {@code param}.
 */
public final class ToolArguments {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ToolArguments() {}

    public static JsonNode asObject(String arguments, String param) {
        if (arguments.isBlank()) {
            return MAPPER.createObjectNode();
        }
        try {
            JsonNode input = MAPPER.readTree(arguments);
            if (input != null && input.isObject()) {
                return input;
            }
        } catch (IOException e) {
            // below
        }
        throw ApiException.invalid(param, "'" + param + "' must be a JSON object to be sent to this model's provider.");
    }
}
