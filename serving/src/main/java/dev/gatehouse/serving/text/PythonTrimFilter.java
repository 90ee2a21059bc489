package dev.gatehouse.serving.text;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.Objects;

/**
 * Jinja2's {@code trim(chars=None)}: Python's str.strip. Jinjava's trims only ASCII control
 * characters and spaces, so a no-break or ideographic space around a message would stay.
 */
final class PythonTrimFilter implements Filter {

    @Override
    public String getName() {
        return "trim";
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
        return PythonStrings.strip(Objects.toString(value, ""), args.length > 0 ? args[0] : null);
    }
}
