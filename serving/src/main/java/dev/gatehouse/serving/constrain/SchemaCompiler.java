package dev.gatehouse.serving.constrain;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema into a {@link Grammar}: the subset OpenAI's strict structured outputs take. Objects
 * ({@code properties}, {@code required}, {@code additionalProperties}), arrays ({@code items},
 * {@code minItems}, {@code maxItems}), strings ({@code enum}, {@code const}, {@code minLength},
 * {@code maxLength}, {@code format} date-time / date / uuid / email), numbers and integers ({@code minimum},
 * {@code maximum}), booleans, null, {@code anyOf}, type lists ({@code ["string", "null"]}), and {@code $ref}
 * to {@code #}, {@code #/$defs/...} or {@code #/definitions/...}, recursion included. Annotations (title,
 * description, default, examples, ...) are ignored; any other keyword is refused with an
 * {@link UnsupportedSchemaException} naming it.
 *
 * <p>Properties are written in the order the schema declares them, and only declared ones; a property that is
 * not required may be left out.
 */
public final class SchemaCompiler {
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");

    private final JsonNode root;
    private final Map<String, Grammar.Ref> refs = new HashMap<>();

    private SchemaCompiler(JsonNode root) {
        this.root = root;
    }

    /** The grammar of documents valid under {@code schema}. */
    public static Grammar compile(JsonNode schema) {
        SchemaCompiler c = new SchemaCompiler(schema);
        Grammar g = c.node(schema, "#");
        for (Map.Entry<String, Grammar.Ref> e : c.refs.entrySet()) { // {"$ref": "#/$defs/a"} where a is that again
            Grammar t = e.getValue().target;
            for (int hops = 0; t instanceof Grammar.Ref r; hops++) {
                if (hops > c.refs.size()) {
                    throw new UnsupportedSchemaException("'$ref' " + e.getKey() + " refers only to itself");
                }
                t = r.target;
            }
        }
        return g;
    }

