package dev.gatehouse.serving.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.core.util.Separators.Spacing;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tojson} filter as transformers defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}. Jinjava's own
 * tojson writes compact JSON ({"a":1}); models were trained on Python's spacing ({"a": 1}), and
 * tool definitions reach the prompt through this filter.
 */
final class PythonJsonFilter implements Filter {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
        return filter(value, interpreter, args, Map.of());
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : (args.length > 0 ? args[0] : null);
        ObjectWriter writer = JSON.writer(printer(indent == null ? -1 : Integer.parseInt(indent.toString())));
        if (Boolean.parseBoolean(String.valueOf(kwargs.get("sort_keys")))) {
            writer = writer.with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        }
        if (Boolean.parseBoolean(String.valueOf(kwargs.get("ensure_ascii")))) {
            writer = writer.with(JsonWriteFeature.ESCAPE_NON_ASCII);
        }
        try {
            return writer.writeValueAsString(plain(value));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("tojson: " + e.getOriginalMessage(), e);
        }
    }

    /** Python's separators: ", " and ": " on one line; "," and ": " with newlines when indented. */
    private static DefaultPrettyPrinter printer(int indent) {
        Separators separators = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Spacing.AFTER)
                .withObjectEntrySpacing(indent < 0 ? Spacing.AFTER : Spacing.NONE)
                .withArrayValueSpacing(indent < 0 ? Spacing.AFTER : Spacing.NONE)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        DefaultPrettyPrinter.Indenter indenter = indent < 0
                ? new DefaultPrettyPrinter.NopIndenter()
                : new DefaultIndenter(" ".repeat(indent), "\n");
        return new DefaultPrettyPrinter(separators).withObjectIndenter(indenter).withArrayIndenter(indenter);
    }

    /** Template values to plain maps, lists and scalars; jinjava wraps strings and collections. */
    private static Object plain(Object value) {
        if (value == null || value instanceof Number || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
            return out;
        }
        if (value instanceof Collection<?> items) {
            List<Object> out = new ArrayList<>();
            items.forEach(item -> out.add(plain(item)));
            return out;
        }
        if (value instanceof Object[] items) {
            return plain(Arrays.asList(items));
        }
        return value.toString();
    }
}
