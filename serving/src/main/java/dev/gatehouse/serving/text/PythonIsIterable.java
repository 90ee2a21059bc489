package dev.gatehouse.serving.text;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;

import java.util.Map;

/**
 * The Jinja2 expression test {@code is iterable} for chat templates (a jinjava {@link ExpTest}, not
 * a unit test): true for strings and dicts too, where jinjava's says false. Llama 3.x templates
 * write a tool result through tojson when it "is iterable", so a plain string result reaches the
 * prompt quoted, as it does under transformers.
 */
final class PythonIsIterable implements ExpTest {

    @Override
    public String getName() {
        return "iterable";
    }

    @Override
    public boolean evaluate(Object value, JinjavaInterpreter interpreter, Object... args) {
        return value instanceof CharSequence || value instanceof Iterable<?> || value instanceof Map<?, ?>
                || (value != null && value.getClass().isArray());
    }
}
