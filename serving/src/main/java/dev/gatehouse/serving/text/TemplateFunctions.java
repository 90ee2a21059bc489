package dev.gatehouse.serving.text;

import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.lang.reflect.Method;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;

/** The global functions transformers gives chat templates: raise_exception and strftime_now. */
final class TemplateFunctions {

    /** Thrown by raise_exception; jinjava records it as a template error, ChatTemplate rethrows it. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message, null, false, false);
        }
    }

    static final List<String> NAMES = List.of("raise_exception", "strftime_now");

    private TemplateFunctions() {}

    static List<ELFunctionDefinition> definitions() {
        return List.of(define("raise_exception", "raiseException"), define("strftime_now", "strftimeNow"));
    }

    static String raiseException(String message) {
        throw new Raised(message);
    }

    /** Python's datetime.now().strftime(format), with the C locale's English names. */
    static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format, Locale.ENGLISH);
    }

    private static ELFunctionDefinition define(String name, String javaName) {
        try {
            Method method = TemplateFunctions.class.getDeclaredMethod(javaName, String.class);
            method.setAccessible(true); // this class is package-private; jinjava calls it reflectively
            return new ELFunctionDefinition("", name, method);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }
}
