package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema -> Gemini's Schema (an OpenAPI 3.0 subset), for function parameters and
 * responseSchema. Kept: type, format, title, description, nullable, enum, properties, required,
 * items, anyOf, min/max items, properties, length and value, pattern, default, example. A type list
 * with "null" becomes the type plus {@code nullable}. Dropped, as they only constrain or annotate
 * ({@code additionalProperties}, {@code $schema}, {@code strict}, {@code examples}, ...). Refused
 * (400 unsupported, naming the param, so another target may serve it): what changes the shape and
 * Gemini cannot say: {@code $ref}/{@code $defs}, {@code oneOf}, {@code allOf}, {@code not},
 * {@code const}, {@code if}/{@code then}/{@code else}, tuple {@code prefixItems}.
 */
final class GeminiSchema {
    private static final Set<String> KEPT = Set.of("type", "format", "title", "description", "nullable", "enum",
            "required", "minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength", "pattern",
            "minimum", "maximum", "default", "example", "propertyOrdering");
    private static final Set<String> REFUSED = Set.of("$ref", "$defs", "definitions", "oneOf", "allOf", "not", "const",
            "if", "then", "else", "prefixItems", "patternProperties", "dependentSchemas");

    private GeminiSchema() {}

    static ObjectNode convert(JsonNode schema, String param) {
        ObjectNode out = GeminiRequestTranslator.MAPPER.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String key = f.getKey();
            JsonNode value = f.getValue();
            if (REFUSED.contains(key)) {
                throw ApiException.unsupported(param, "This model's provider (Gemini) does not support the JSON-schema "
                        + "keyword '" + key + "' in '" + param + "'.");
            }
            switch (key) {
                case "type" -> type(value, out);
                case "properties" -> {
                    ObjectNode properties = out.putObject("properties");
                    value.fields().forEachRemaining(p -> properties.set(p.getKey(), convert(p.getValue(), param)));
                }
                case "items" -> out.set("items", convert(value, param));
                case "anyOf" -> {
                    ArrayNode any = out.putArray("anyOf");
                    value.forEach(s -> any.add(convert(s, param)));
                }
                default -> {
                    if (KEPT.contains(key)) {
                        out.set(key, value);
                    }
                }
            }
        }
        return out;
    }

    /** "string", or ["string", "null"] as string + nullable. */
    private static void type(JsonNode type, ObjectNode out) {
        if (!type.isArray()) {
            out.set("type", type);
            return;
        }
        for (JsonNode t : type) {
            if (t.asText().equals("null")) {
                out.put("nullable", true);
            } else {
                out.put("type", t.asText());
            }
        }
    }
}
