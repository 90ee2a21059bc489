package dev.gatehouse.serving.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;

/**
 * A jinjava interpreter that prints values as Jinja2 does ({@code str(value)}): a string exactly
 * as it is, booleans as {@code True} and {@code False}. Jinjava's own printing writes a string
 * through JSON and unquotes it again, so a control character in a message, such as BEL, would
 * reach the prompt as the six characters {@code \u0007}.
 */
final class PythonInterpreter extends JinjavaInterpreter {

    /** Makes these interpreters for jinjava (JinjavaConfig.withInterperterFactory). */
    static final InterpreterFactory FACTORY = new InterpreterFactory() {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PythonInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new PythonInterpreter(application, context, config);
        }
    };

    private PythonInterpreter(Jinjava application, Context context, JinjavaConfig config) {
        super(application, context, config);
    }

    private PythonInterpreter(JinjavaInterpreter orig) {
        super(orig);
    }

    @Override
    public String getAsString(Object value) {
        if (value instanceof CharSequence text) {
            return text.toString();
        }
        if (value instanceof Boolean b) {
            return b ? "True" : "False";
        }
        return super.getAsString(value);
    }
}
