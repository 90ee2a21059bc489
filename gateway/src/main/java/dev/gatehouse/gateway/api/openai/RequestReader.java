package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to a JSON request body that answers every wrong type with OpenAI's 400 naming the
 * field. Absent and null fields take the default, as OpenAI's API does.
 */
final class RequestReader {
    private final JsonNode body;

    RequestReader(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "The request body must be a JSON object.");
        }
        this.body = body;
    }

    JsonNode node(String field) {
        JsonNode n = body.get(field);
        return n == null || n.isNull() ? null : n;
    }

    String string(String field, String fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw wrongType(field, "a string");
        }
        return n.asText();
    }

    String requiredString(String field) {
        String s = string(field, null);
        if (s == null || s.isEmpty()) {
            throw ApiException.invalid(field, "Missing required parameter: '" + field + "'.");
        }
        return s;
    }

    boolean bool(String field, boolean fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw wrongType(field, "a boolean");
        }
        return n.asBoolean();
    }

    Integer integer(String field, Integer fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw wrongType(field, "an integer");
        }
        return n.asInt();
    }

    Long longValue(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw wrongType(field, "an integer");
        }
        return n.asLong();
    }

    float number(String field, float fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw wrongType(field, "a number");
        }
        return (float) n.asDouble();
    }

    /** A string or a list of strings (stop, prompt). */
    List<String> strings(String field) {
        JsonNode n = node(field);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
            return out;
        }
        if (!n.isArray()) {
            throw wrongType(field, "a string or an array of strings");
        }
        for (JsonNode item : n) {
            if (!item.isTextual()) {
                throw wrongType(field, "a string or an array of strings");
            }
            out.add(item.asText());
        }
        return out;
    }

    static ApiException wrongType(String field, String expected) {
        return ApiException.invalid(field, "Invalid type for '" + field + "': expected " + expected + ".");
    }
}