    private Grammar node(JsonNode s, String at) {
        if (s.isBoolean()) {
            if (!s.booleanValue()) {
                throw unsupported("false", at, "a schema of false allows no value");
            }
            return Grammar.ANY;
        }
        if (!s.isObject()) {
            throw new UnsupportedSchemaException("the schema at " + at + " is not an object");
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!ANNOTATIONS.contains(k) && !isKnown(k)) {
                throw unsupported(k, at, null);
            }
        }
        if (s.has("$ref")) {
            return ref(s.get("$ref").asText(), at);
        }
        if (s.has("const")) {
            return literals(List.of(s.get("const")));
        }
        if (s.has("enum")) {
            if (!s.get("enum").isArray() || s.get("enum").isEmpty()) {
                throw new UnsupportedSchemaException("'enum' at " + at + " must be a non-empty array");
            }
            List<JsonNode> values = new ArrayList<>();
            s.get("enum").forEach(values::add);
            return literals(values);
        }
        if (s.has("anyOf")) {
            JsonNode options = s.get("anyOf");
            if (!options.isArray() || options.isEmpty()) {
                throw new UnsupportedSchemaException("'anyOf' at " + at + " must be a non-empty array");
            }
            List<Grammar> out = new ArrayList<>();
            for (int i = 0; i < options.size(); i++) {
                out.add(node(options.get(i), at + "/anyOf/" + i));
            }
            return new Grammar.AnyOf(out);
        }
        JsonNode type = s.get("type");
        if (type == null) {
            if (s.has("properties") || s.has("additionalProperties") || s.has("required")) {
                return typed(s, "object", at);
            }
            if (s.has("items")) {
                return typed(s, "array", at);
            }
            return Grammar.ANY;
        }
        if (type.isArray()) {
            List<Grammar> out = new ArrayList<>();
            for (JsonNode t : type) {
                out.add(typed(s, t.asText(), at));
            }
            return out.size() == 1 ? out.get(0) : new Grammar.AnyOf(out);
        }
        return typed(s, type.asText(), at);
    }

    private static boolean isKnown(String keyword) {
        return switch (keyword) {
            case "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum",
                 "const", "minLength", "maxLength", "format", "minimum", "maximum", "anyOf", "$ref" -> true;
            default -> false;
        };
    }

    private Grammar typed(JsonNode s, String type, String at) {
        if (!TYPES.contains(type)) {
            throw new UnsupportedSchemaException("unknown type '" + type + "' at " + at);
        }
        return switch (type) {
            case "object" -> object(s, at);
            case "array" -> {
                JsonNode items = s.get("items");
                int min = count(s, "minItems", 0, at);
                int max = count(s, "maxItems", -1, at);
                checkRange(min, max, "minItems", "maxItems", at);
                yield new Grammar.Arr(items == null ? Grammar.ANY : node(items, at + "/items"), min, max);
            }
            case "string" -> {
                StringFormat format = null;
                if (s.has("format")) {
                    format = StringFormat.of(s.get("format").asText());
                    if (format == null) {
                        throw new UnsupportedSchemaException("unsupported keyword 'format' value '" + s.get("format").asText()
                                + "' at " + at + " (supported formats: " + StringFormat.supported() + ")");
                    }
                }
                int min = count(s, "minLength", 0, at);
                int max = count(s, "maxLength", -1, at);
                checkRange(min, max, "minLength", "maxLength", at);
                yield new Grammar.Str(min, max, format);
            }
            case "number", "integer" -> {
                BigDecimal min = bound(s, "minimum", at);
                BigDecimal max = bound(s, "maximum", at);
                if (min != null && max != null && min.compareTo(max) > 0) {
                    throw new UnsupportedSchemaException("'minimum' at " + at + " is above 'maximum': no number fits");
                }
                yield new Grammar.Num(type.equals("integer"), min, max);
            }
            case "boolean" -> Grammar.Literals.of("true", "false");
            default -> Grammar.Literals.of("null");
        };
    }

    private Grammar object(JsonNode s, String at) {
        List<Grammar.Property> properties = new ArrayList<>();
        Set<String> required = new HashSet<>();
        for (JsonNode r : s.path("required")) {
            required.add(r.asText());
        }
        JsonNode props = s.path("properties");
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            properties.add(new Grammar.Property(p.getKey(), node(p.getValue(), at + "/properties/" + p.getKey()),
                    required.contains(p.getKey())));
        }
        for (String r : required) {
            if (!props.has(r)) {
                throw new UnsupportedSchemaException("'required' at " + at + " names '" + r + "', which is not in its properties");
            }
        }
        JsonNode additional = s.get("additionalProperties");
        Grammar extra;
        if (!properties.isEmpty() || (additional != null && additional.isBoolean() && !additional.booleanValue())) {
            extra = null; // only declared keys are written
        } else {
            extra = additional == null || additional.isBoolean() ? Grammar.ANY : node(additional, at + "/additionalProperties");
        }
        return new Grammar.Obj(properties, extra);
    }

    private Grammar ref(String ref, String at) {
        Grammar.Ref r = refs.get(ref);
        if (r != null) {
            return r;
        }
        JsonNode target;
        if (ref.equals("#")) {
            target = root;
        } else if (ref.startsWith("#/")) {
            target = root.at(ref.substring(1));
        } else {
            throw new UnsupportedSchemaException("'$ref' at " + at + " is '" + ref + "'; only references inside the schema (#/...) are supported");
        }
        if (target.isMissingNode()) {
            throw new UnsupportedSchemaException("'$ref' at " + at + " points to '" + ref + "', which the schema does not have");
        }
        r = new Grammar.Ref();
        refs.put(ref, r);
        r.target = node(target, ref);
        return r;
    }

    private static Grammar literals(List<JsonNode> values) {
        List<byte[]> bytes = new ArrayList<>();
        List<Integer> tags = new ArrayList<>();
        for (JsonNode v : values) {
            bytes.add(JsonText.of(v).getBytes(StandardCharsets.UTF_8));
            tags.add(tags.size());
        }
        return new Grammar.Literals(bytes, tags);
    }

    private static int count(JsonNode s, String keyword, int absent, String at) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return absent;
        }
        if (!v.canConvertToInt() || v.asInt() < 0 || !v.isIntegralNumber()) {
            throw new UnsupportedSchemaException("'" + keyword + "' at " + at + " must be a non-negative integer");
        }
        return v.asInt();
    }

    private static void checkRange(int min, int max, String minKeyword, String maxKeyword, String at) {
        if (max >= 0 && min > max) {
            throw new UnsupportedSchemaException("'" + minKeyword + "' at " + at + " is above '" + maxKeyword + "': nothing fits");
        }
    }

    private static BigDecimal bound(JsonNode s, String keyword, String at) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw new UnsupportedSchemaException("'" + keyword + "' at " + at + " must be a number");
        }
        return v.decimalValue();
    }

    private static UnsupportedSchemaException unsupported(String keyword, String at, String why) {
        return new UnsupportedSchemaException("unsupported JSON Schema keyword '" + keyword + "' at " + at
                + (why == null ? "; constrained decoding supports " + SUPPORTED : ": " + why));
    }

    /** The keywords this compiler holds an answer to, for error messages and the README. */
    public static final String SUPPORTED = "type, properties, required, additionalProperties, items, minItems, maxItems, "
            + "enum, const, minLength, maxLength, format, minimum, maximum, anyOf, $ref, $defs";
}
