package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to a JSON request body that answers every wrong type with a 400 naming the field
 * (every dialect's decoder uses it; each encodes the 400 in its own error shape). Absent and null fields take the default, as OpenAI's API does.
 */
public final class RequestReader {
    private final JsonNode body;
    /** "" for the body; "stream_options." for a nested object, so errors name the full param. */
    private final String prefix;

    public RequestReader(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "The request body must be a JSON object.");
        }
        this.body = body;
        this.prefix = "";
    }

    private RequestReader(JsonNode body, String prefix) {
        this.body = body;
        this.prefix = prefix;
    }

    /** The object at {@code where} (e.g. "tools[1]"), its errors naming fields below it; a 400 when it is not an object. */
    public static RequestReader at(JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw wrongType(where, "an object");
        }
        return new RequestReader(n, where + ".");
    }

    /** A nested object such as stream_options; null when absent. */
    public RequestReader object(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (!n.isObject()) {
            throw wrongType(prefix + field, "an object");
        }
        return new RequestReader(n, prefix + field + ".");
    }

    public JsonNode node(String field) {
        JsonNode n = body.get(field);
        return n == null || n.isNull() ? null : n;
    }

    public String string(String field, String fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw wrongType(prefix + field, "a string");
        }
        return n.asText();
    }

    public String requiredString(String field) {
        String s = string(field, null);
        if (s == null || s.isEmpty()) {
            throw ApiException.invalid(prefix + field, "Missing required parameter: '" + prefix + field + "'.");
        }
        return s;
    }

    public boolean bool(String field, boolean fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw wrongType(prefix + field, "a boolean");
        }
        return n.asBoolean();
    }

    public Integer integer(String field, Integer fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isIntegralNumber()) {
            throw wrongType(prefix + field, "an integer");
        }
        if (!n.canConvertToInt()) { // an integer, just not one any limit here could allow: say so, not "wrong type"
            throw outOfRange(prefix + field, n);
        }
        return n.asInt();
    }

    public Long longValue(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber()) {
            throw wrongType(prefix + field, "an integer");
        }
        if (!n.canConvertToLong()) {
            throw outOfRange(prefix + field, n);
        }
        return n.asLong();
    }

    public float number(String field, float fallback) {
        JsonNode n = node(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw wrongType(prefix + field, "a number");
        }
        return (float) n.asDouble();
    }

    /** A string or a list of strings (stop, prompt). */
    public List<String> strings(String field) {
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
            throw wrongType(prefix + field, "a string or an array of strings");
        }
        for (JsonNode item : n) {
            if (!item.isTextual()) {
                throw wrongType(prefix + field, "a string or an array of strings");
            }
            out.add(item.asText());
        }
        return out;
    }

    private static ApiException outOfRange(String field, JsonNode n) {
        String digits = n.asText();
        return ApiException.invalid(field, "Invalid '" + field + "': "
                + (digits.length() > 30 ? digits.substring(0, 30) + "..." : digits) + " is out of range.");
    }

    public static ApiException wrongType(String field, String expected) {
        return ApiException.invalid(field, "Invalid type for '" + field + "': expected " + expected + ".");
    }
}
